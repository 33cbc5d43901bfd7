/**
 * What is served is what the folder holds, and a run never empties the index by accident, through
 * the real CLI: `start`/`chat`/`ask` sync ARTICLES_DIR before serving and name the folder, count
 * and newest date; an index built from another folder is reported and resynced; a missing folder
 * stops the command; removing every article, or more than half, needs --allow-mass-delete.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IndexReader } from '../../src/store/reader.js';
import { CORPUS } from '../support/corpus.js';
import { mdArticle, tempDir, writeFiles } from '../support/stack.js';
import { runCli } from './support.js';

const SEED = fs.readFileSync('seeds/000_cc2b64a9889106ac.txt', 'utf8');
const QUESTION = 'Who is Kolokoltsev meeting at the UN?';
let root: string;

const dir = (name: string) => path.join(root, name);
/** Articles and folder of the index on disk. */
function indexed(): { articles: number; articlesDir: string | null | undefined } {
  const r = IndexReader.open(dir('index-data'));
  if (!(r instanceof IndexReader)) throw new Error(r.message);
  const out = { articles: r.manifest.counts.articles, articlesDir: r.manifest.articlesDir };
  r.close();
  return out;
}
const lastLine = (s: string) => s.trim().split('\n').at(-1);

beforeEach(() => {
  root = tempDir('newsbot-serving-');
  writeFiles(dir('corpus'), CORPUS);
  writeFiles(dir('seeds'), { '000_cc2b64a9889106ac.txt': SEED, 'chess.md': CORPUS['chess.md']! });
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('serving what the folder holds', () => {
  it('chat over an index built from another folder reports it in one line, resyncs, and answers from ARTICLES_DIR', async () => {
    const built = await runCli(root, ['index'], { env: { ARTICLES_DIR: dir('corpus') } });
    expect(built.code, built.stderr).toBe(0);
    const { stdout, stderr, code } = await runCli(root, ['chat'], { env: { ARTICLES_DIR: dir('seeds') }, input: `${QUESTION}\n` });
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('The index holds 5 articles from corpus, not ARTICLES_DIR; syncing it with seeds.');
    expect(stderr).toContain('Serving 2 articles from seeds (newest 2024-06-27).');
    expect(stdout).toContain('Jean-Pierre Lacroix');
    expect(indexed()).toEqual({ articles: 2, articlesDir: dir('seeds') });
  });

  it('start picks up an article added to the folder since the last index, without npm run index', async () => {
    expect((await runCli(root, ['index'], { env: { ARTICLES_DIR: dir('seeds') } })).code).toBe(0);
    writeFiles(dir('seeds'), {
      'harbour.md': mdArticle('Harbour strike ends', '2024-08-01', 'Dock workers ended a strike at the harbour.'),
    });
    const { stdout, stderr, code } = await runCli(root, ['start'], {
      env: { ARTICLES_DIR: dir('seeds') },
      input: 'Who ended a strike at the harbour?\n',
    });
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/1 added, 0 changed, 0 removed, 2 unchanged/);
    expect(stderr).toContain('Serving 3 articles from seeds (newest 2024-08-01).');
    expect(stdout).toContain('Harbour strike ends');
  });

  it('an empty folder is served with a banner that says where and why there is nothing', async () => {
    fs.mkdirSync(dir('empty'));
    const { stderr, code } = await runCli(root, ['chat'], { env: { ARTICLES_DIR: dir('empty') }, input: '' });
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('Serving 0 articles: empty holds no articles (.txt, .md, .html, .pdf, .json, .jsonl).');
  });

  it('a missing ARTICLES_DIR stops start and index with only its one line and a non-zero exit, even with an index on disk', async () => {
    expect((await runCli(root, ['index'], { env: { ARTICLES_DIR: dir('seeds') } })).code).toBe(0);
    const line = `Articles folder not found: ${dir('gone')}. Create it or set ARTICLES_DIR to the folder with your articles.`;
    // The index on disk is from another folder: no "syncing it with" or "Reading the articles…" before the one line.
    for (const args of [['start'], ['index'], ['ask', QUESTION]]) {
      const { stderr, stdout, code } = await runCli(root, args, { env: { ARTICLES_DIR: dir('gone') }, input: `${QUESTION}\n` });
      expect(code, args[0]).toBe(1);
      expect(stderr, args[0]).toBe(`${line}\n`);
      expect(stdout).toBe('');
    }
  });
});

describe('never empty by accident', () => {
  it('index and start refuse to remove every article; --allow-mass-delete confirms', async () => {
    expect((await runCli(root, ['index'], { env: { ARTICLES_DIR: dir('seeds') } })).code).toBe(0);
    for (const f of fs.readdirSync(dir('seeds'))) fs.rmSync(path.join(dir('seeds'), f));
    const env = { ARTICLES_DIR: dir('seeds') };

    const refused = await runCli(root, ['index'], { env });
    expect(refused.code).toBe(1);
    expect(lastLine(refused.stderr)).toBe(
      `Refusing to remove all of the 2 indexed articles: ${dir('seeds')} holds 0 articles now. Nothing was removed; check ARTICLES_DIR. ` +
        'If the removal is intended, run again with --allow-mass-delete (npm run index -- --allow-mass-delete).',
    );
    expect(refused.stdout).toBe('');
    const start = await runCli(root, ['start'], { env, input: `${QUESTION}\n` });
    expect(start.code).toBe(1);
    expect(lastLine(start.stderr)).toMatch(/^Refusing to remove all of the 2 indexed articles/);
    // npm keeps a flag given without `--`: the run says so and still refuses.
    const swallowed = await runCli(root, ['index'], { env: { ...env, npm_config_allow_mass_delete: 'true' } });
    expect(swallowed.code).toBe(1);
    expect(swallowed.stderr).toMatch(/npm took --allow-mass-delete for itself/);
    expect(indexed().articles).toBe(2);

    const confirmed = await runCli(root, ['index', '--allow-mass-delete'], { env });
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(confirmed.stdout).toMatch(/Indexed 0 articles .*2 removed/);
    expect(indexed().articles).toBe(0);
  });

  it('a switch to another folder with none of the same articles resyncs without the flag; a switch to an empty folder is refused', async () => {
    // The newcomer's path: index another corpus, then start on the default folder again.
    writeFiles(dir('other'), {
      'harbour.md': mdArticle('Harbour strike ends', '2024-08-01', 'Dock workers ended a strike at the harbour.'),
    });
    expect((await runCli(root, ['index'], { env: { ARTICLES_DIR: dir('corpus') } })).code).toBe(0);
    const switched = await runCli(root, ['index'], { env: { ARTICLES_DIR: dir('other') } });
    expect(switched.code, switched.stderr).toBe(0);
    expect(switched.stdout).toMatch(/1 added, 0 changed, 5 removed/);
    const back = await runCli(root, ['start'], { env: { ARTICLES_DIR: dir('seeds') }, input: `${QUESTION}\n` });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).toContain('The index holds 1 article from other, not ARTICLES_DIR; syncing it with seeds.');
    expect(back.stdout).toContain('Jean-Pierre Lacroix');
    expect(indexed()).toEqual({ articles: 2, articlesDir: dir('seeds') });

    fs.mkdirSync(dir('empty'));
    const empty = await runCli(root, ['start'], { env: { ARTICLES_DIR: dir('empty') }, input: `${QUESTION}\n` });
    expect(empty.code).toBe(1);
    expect(lastLine(empty.stderr)).toBe(
      `Refusing to remove all of the 2 indexed articles: ${dir('empty')} holds 0 articles now. Nothing was removed; check ARTICLES_DIR. ` +
        'If the removal is intended, run again with --allow-mass-delete (npm start -- --allow-mass-delete).',
    );
    expect(indexed().articles).toBe(2);
  });

  it('refuses to remove more than half of the articles, allows half', async () => {
    const env = { ARTICLES_DIR: dir('corpus') };
    expect((await runCli(root, ['index'], { env })).code).toBe(0);
    const gone = ['bridge.md', 'chess.md', 'rocket.md'];
    const saved = gone.map((f) => fs.readFileSync(path.join(dir('corpus'), f)));
    for (const f of gone) fs.rmSync(path.join(dir('corpus'), f));
    const refused = await runCli(root, ['index'], { env });
    expect(refused.code).toBe(1);
    expect(lastLine(refused.stderr)).toMatch(/^Refusing to remove 3 of the 5 indexed articles: .* holds 2 articles now\./);
    expect(indexed().articles).toBe(5);
    fs.writeFileSync(path.join(dir('corpus'), gone[0]!), saved[0]!);
    const allowed = await runCli(root, ['index'], { env });
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toMatch(/2 removed/);
    expect(indexed().articles).toBe(3);
  });
});
