import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import { describeFiles, type Manifest } from '../../src/store/manifest.js';
import { IndexReader } from '../../src/store/reader.js';
import { CORPUS } from '../support/corpus.js';
import { FIXTURE_DIMENSION } from '../support/fixture-model.js';
import { mdArticle, testApp, writeFiles } from '../support/stack.js';
import { closeLater, generation, setup } from './helpers.js';

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
    writeFiles(articles, {
      'flood.md': mdArticle(
        'Floods close mountain roads',
        '2024-07-01',
        'Heavy rain flooded mountain roads near Altavista, closing three passes for a week.',
      ),
    });
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
    closeLater(other);
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
    closeLater(offline);
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
    closeLater(other);
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
      closeLater(again);
      const { built, problem } = await again.library.ensure();
      expect(problem, victim).toMatch(/damaged/);
      expect(built?.articles).toBe(5);
      expect(again.library.reader()!.lexical('"chess"', 1)).toHaveLength(1);
    }
  });

  it('serves and patches a generation written before stems were stored: those rows are stemmed at query time', async () => {
    const { app, articles, indexDir } = await setup();
    await app.library.reindex({});
    const question = 'Which volcano erupted and how many people were evacuated?';
    const expected = await app.retriever.retrieveDetailed(question);
    app.close();
    // What an older generation looks like: no stems columns, manifest checksums to match.
    const gen = path.join(indexDir, generation(indexDir));
    const db = new Database(path.join(gen, 'meta.sqlite'));
    db.exec('ALTER TABLE articles DROP COLUMN stems; ALTER TABLE chunks DROP COLUMN stems');
    db.close();
    const manifestFile = path.join(gen, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
    manifest.files = describeFiles(gen, Object.keys(manifest.files));
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));

    const old = await testApp(path.dirname(articles));
    closeLater(old);
    expect(await old.library.ensure()).toMatchObject({ built: null, problem: null }); // served as it is, not rebuilt
    expect(old.library.reader()!.articleStems(['volcano']).size).toBe(0);
    const served = await old.retriever.retrieveDetailed(question);
    expect(served.passages).toEqual(expected.passages);
    expect(served.coverage).toBe(expected.coverage);

    writeFiles(articles, { 'flood.md': mdArticle('Floods close mountain roads', '2024-07-01', 'Heavy rain flooded mountain roads.') });
    expect(await old.library.reindex({})).toMatchObject({ added: 1, unchanged: 5 });
    const patched = old.library.reader()!;
    expect([...patched.articleStems(['volcano', 'flood']).keys()]).toEqual(['flood']);
    expect(patched.chunksOf('flood')[0]!.stems).toContain('flood');
    // Old rows (stemmed at query time) and new rows (stored stems) rank together (BM25 scores move with the new article).
    const after = await old.retriever.retrieveDetailed(question);
    const { articleId, chunkIds, text } = expected.passages[0]!;
    expect(after.passages[0]).toMatchObject({ articleId, chunkIds, text });
    expect(after.coverage).toBe(expected.coverage);
  });

  it('closes the database when the vector file cannot be read (no leaked handle per failed open)', async () => {
    const { app, indexDir } = await setup();
    await app.library.reindex({});
    app.close();
    const vectors = path.join(indexDir, generation(indexDir), 'vectors.hnsw');
    // Same size, garbage content: passes the size check, fails inside hnswlib.
    fs.writeFileSync(vectors, Buffer.alloc(fs.statSync(vectors).size, 0xff));
    // Only descriptors of this index's files: worker threads (embedding sessions, the test runner)
    // open and close their own in the background, which a count of every descriptor would catch.
    const root = fs.realpathSync(indexDir);
    const openFds = () =>
      fs.readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(root);
        } catch {
          return false;
        }
      }).length;
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
