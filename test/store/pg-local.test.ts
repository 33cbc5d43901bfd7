/**
 * PostgreSQL mode with local search (PG_SEARCH=local, the default): each replica serves a local
 * copy of the published generation in the embedded format, fetched as a snapshot or patched with
 * the row diff. Through the app (library, retriever) and the store's reported status.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { IndexReader } from '../../src/store/reader.js';
import type { PgIndexStore } from '../../src/store/pg/index.js';
import type { Logger } from '../../src/util/log.js';
import { CORPUS } from '../support/corpus.js';
import { FlakyProxy } from '../support/flaky-proxy.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { mdArticle, tempDir, testApp, writeFiles } from '../support/stack.js';

const QUERIES = [
  'volcano erupted ash island',
  'How many players were in the chess tournament?',
  'bridge collapse',
  'who won the election',
  'ash cloud flights cancelled',
  'Altavista floods',
];
const NOW = new Date('2024-08-01T00:00:00Z');

type Event = { level: string; event: string; [k: string]: unknown };

describe('PostgreSQL mode, local search', () => {
  let db: TestDatabase;
  const roots: string[] = [];
  const apps: App[] = [];
  let shared: string;
  const app = async (env: Record<string, string> = {}, log: Event[] = []) => {
    const root = tempDir();
    roots.push(root);
    const logger: Logger = {
      debug: () => {},
      info: (event, fields) => log.push({ level: 'info', event, ...fields }),
      warn: (event, fields) => log.push({ level: 'warn', event, ...fields }),
      error: (event, fields) => log.push({ level: 'error', event, ...fields }),
    };
    const a = await testApp(root, { DATABASE_URL: db.url, ARTICLES_DIR: path.join(shared, 'articles'), ...env }, logger);
    apps.push(a);
    return a;
  };
  const store = (a: App) => (a.library as unknown as { options: { index: PgIndexStore } }).options.index;
  const status = (a: App) => store(a).local!.lastOpen;
  /** Labels differ between stores: compare what a reader sees (article, passage text, order). */
  const results = async (a: App, mode: 'lexical' | 'dense' | 'hybrid') => {
    const out: unknown[] = [];
    for (const q of QUERIES) {
      const r = await a.retriever.retrieve(q, { mode, now: NOW } as never);
      out.push({ q, mode: r.mode, passages: r.passages.map((p) => [p.articleId, p.text]) });
    }
    return out;
  };
  /**
   * While the replica's database is away the writer publishes one more article; then the database
   * comes back, and the replica must follow to generation 2 within 20 s.
   */
  const publishWhileAwayThenFollow = async (writer: App, replica: App, proxy: FlakyProxy, log: Event[]) => {
    writeFiles(path.join(shared, 'articles'), {
      'flood.md': mdArticle('Floods close mountain roads', '2024-07-01', 'Heavy rain flooded mountain roads near Altavista.'),
    });
    await writer.library.reindex({});
    proxy.up();
    const end = Date.now() + 20_000;
    while (replica.library.searchIndex()?.manifest.generation !== 2 && Date.now() < end) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(replica.library.searchIndex()?.manifest.generation, JSON.stringify(log)).toBe(2);
  };

  beforeEach(async () => {
    db = await createTestDatabase();
    shared = tempDir();
    roots.push(shared);
    writeFiles(path.join(shared, 'articles'), CORPUS);
  });
  afterEach(async () => {
    for (const a of apps.splice(0)) {
      a.library.close();
      const s = store(a);
      if ('close' in s) await s.close().catch(() => {});
      await a.database?.end();
    }
    for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
    await db?.drop();
  });

  it('ranks exactly as the embedded store built from the same articles, lexical, dense and hybrid', async () => {
    const pgApp = await app();
    const fileRoot = tempDir();
    roots.push(fileRoot);
    const fileApp = await testApp(fileRoot, { ARTICLES_DIR: path.join(shared, 'articles') });
    apps.push(fileApp);
    await pgApp.library.ensure();
    await fileApp.library.ensure();
    expect(pgApp.library.searchIndex()).toBeInstanceOf(IndexReader);
    expect(status(pgApp)).toMatchObject({ generation: 1, source: 'rows' });
    expect(pgApp.library.listArticles(0, 10)).toEqual(fileApp.library.listArticles(0, 10));
    for (const mode of ['lexical', 'dense', 'hybrid'] as const) {
      const [a, b] = [await results(pgApp, mode), await results(fileApp, mode)];
      expect(a).toEqual(b);
      expect(JSON.stringify(a)).toContain('volcano');
    }
  });

  it('follows /add, /remove and a full reindex through deltas and snapshots; a fresh replica downloads the snapshot', async () => {
    const a = await app();
    await a.library.ensure();
    await store(a).local!.snapshotting;
    const snapshots = async () =>
      (await a.database!.query<{ id: number }>('SELECT generation_id AS id FROM index_snapshots WHERE complete ORDER BY 1')).rows.map(
        (r) => r.id,
      );
    expect(await snapshots()).toEqual([1]);

    const b = await app();
    expect((await b.library.open()) ?? null).toBeNull();
    expect(status(b)).toMatchObject({ generation: 1, source: 'snapshot', from: 1 });
    expect(await results(b, 'hybrid')).toEqual(await results(a, 'hybrid'));

    // An /add on replica a: one article, applied as a delta on b.
    writeFiles(path.join(shared, 'articles'), {
      'flood.md': mdArticle('Floods close mountain roads', '2024-07-01', 'Heavy rain flooded mountain roads near Altavista.'),
    });
    await a.library.reindex({});
    expect(status(a)).toMatchObject({ generation: 2, source: 'delta', from: 1 });
    expect(await b.library.refresh()).toBe(true);
    expect(status(b)).toMatchObject({ generation: 2, source: 'delta', from: 1 });
    // The graph is not copied: generation 2 links generation 1's file and records its few changes beside it.
    const inB = (n: number, f: string) => path.join(store(b).local!.dir, `gen-00000${n}`, f);
    expect(fs.statSync(inB(2, 'vectors.hnsw')).ino).toBe(fs.statSync(inB(1, 'vectors.hnsw')).ino);
    expect(fs.statSync(inB(2, 'vectors.delta')).size).toBeGreaterThan(0);
    const flood = await b.retriever.retrieve('Altavista mountain roads flooded', { mode: 'hybrid', now: NOW } as never);
    expect(flood.passages[0]?.articleId).toBe('flood');
    expect(await results(b, 'hybrid')).toEqual(await results(a, 'hybrid'));
    // A one-article change is far under the snapshot threshold: no new snapshot.
    await store(a).local!.snapshotting;
    expect(await snapshots()).toEqual([1]);

    // A /remove disappears on b.
    fs.rmSync(path.join(shared, 'articles', 'volcano.md'));
    await a.library.reindex({});
    expect(await b.library.refresh()).toBe(true);
    expect(status(b)).toMatchObject({ generation: 3, source: 'delta', from: 2 });
    expect(b.library.searchIndex()!.article('volcano')).toBeUndefined();
    const lex = await b.retriever.retrieve('volcano erupted ash island', { mode: 'lexical', now: NOW } as never);
    expect(lex.passages.map((p) => p.articleId)).not.toContain('volcano');
    expect(await results(b, 'hybrid')).toEqual(await results(a, 'hybrid'));

    // A full reindex: every row is new, so a's copy is built from the rows and uploaded; b downloads it.
    await a.library.reindex({ full: true });
    expect(status(a)).toMatchObject({ generation: 4, source: 'rows' });
    await store(a).local!.snapshotting;
    expect(await snapshots()).toEqual([1, 4]);
    expect(await b.library.refresh()).toBe(true);
    expect(status(b)).toMatchObject({ generation: 4, source: 'snapshot', from: 4 });
    expect(await results(b, 'hybrid')).toEqual(await results(a, 'hybrid'));

    // A replica started fresh takes the newest snapshot, and patches it when generations came after.
    writeFiles(path.join(shared, 'articles'), {
      'volcano.md': CORPUS['volcano.md']!,
    });
    await a.library.reindex({});
    const c = await app();
    await c.library.open();
    expect(status(c)).toMatchObject({ generation: 5, source: 'snapshot', from: 4 });
    expect(await results(c, 'hybrid')).toEqual(await results(a, 'hybrid'));
  });

  it("a following replica works out the next generation's in-memory BM25 from the one it serves, with FTS5's scores", async () => {
    const a = await app();
    await a.library.ensure();
    const b = await app();
    await b.library.open();
    const reader = () => b.library.searchIndex() as IndexReader;
    expect(await reader().lexicalMemoryReady()).toBe(true);
    expect(reader().lexicalMemorySource()).toBe('full');
    // An /add and a /remove together: generation 2 is a delta of the generation b has in memory.
    writeFiles(path.join(shared, 'articles'), {
      'flood.md': mdArticle('Floods close mountain roads', '2024-07-01', 'Heavy rain flooded mountain roads near Altavista.'),
    });
    fs.rmSync(path.join(shared, 'articles', 'volcano.md'));
    await a.library.reindex({});
    expect(await b.library.refresh()).toBe(true);
    expect(status(b)).toMatchObject({ generation: 2, source: 'delta', from: 1 });
    expect(await reader().lexicalMemoryReady()).toBe(true);
    expect(reader().lexicalMemorySource()).toBe('delta');
    const fts = (await IndexReader.openFolder(reader().dir, { lexicalMemoryTokens: 0 })) as IndexReader;
    try {
      for (const match of ['"volcano" OR "ash"', '"altavista" OR "flood" OR "road"', '"chess" OR "player" OR "240"', '"elect" OR "won"']) {
        expect(reader().lexical(match, 20), match).toEqual(fts.lexical(match, 20));
        expect(reader().articleLexical(match, 20), match).toEqual(fts.articleLexical(match, 20));
      }
      expect(reader().lexical('"altavista"', 5).length).toBeGreaterThan(0);
      expect(reader().lexical('"volcano"', 5)).toEqual([]);
    } finally {
      fts.close();
    }
  });

  it('shares one folder between processes of a machine, and rebuilds instead of patching when most of the graph would be deleted points', async () => {
    const a = await app();
    await a.library.ensure();
    await store(a).local!.snapshotting;
    // A second process on the same machine, same INDEX_DIR: it opens the copy the first one wrote.
    const b = await app({ INDEX_DIR: a.config.indexDir });
    await b.library.open();
    expect(status(b)).toMatchObject({ generation: 1, source: 'cached' });
    expect(await results(b, 'hybrid')).toEqual(await results(a, 'hybrid'));

    // Three of five articles go: patching would leave most of the graph marked deleted.
    for (const f of ['volcano.md', 'chess.md', 'bridge.md']) fs.rmSync(path.join(shared, 'articles', f));
    await a.library.reindex({ allowMassDelete: true });
    expect(status(a)).toMatchObject({ generation: 2, source: 'rows' });
    expect(await b.library.refresh()).toBe(true);
    expect(status(b)?.generation).toBe(2);
    expect(b.library.searchIndex()!.article('chess')).toBeUndefined();
    expect(await results(b, 'hybrid')).toEqual(await results(a, 'hybrid'));
  });

  it('never serves a snapshot that fails its checksum: it builds from the rows instead', async () => {
    const a = await app();
    await a.library.ensure();
    await store(a).local!.snapshotting;
    // One byte of one stored part changes.
    await a.database!.query(
      `UPDATE index_snapshot_parts SET bytes = overlay(bytes placing '\\xff'::bytea from 200 for 1)
       WHERE (generation_id, file, part) = (SELECT generation_id, file, part FROM index_snapshot_parts ORDER BY file DESC, part LIMIT 1)`,
    );
    const log: Event[] = [];
    const b = await app({}, log);
    await b.library.open();
    expect(status(b)).toMatchObject({ generation: 1, source: 'rows' });
    expect(log.find((e) => e.event === 'index.snapshot_rejected')).toMatchObject({ level: 'warn', snapshot: 1 });
    expect(String(log.find((e) => e.event === 'index.snapshot_rejected')?.problem)).toMatch(/checksum/);
    expect(await results(b, 'hybrid')).toEqual(await results(a, 'hybrid'));
  });

  it('never serves a snapshot with a part missing, and leaves no half-written folder behind', async () => {
    const a = await app();
    await a.library.ensure();
    await store(a).local!.snapshotting;
    await a.database!.query(
      `DELETE FROM index_snapshot_parts WHERE (generation_id, file, part) = (SELECT generation_id, file, max(part) FROM index_snapshot_parts WHERE file = 'meta.sqlite' GROUP BY 1, 2)`,
    );
    const log: Event[] = [];
    const b = await app({}, log);
    await b.library.open();
    expect(status(b)).toMatchObject({ generation: 1, source: 'rows' });
    expect(String(log.find((e) => e.event === 'index.snapshot_rejected')?.problem)).toMatch(/meta\.sqlite/);
    expect(fs.readdirSync(store(b).local!.dir).filter((f) => f.includes('.dl-'))).toEqual([]);
    expect(await results(b, 'hybrid')).toEqual(await results(a, 'hybrid'));
  });

  it('drops what a process killed while patching left behind, and the base generation it linked stays intact', async () => {
    const a = await app();
    await a.library.ensure();
    const dir = store(a).local!.dir;
    const gen1 = path.join(dir, 'gen-000001');
    const graphBefore = fs.readFileSync(path.join(gen1, 'vectors.hnsw'));
    // What a process killed halfway through patching generation 2 leaves: its temp folder, a
    // half-written SQLite file and the base's graph linked in.
    const dead = path.join(dir, 'gen-000002.tmp-999999');
    fs.mkdirSync(dead);
    fs.writeFileSync(path.join(dead, 'meta.sqlite'), fs.readFileSync(path.join(gen1, 'meta.sqlite')).subarray(0, 4096));
    fs.linkSync(path.join(gen1, 'vectors.hnsw'), path.join(dead, 'vectors.hnsw'));
    writeFiles(path.join(shared, 'articles'), {
      'flood.md': mdArticle('Floods close mountain roads', '2024-07-01', 'Heavy rain flooded mountain roads near Altavista.'),
    });
    const b = await app({ INDEX_DIR: a.config.indexDir });
    await a.library.reindex({});
    expect(status(a)).toMatchObject({ generation: 2, source: 'delta', from: 1 });
    await b.library.open();
    expect(status(b)).toMatchObject({ generation: 2, source: 'cached' });
    expect(fs.existsSync(dead)).toBe(false);
    expect(fs.readFileSync(path.join(gen1, 'vectors.hnsw')).equals(graphBefore)).toBe(true);
    const flood = await b.retriever.retrieve('Altavista mountain roads flooded', { mode: 'hybrid', now: NOW } as never);
    expect(flood.passages[0]?.articleId).toBe('flood');
  });

  it('starts on its kept local copy while the database is down, answers from it, and follows once it is back', async () => {
    const { proxy, url } = await FlakyProxy.inFrontOf(db.url);
    try {
      const writer = await app();
      await writer.library.ensure();
      const first = await app({ DATABASE_URL: url });
      await first.library.open();
      const before = await results(first, 'hybrid');
      const indexDir = first.config.indexDir;
      apps.splice(apps.indexOf(first), 1);
      first.library.close();
      await store(first).close();
      await first.database?.end();

      proxy.down();
      const log: Event[] = [];
      const replica = await app({ DATABASE_URL: url, INDEX_DIR: indexDir }, log);
      expect(log.map((e) => e.event)).toContain('db.unreachable_at_start');
      expect(await replica.library.open()).toBeNull();
      expect(replica.library.searchIndex()?.manifest.generation).toBe(1);
      expect(await results(replica, 'hybrid')).toEqual(before);
      replica.library.follow();
      // The writer publishes during the outage; the replica follows once the database is back.
      await publishWhileAwayThenFollow(writer, replica, proxy, log);
      expect(status(replica)).toMatchObject({ generation: 2, source: 'delta', from: 1 });
    } finally {
      await proxy.stop();
    }
  });

  it('without a kept copy, a replica does not start while the database is down', async () => {
    const { proxy, url } = await FlakyProxy.inFrontOf(db.url);
    try {
      proxy.down();
      await expect(app({ DATABASE_URL: url })).rejects.toThrow(/unreachable/);
    } finally {
      await proxy.stop();
    }
  });

  it('keeps answering from the local copy while the database is down, and catches up after', async () => {
    const { proxy, url } = await FlakyProxy.inFrontOf(db.url);
    try {
      const writer = await app();
      await writer.library.ensure();
      const log: Event[] = [];
      const replica = await app({ DATABASE_URL: url }, log);
      await replica.library.open();
      replica.library.follow();
      // The replica's LISTEN connection is up before the outage (through the proxy: one more backend).
      const listening = async () =>
        (
          await writer.database!.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`,
          )
        ).rows[0]!.n;
      const end0 = Date.now() + 10_000;
      while ((await listening()) === 0 && Date.now() < end0) await new Promise((resolve) => setTimeout(resolve, 50));
      const before = await results(replica, 'hybrid');
      proxy.down();
      // Searches, passages and article texts come from the local copy.
      const r = replica.library.searchIndex()!;
      expect(await results(replica, 'hybrid')).toEqual(before);
      expect(await r.articleText('volcano')).toContain('volcano');
      expect(replica.library.listArticles(0, 10).total).toBe(5);
      // Meanwhile the writer publishes; the replica follows once the database is back.
      await publishWhileAwayThenFollow(writer, replica, proxy, log);
      expect(status(replica)).toMatchObject({ generation: 2, source: 'delta' });
    } finally {
      await proxy.stop();
    }
  });
});
