/**
 * The CLI in PostgreSQL mode as an operator runs it: from a folder of their own (not the
 * project's). It ran fine through the module APIs the other PostgreSQL tests use, and failed as a
 * command on a worker thread that looked for `tsx` in the current folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
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
