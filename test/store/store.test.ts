import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import { IndexReader } from '../../src/store/reader.js';
import { CORPUS } from '../support/corpus.js';
import { FIXTURE_DIMENSION } from '../support/fixture-model.js';
import { mdArticle, tempDir, testApp, writeFiles } from '../support/stack.js';

const run = promisify(execFile);
// Run the child as plain node with the tsx loader, so a SIGKILL hits the process we observe
// (the tsx CLI would wrap it and report exit code 137 instead).
const NODE = process.execPath;
const tsChild = (script: string, ...args: string[]) => run(NODE, ['--import', 'tsx', script, ...args]);

const roots: string[] = [];
const apps: App[] = [];
afterEach(() => {
  for (const a of apps.splice(0)) a.close();
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

async function setup(files: Record<string, string> = CORPUS, env: Record<string, string> = {}) {
  const root = tempDir();
  roots.push(root);
  writeFiles(path.join(root, 'articles'), files);
  const app = await testApp(root, env);
  apps.push(app);
  return { root, app, articles: path.join(root, 'articles'), indexDir: path.join(root, 'index-data') };
}

function generation(indexDir: string): string {
  return fs.readFileSync(path.join(indexDir, 'CURRENT'), 'utf8').trim();
}

describe('index build', () => {
  it('indexes a folder into both halves with a manifest', async () => {
    const { app, indexDir } = await setup();
    const s = await app.library.reindex({});
    expect(s).toMatchObject({ added: 5, changed: 0, removed: 0, articles: 5, dense: true });
    const r = app.library.reader()!;
    expect(r.manifest.embedder).toEqual({ id: app.embedder!.id, dimension: FIXTURE_DIMENSION });
    expect(r.manifest.counts.chunks).toBe(s.chunks);
    expect(r.lexical('"volcano"', 5).length).toBeGreaterThan(0);
    const q = await app.embedder!.embedQuery('volcano erupted ash island');
    const top = r.denseSearch(q, 1)[0]!;
    expect(r.chunk(top.label)!.articleId).toBe('volcano');
    expect(fs.readdirSync(indexDir).filter((e) => e.startsWith('gen-'))).toHaveLength(1);
  });

  it('re-embeds only what changed, and deletions leave both halves', async () => {
    const { app, articles } = await setup();
    await app.library.reindex({});
    const before = generation(path.join(app.config.indexDir));

    const again = await app.library.reindex({});
    expect(again).toMatchObject({ added: 0, changed: 0, removed: 0, unchanged: 5 });
    expect(generation(app.config.indexDir)).toBe(before); // nothing to do: no new generation
    const reader = app.library.reader();
    await app.library.reindex({});
    expect(app.library.reader()).toBe(reader); // ...and the open index is not loaded again

    const docs: string[][] = [];
    const embed = app.embedder!.embedDocuments.bind(app.embedder);
    app.embedder!.embedDocuments = (texts) => {
      docs.push(texts);
      return embed(texts);
    };
    fs.writeFileSync(path.join(articles, 'chess.md'), CORPUS['chess.md']!.replace('240 players', '310 players'));
    fs.rmSync(path.join(articles, 'volcano.md'));
    writeFiles(articles, { 'flood.md': mdArticle('Floods close mountain roads', '2024-07-01', 'Heavy rain flooded mountain roads near Altavista, closing three passes for a week.') });
    const s = await app.library.reindex({});
    expect(s).toMatchObject({ added: 1, changed: 1, removed: 1, unchanged: 3, articles: 5 });
    const embedded = docs.flat().join('\n');
    expect(embedded).toContain('Heavy rain flooded mountain roads');
    expect(embedded).toContain('310 players');
    expect(embedded).not.toContain('bridge'); // unchanged articles are not re-embedded

    const r = app.library.reader()!;
    expect(r.lexical('"volcano"', 5)).toEqual([]);
    expect(r.lexical('"310"', 5).length).toBe(1);
    expect(r.lexical('"240"', 5)).toEqual([]);
    const q = await app.embedder!.embedQuery('volcano erupted ash island lava');
    for (const h of r.denseSearch(q, 20)) expect(r.chunk(h.label)?.articleId).not.toBe('volcano');
    expect(r.denseSearch(q, 100).length).toBe(r.manifest.counts.chunks);
  });

  it('skips an article the chunker cannot split (one huge grapheme) and indexes the rest, run after run', async () => {
    const zalgo = 'H' + '\u0301'.repeat(1000);
    const { app, articles } = await setup(CORPUS, { EMBEDDING_PROVIDER: 'none' });
    writeFiles(articles, { 'zalgo.md': mdArticle('Strange text', '2024-01-02', `Intro sentence here. ${zalgo} end.`) });
    for (let run = 0; run < 2; run++) {
      const s = await app.library.reindex({});
      expect(s.articles).toBe(5);
      expect(s.skipped).toEqual([{ file: 'zalgo.md', reason: expect.stringMatching(/^could not be chunked/) }]);
      expect(app.library.reader()!.article('zalgo')).toBeUndefined();
      expect(app.library.reader()!.lexical('"chess"', 1)).toHaveLength(1);
    }
  });

  it('never chunks beyond what the embedding model can take, whatever CHUNK_MAX_TOKENS says', async () => {
    const long = Array.from({ length: 300 }, (_, i) => `Sentence ${i} about the volcano and the island.`).join(' ');
    const { app } = await setup({ 'long.md': mdArticle('Long report', '2024-03-03', long) }, { CHUNK_MAX_TOKENS: '4096' });
    await app.library.reindex({});
    const r = app.library.reader()!;
    expect(r.manifest.chunker).toContain(`maxTokens=${app.embedder!.maxTokens}`);
    expect(r.manifest.counts.chunks).toBeGreaterThan(1);
  });

  it('a query in flight when a reindex swaps indexes finishes on the index it started with', async () => {
    const { app, articles } = await setup();
    await app.library.reindex({});
    const embedQuery = app.embedder!.embedQuery.bind(app.embedder);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    app.embedder!.embedQuery = async (t) => {
      await gate;
      return embedQuery(t);
    };
    const inFlight = app.retriever.retrieve('Who won the national chess championship?');
    writeFiles(articles, { 'late.md': mdArticle('Late news', '2024-08-09', 'A late article about a harbour festival and fireworks.') });
    // However long the query takes after the swap (a minute here), its index must stay open.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await app.library.reindex({});
      vi.advanceTimersByTime(60_000);
    } finally {
      vi.useRealTimers();
    }
    open();
    const r = await inFlight;
    expect(r.passages[0]?.articleId).toBe('chess');
  });

  it('--full rebuilds everything', async () => {
    const { app } = await setup();
    await app.library.reindex({});
    const s = await app.library.reindex({ full: true });
    expect(s).toMatchObject({ added: 5, changed: 0, unchanged: 0 });
  });

  it('builds a lexical-only index when no model is available, and says so in the manifest', async () => {
    const { app } = await setup(CORPUS, { EMBEDDING_MODEL: 'nobody/missing-model' });
    expect(app.embedder).toBeNull();
    expect(app.embedderWarning).toMatch(/lexical-only/);
    const s = await app.library.reindex({});
    expect(s.dense).toBe(false);
    const r = app.library.reader()!;
    expect(r.manifest.embedder).toBeNull();
    expect(r.dense).toBe(false);
    expect(r.lexical('"chess"', 3).length).toBeGreaterThan(0);
  });

  it('rebuilds (with a clear message) an index made with other settings instead of serving it', async () => {
    const { root, app } = await setup();
    await app.library.reindex({});
    app.close();
    const other = await testApp(root, { CHUNK_MAX_TOKENS: '64' });
    apps.push(other);
    const { built, problem } = await other.library.ensure();
    expect(problem).toMatch(/does not match the current settings.*chunker/);
    expect(built).toMatchObject({ added: 5 });
    expect(other.library.mismatch()).toBeNull();
  });

  it('keeps a dense index (served lexically) when the model fails to load at start-up instead of rebuilding it', async () => {
    const { root, app, indexDir } = await setup();
    await app.library.reindex({});
    app.close();
    const gen = generation(indexDir);
    const offline = await testApp(root, { EMBEDDING_MODEL: 'fixture/tiny-bert', LOCAL_MODEL_DIR: path.join(root, 'nowhere') });
    apps.push(offline);
    expect(offline.embedder).toBeNull();
    const { built, problem } = await offline.library.ensure();
    expect(built).toBeNull();
    expect(problem).toBeNull();
    expect(generation(indexDir)).toBe(gen);
    expect(offline.library.reader()!.dense).toBe(true);
    const r = await offline.retriever.retrieveDetailed('Who won the national chess championship?');
    expect(r.mode).toBe('lexical');
    expect(r.passages[0]?.articleId).toBe('chess');
  });

  it('rebuilds when the HNSW graph settings change, so the manifest never claims settings the graph lacks', async () => {
    const { root, app } = await setup();
    await app.library.reindex({});
    app.close();
    const other = await testApp(root, { HNSW_M: '24' });
    apps.push(other);
    const { built, problem } = await other.library.ensure();
    expect(problem).toMatch(/HNSW_M=16.*24/);
    expect(built).toMatchObject({ added: 5 });
    expect(other.library.reader()!.manifest.hnsw).toMatchObject({ m: 24 });
  });

  it('detects a corrupted or truncated index file at start-up and rebuilds from the articles', async () => {
    for (const victim of ['vectors.hnsw', 'meta.sqlite', 'manifest.json']) {
      const { root, app, indexDir } = await setup();
      await app.library.reindex({});
      app.close();
      const gen = path.join(indexDir, generation(indexDir));
      const file = path.join(gen, victim);
      const bytes = fs.readFileSync(file);
      if (victim === 'manifest.json') fs.writeFileSync(file, bytes.subarray(0, 20));
      else {
        const at = Math.floor(bytes.length / 2);
        bytes[at] = bytes[at]! ^ 0xff;
        fs.writeFileSync(file, bytes);
      }
      const opened = IndexReader.open(indexDir);
      expect(opened, victim).not.toBeInstanceOf(IndexReader);
      expect((opened as { message: string }).message, victim).toMatch(/damaged/);
      const again = await testApp(root);
      apps.push(again);
      const { built, problem } = await again.library.ensure();
      expect(problem, victim).toMatch(/damaged/);
      expect(built?.articles).toBe(5);
      expect(again.library.reader()!.lexical('"chess"', 1)).toHaveLength(1);
    }
  });

  it('closes the database when the vector file cannot be read (no leaked handle per failed open)', async () => {
    const { app, indexDir } = await setup();
    await app.library.reindex({});
    app.close();
    const vectors = path.join(indexDir, generation(indexDir), 'vectors.hnsw');
    // Same size, garbage content: passes the size check, fails inside hnswlib.
    fs.writeFileSync(vectors, Buffer.alloc(fs.statSync(vectors).size, 0xff));
    const openFds = () => fs.readdirSync('/proc/self/fd').length;
    const before = openFds();
    for (let i = 0; i < 5; i++) expect(IndexReader.open(indexDir, { verify: false })).not.toBeInstanceOf(IndexReader);
    expect(openFds()).toBe(before);
  });

  it('handles k larger than the index and an empty folder', async () => {
    const { app } = await setup({ 'one.md': CORPUS['chess.md']! });
    await app.library.reindex({});
    const r = app.library.reader()!;
    const q = await app.embedder!.embedQuery('chess');
    expect(r.denseSearch(q, 1000).length).toBe(r.manifest.counts.chunks);
    const empty = await setup({});
    const s = await empty.app.library.reindex({});
    expect(s.articles).toBe(0);
    expect(empty.app.library.stats().articles).toBe(0);
  });

  it('refuses a second concurrent reindex', async () => {
    const { app } = await setup();
    const first = app.library.reindex({});
    await expect(app.library.reindex({})).rejects.toThrow(/already running/);
    await first;
  });
});

describe('crash safety', () => {
  const steps = ['copied', 'dropped', 'embedded-batch:1', 'inserted', 'vectors-written', 'manifest-written', 'renamed', 'switched'];

  it.each(steps)('a build SIGKILLed at "%s" leaves the previous index usable and the next run completes', async (step) => {
    const { root, app, articles, indexDir } = await setup();
    await app.library.reindex({});
    app.close();
    const genBefore = generation(indexDir);
    fs.writeFileSync(path.join(articles, 'chess.md'), CORPUS['chess.md']!.replace('240 players', '999 players'));
    writeFiles(articles, { 'extra.md': mdArticle('Harbour strike ends', '2024-08-01', 'Dock workers ended a nine-day strike at the harbour after a pay deal.') });

    const killed = await tsChild('test/support/index-child.ts', root, step).then(
      () => null,
      (e: { signal?: string; stdout?: string }) => e,
    );
    expect(killed?.signal).toBe('SIGKILL');

    // Whatever generation CURRENT names is complete and consistent.
    const r = IndexReader.open(indexDir);
    expect(r).toBeInstanceOf(IndexReader);
    const reader = r as IndexReader;
    const switched = generation(indexDir) !== genBefore;
    expect(reader.manifest.counts.articles).toBe(switched ? 6 : 5);
    expect(reader.lexical('"999"', 5).length).toBe(switched ? 1 : 0);
    reader.close();

    const { stdout } = await tsChild('test/support/index-child.ts', root, 'none');
    expect(stdout).toMatch(/^done /m);
    const after = IndexReader.open(indexDir) as IndexReader;
    expect(after.manifest.counts.articles).toBe(6);
    expect(after.lexical('"999"', 5)).toHaveLength(1);
    expect(after.lexical('"harbour"', 5)).toHaveLength(1);
    after.close();
    expect(fs.readdirSync(indexDir).filter((e) => e.includes('.tmp'))).toEqual([]);
  });

  it('a reader in another process never sees a half-written index during reindexing', async () => {
    const { app, articles, indexDir } = await setup();
    await app.library.reindex({});
    const reader = tsChild('test/support/query-child.ts', indexDir, '4000');
    for (let i = 0; i < 6; i++) {
      writeFiles(articles, { [`extra-${i}.md`]: mdArticle(`Market report ${i}`, '2024-08-0' + (i + 1), `Shares rose ${i} percent in a quiet session of trading number ${i}.`) });
      await app.library.reindex({ full: i % 2 === 0 });
    }
    const { stdout } = await reader;
    const res = JSON.parse(stdout) as { ok: number; failures: string[] };
    expect(res.failures).toEqual([]);
    expect(res.ok).toBeGreaterThan(10);
  });
});
