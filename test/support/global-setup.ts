import fs from 'node:fs';
import os from 'node:os';

/**
 * Runs once around the suite. Before: builds the offline fixture models (embedder and
 * cross-encoder) if they are missing. After: fails the run if any test changed the mode or
 * owner of the system temp folder. Tests run as root here, where nothing stops a chmod of a
 * shared path, and a damaged /tmp breaks the next program that needs it (as a 0755 /tmp once did).
 */
export default async function setup(): Promise<() => void> {
  const before = tempFolderState();
  const { ensureFixtureModel, ensureFixtureReranker } = await import('./fixture-model.js');
  await ensureFixtureModel();
  await ensureFixtureReranker();
  return () => {
    const after = tempFolderState();
    if (after !== before) {
      throw new Error(
        `A test changed the system temp folder ${os.tmpdir()}: ${before} before the run, ${after} after. Tests must only touch folders they created.`,
      );
    }
  };
}

function tempFolderState(): string {
  const st = fs.statSync(os.tmpdir());
  return `mode ${(st.mode & 0o7777).toString(8)}, owner ${st.uid}:${st.gid}`;
}
