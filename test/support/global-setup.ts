import fs from 'node:fs';
import os from 'node:os';
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
 * (test/support/postgres.ts). After: stops that server, and fails the run if any test changed
 * the mode or owner of the system temp folder. Tests run as root here, where nothing stops a
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
  return async () => {
    if (server) await releaseEmbeddedServer();
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

function tempFolderState(): string {
  const st = fs.statSync(os.tmpdir());
  return `mode ${(st.mode & 0o7777).toString(8)}, owner ${st.uid}:${st.gid}`;
}
