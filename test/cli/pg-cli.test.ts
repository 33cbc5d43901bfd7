/**
 * The CLI in PostgreSQL mode as an operator runs it: from a folder of their own (not the
 * project's), and on a replica whose database is down at start-up but which has a kept local
 * copy of the index. Both ran fine through the module APIs the other PostgreSQL tests use, and
 * failed as commands: the first on a worker thread that looked for `tsx` in the current folder,
 * the second on the start-up sync and the desk's pruning, which both needed the database.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FlakyProxy } from '../support/flaky-proxy.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { mdArticle, tempDir, writeFiles } from '../support/stack.js';
import { runCli } from './support.js';

const QUESTION = 'How much did the Altavista bridge cost?';
let db: TestDatabase;
let root: string;

beforeAll(async () => {
  db = await createTestDatabase();
  root = tempDir('pg-cli-');
  writeFiles(path.join(root, 'articles'), {
    'bridge.md': mdArticle(
      'Altavista bridge opens',
      '2024-06-02',
      'The new Altavista bridge opened to traffic on Friday. The bridge cost 42 million euros to build.',
    ),
    'budget.md': mdArticle('Council passes budget', '2024-06-03', 'The council passed its yearly budget on Monday.'),
  });
}, 60_000);

afterAll(async () => {
  await db?.drop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

it('answers from a folder outside the project', async () => {
  const r = await runCli(root, ['ask', QUESTION], { env: { DATABASE_URL: db.url, EMBEDDING_PROVIDER: 'none' } });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('42 million euros');
}, 120_000);

it('answers from its kept copy while the database is down, and says the folder was not synced', async () => {
  const { proxy, url } = await FlakyProxy.inFrontOf(db.url);
  try {
    // A replica of its own: its own index folder, kept from a run while the database was up.
    const env = {
      DATABASE_URL: url,
      EMBEDDING_PROVIDER: 'none',
      DATABASE_CONNECT_TIMEOUT_MS: '2000',
      INDEX_DIR: path.join(root, 'replica-index'),
    };
    const first = await runCli(root, ['ask', QUESTION], { env });
    expect(first.code, first.stderr).toBe(0);

    proxy.down();
    const away = await runCli(root, ['ask', QUESTION], { env });
    expect(away.code, away.stderr).toBe(0);
    expect(away.stdout).toContain('42 million euros');
    expect(away.stdout).toContain('Altavista bridge opens');
    expect(away.stderr).toMatch(/not synced with .*the database is unreachable/);
  } finally {
    await proxy.stop();
  }
}, 120_000);
