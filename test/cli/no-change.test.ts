import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS } from '../support/corpus.js';
import { tempDir, writeFiles } from '../support/stack.js';
import { runCli } from './support.js';

let root: string;
const articles = () => path.join(root, 'articles');
const log = () => {
  const file = path.join(root, 'state', 'newsdesk.log');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
};
const modelLoads = () =>
  log()
    .split('\n')
    .filter((l) => l.includes('"embedding.loaded"')).length;

/** Sets every article file's time an hour back, as files that have sat in the folder for a while. */
function age(): void {
  const then = new Date(Date.now() - 3_600_000);
  for (const f of fs.readdirSync(articles())) fs.utimesSync(path.join(articles(), f), then, then);
}

async function index(env: Record<string, string> = {}) {
  const r = await runCli(root, ['index'], { env });
  expect(r.code, r.stderr).toBe(0);
  return r;
}

beforeAll(() => {
  root = tempDir('no-change-');
  writeFiles(articles(), CORPUS);
  age();
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('a no-change npm run index', () => {
  it('answers from file sizes and times without reading the articles or loading the model, and says how long the whole command took', async () => {
    const first = await index();
    expect(first.stdout).toMatch(/5 added/);
    expect(first.stdout).toMatch(/Whole command: \d/);
    const loads = modelLoads();
    expect(loads).toBe(1);

    const again = await index();
    expect(again.stdout).toMatch(/Indexed 5 articles \(\d+ chunks\) in \d+ ms: 0 added, 0 changed, 0 removed, 5 unchanged, 0 skipped\./);
    expect(again.stdout).toMatch(/Nothing changed/);
    expect(again.stdout).toMatch(/Whole command: \d/);
    expect(again.stderr).not.toContain('Reading the articles');
    expect(modelLoads()).toBe(loads);

    // A full rebuild compares nothing, but what it leaves is recorded like any run's.
    expect((await runCli(root, ['index', '--full'])).stdout).toMatch(/5 added/);
    expect((await index()).stdout).toMatch(/Nothing changed/);
  });

  it('notices an edited, added or removed file, other settings and a replaced index, and compares everything then', async () => {
    await index();
    fs.appendFileSync(path.join(articles(), 'chess.md'), '\nThe final was replayed on Sunday.\n');
    expect((await index()).stdout).toMatch(/0 added, 1 changed, 0 removed/);
    age();
    await index(); // records the aged times
    expect((await index()).stdout).toMatch(/Nothing changed/);

    writeFiles(articles(), { 'notes.md': '# Floods close roads\n\nHeavy rain closed three passes.\n' });
    expect((await index()).stdout).toMatch(/1 added, 0 changed, 0 removed/);
    fs.rmSync(path.join(articles(), 'notes.md'));
    expect((await index()).stdout).toMatch(/0 added, 0 changed, 1 removed/);
    age();
    await index();

    const rechunked = await index({ CHUNK_MAX_TOKENS: '200' });
    expect(rechunked.stdout).not.toMatch(/Nothing changed/);
    expect(rechunked.stdout).toMatch(/5 added/); // rebuilt for the new chunk size
    expect((await index({ CHUNK_MAX_TOKENS: '200' })).stdout).toMatch(/Nothing changed/);

    // A stored source (chat or feed article under STATE_DIR/sources) is part of the index too.
    writeFiles(path.join(root, 'state', 'sources'), { 'note.txt': 'kept' });
    expect((await index({ CHUNK_MAX_TOKENS: '200' })).stdout).not.toMatch(/Nothing changed/);

    // The serving generation's files were rewritten since the record (here only touched).
    const current = fs.readFileSync(path.join(root, 'index-data', 'CURRENT'), 'utf8').trim();
    fs.utimesSync(path.join(root, 'index-data', current, 'manifest.json'), new Date(), new Date());
    expect((await index({ CHUNK_MAX_TOKENS: '200' })).stdout).not.toMatch(/Nothing changed/);
  });
});
