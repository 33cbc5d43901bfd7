import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import type { EmbeddedServer } from './embedded-postgres.js';

/** The embedded PostgreSQL shared by every project of this run (setup runs once per project). */
interface SharedServer {
  started: Promise<EmbeddedServer>;
  users: number;
}
const SHARED = Symbol.for('newsdesk.test.embeddedPostgres');
const registry = globalThis as { [SHARED]?: SharedServer };

/**
 * Runs once around the suite (once per project). Before: builds the offline fixture models
 * (embedder and cross-encoder) if they are missing, and, unless `TEST_DATABASE_URL` names a
 * server, starts a throwaway embedded PostgreSQL that test files get their own databases from
 * (test/support/postgres.ts), and makes the run's own temp folder that `tempDir()` creates test
 * folders in. After: stops that server, fails the run if a test left a folder behind in the run's
 * temp folder (then removes it), and fails the run if any test changed the mode or owner of the
 * system temp folder. Tests run as root here, where nothing stops a
 * chmod of a shared path, and a damaged /tmp breaks the next program that needs it (as a 0755
 * /tmp once did).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const before = tempFolderState();
  const { ensureFixtureModel, ensureFixtureReranker } = await import('./fixture-model.js');
  await ensureFixtureModel();
  await ensureFixtureReranker();
  const server = process.env.TEST_DATABASE_URL ? null : await sharedEmbeddedServer();
  project.provide('postgresAdminUrl', server?.url ?? '');
  acquireRunTempDir();
  return async () => {
    if (server) await releaseEmbeddedServer();
    releaseRunTempDir();
    const after = tempFolderState();
    if (after !== before) {
      throw new Error(
        `A test changed the system temp folder ${os.tmpdir()}: ${before} before the run, ${after} after. Tests must only touch folders they created.`,
      );
    }
  };
}

async function sharedEmbeddedServer(): Promise<EmbeddedServer> {
  let shared = registry[SHARED];
  if (!shared) {
    shared = { started: import('./embedded-postgres.js').then((m) => m.startEmbeddedPostgres()), users: 0 };
    registry[SHARED] = shared;
  }
  shared.users++;
  return shared.started;
}

async function releaseEmbeddedServer(): Promise<void> {
  const shared = registry[SHARED];
  if (!shared || --shared.users > 0) return;
  delete registry[SHARED];
  await (await shared.started).stop();
}

const RUN_TMP = Symbol.for('newsdesk.test.runTempDir');
const runTmp = globalThis as { [RUN_TMP]?: { dir: string; users: number } };

/**
 * One temp folder per run (shared by both projects), named in NEWSDESK_TEST_TMPDIR, which test
 * workers and their child processes inherit: `tempDir()` makes its folders inside it, so a test
 * that forgets to remove one is caught here instead of leaving it in the system temp folder.
 */
function acquireRunTempDir(): void {
  let shared = runTmp[RUN_TMP];
  if (!shared) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'newsdesk-test-run-'));
    // Our own folder: child processes of other users (the `nobody` tests) may need to reach theirs.
    fs.chmodSync(dir, 0o755);
    shared = { dir, users: 0 };
    runTmp[RUN_TMP] = shared;
    process.env.NEWSDESK_TEST_TMPDIR = dir;
  }
  shared.users++;
}

function releaseRunTempDir(): void {
  const shared = runTmp[RUN_TMP];
  if (!shared || --shared.users > 0) return;
  delete runTmp[RUN_TMP];
  delete process.env.NEWSDESK_TEST_TMPDIR;
  const left = fs.readdirSync(shared.dir);
  fs.rmSync(shared.dir, { recursive: true, force: true });
  if (left.length > 0) {
    throw new Error(
      `Tests left ${left.length} temp folder(s) behind (${left.slice(0, 5).join(', ')}); each test must remove what it creates.`,
    );
  }
}

function tempFolderState(): string {
  const st = fs.statSync(os.tmpdir());
  return `mode ${(st.mode & 0o7777).toString(8)}, owner ${st.uid}:${st.gid}`;
}
