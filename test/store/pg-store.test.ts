import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { PgIndexReader } from '../../src/store/pg/index.js';
import { BusyError } from '../../src/util/errors.js';
import { CORPUS } from '../support/corpus.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { mdArticle, tempDir, testApp, writeFiles } from '../support/stack.js';

const QUERIES = [
  'volcano erupted ash island',
  'How many players were in the chess tournament?',
  'bridge collapse',
  'who won the election',
  'ash cloud flights cancelled',
];

describe('index in PostgreSQL (DATABASE_URL)', () => {
  let db: TestDatabase;
  const roots: string[] = [];
  const apps: App[] = [];
  const app = async (env: Record<string, string> = {}, root = tempDir()) => {
    roots.push(root);
    const a = await testApp(root, { DATABASE_URL: db.url, ...env });
    apps.push(a);
    return a;
  };
  /** Two app processes' worth of stores over one articles folder and one database, as replicas run. */
  const twoReplicas = async () => {
    const shared = tempDir();
    roots.push(shared);
    writeFiles(path.join(shared, 'articles'), CORPUS);
    const env = { ARTICLES_DIR: path.join(shared, 'articles') };
    return { env, a: await app(env), b: await app(env) };
  };
  const query = async <T>(sql: string, params: unknown[] = []) => (await apps[0]!.database!.query(sql, params)).rows as T[];

  // A database per test: each starts from an empty store.
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    for (const a of apps.splice(0)) {
      a.library.close();
      await a.database?.end();
    }
    for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
    await db?.drop();
  });

  it('retrieves what the embedded store retrieves, in every mode', async () => {
    // The database search path (PG_SEARCH=local, the default, is compared in pg-local.test.ts).
    const pgApp = await app({ PG_SEARCH: 'database' });
    writeFiles(pgApp.config.articlesDir, CORPUS);
    const root = tempDir();
    roots.push(root);
    const fileApp = await testApp(root);
    apps.push(fileApp);
    writeFiles(fileApp.config.articlesDir, CORPUS);
    const built = await pgApp.library.ensure();
    await fileApp.library.ensure();
    expect(built.built).toMatchObject({ added: 5, articles: 5, dense: true });
    expect(pgApp.library.reader()).toBeNull();
    expect(pgApp.library.searchIndex()).toBeInstanceOf(PgIndexReader);
    expect(pgApp.library.stats()).toMatchObject({
      ...fileApp.library.stats(),
      indexBytes: expect.any(Number),
      builtAt: expect.any(String),
    });
    expect(pgApp.library.listArticles(0, 10)).toEqual(fileApp.library.listArticles(0, 10));
    for (const mode of ['lexical', 'dense', 'hybrid'] as const) {
      for (const q of QUERIES) {
        const now = new Date('2024-08-01T00:00:00Z');
        const [a, b] = await Promise.all([
          pgApp.retriever.retrieve(q, { mode, now } as never),
          fileApp.retriever.retrieve(q, { mode, now } as never),
        ]);
        expect(a.mode, `${mode}: ${q}`).toBe(mode);
        expect(a.passages.map((p) => p.articleId).slice(0, 3), `${mode}: ${q}`).toEqual(b.passages.map((p) => p.articleId).slice(0, 3));
        expect(a.passages[0]?.text, `${mode}: ${q}`).toBe(b.passages[0]?.text);
      }
    }
  });

  it('reindexes incrementally: only changed chunks are embedded, removed articles leave, old rows are purged', async () => {
    const a = await app();
    const dir = a.config.articlesDir;
    writeFiles(dir, CORPUS);
    await a.library.reindex({});
    const texts: string[] = [];
    const embed = a.embedder!.embedDocuments.bind(a.embedder);
    a.embedder!.embedDocuments = (t) => {
      texts.push(...t);
      return embed(t);
    };
    expect(await a.library.reindex({})).toMatchObject({ added: 0, changed: 0, removed: 0, unchanged: 5 });
    expect((await query<{ n: number }>('SELECT count(*)::int AS n FROM index_generations'))[0]!.n).toBe(1);

    fs.writeFileSync(path.join(dir, 'chess.md'), CORPUS['chess.md']!.replace('240 players', '310 players'));
    fs.rmSync(path.join(dir, 'volcano.md'));
    writeFiles(dir, {
      'flood.md': mdArticle('Floods close mountain roads', '2024-07-01', 'Heavy rain flooded mountain roads near Altavista.'),
    });
    expect(await a.library.reindex({})).toMatchObject({ added: 1, changed: 1, removed: 1, unchanged: 3, articles: 5 });
    expect(texts.join('\n')).toContain('310 players');
    expect(texts.join('\n')).not.toContain('bridge');
    const r = a.library.searchIndex()!;
    expect(r.manifest.generation).toBe(2);
    expect(await r.lexical('"volcano"', 5)).toEqual([]);
    expect(r.article('volcano')).toBeUndefined();
    expect((await r.lexical('"altavista"', 5)).length).toBeGreaterThan(0);
    // Generation 1's retired rows stay for readers still on it; the next publish purges them.
    expect((await query<{ n: number }>(`SELECT count(*)::int AS n FROM index_articles WHERE id = 'volcano'`))[0]!.n).toBe(1);
    fs.rmSync(path.join(dir, 'flood.md'));
    await a.library.reindex({});
    expect((await query<{ n: number }>(`SELECT count(*)::int AS n FROM index_articles WHERE id = 'volcano'`))[0]!.n).toBe(0);
    expect(
      (
        await query<{ n: number }>(
          `SELECT count(*)::int AS n FROM index_embeddings e JOIN index_chunks c ON c.label = e.chunk_label WHERE c.article_id = 'volcano'`,
        )
      )[0]!.n,
    ).toBe(0);
  });

  it('never shows a generation before it is published, and a build killed half-way is cleaned up by the next', async () => {
    const a = await app();
    writeFiles(a.config.articlesDir, CORPUS);
    await a.library.reindex({});
    const before = await a.retriever.retrieve('volcano erupted ash island');
    // A build that writes its rows and dies before publishing (its process is gone: nothing calls abort).
    writeFiles(a.config.articlesDir, {
      'flood.md': mdArticle('Floods close mountain roads', '2024-07-01', 'Heavy rain flooded mountain roads near Altavista.'),
    });
    const embed = a.embedder!.embedDocuments.bind(a.embedder);
    let calls = 0;
    a.embedder!.embedDocuments = async (t) => {
      if (++calls === 1) throw new Error('killed');
      return embed(t);
    };
    const reader = a.library.searchIndex();
    const dying = a.library.reindex({});
    await expect(dying).rejects.toThrow('killed');
    // The pipeline aborted this one; simulate the rows a SIGKILLed build leaves by writing them again without abort.
    const target = a.library as unknown as { options: { pg: import('../../src/store/pg/index.js').PgIndexStore } };
    const store = target.options.pg;
    const writer = await store.target().begin((await store.published())!, {
      embedder: { id: a.embedder!.id, dimension: a.embedder!.dimension },
      chunker: a.library.searchIndex()!.manifest.chunker,
      hnsw: { m: 16, efConstruction: 200 },
    });
    await writer.removeArticles(['volcano']);
    await writer.addArticles([
      {
        article: {
          id: 'half',
          title: 'Half built',
          date: null,
          url: null,
          source: null,
          text: 'Half built volcano story.',
          hash: 'x',
          path: 'half.md',
        },
        chunks: [],
        vectors: null,
      },
    ]);
    expect(a.library.searchIndex()).toBe(reader);
    const other = await app({ ARTICLES_DIR: a.config.articlesDir });
    await other.library.ensure();
    expect(other.library.searchIndex()!.manifest.generation).toBe(1);
    expect(other.library.searchIndex()!.article('half')).toBeUndefined();
    expect(other.library.searchIndex()!.article('volcano')).toBeDefined();
    expect((await other.retriever.retrieve('volcano erupted ash island')).passages.map((p) => p.articleId)).toEqual(
      before.passages.map((p) => p.articleId),
    );

    const s = await a.library.reindex({});
    expect(s).toMatchObject({ added: 1, removed: 0, articles: 6 });
    expect(await query(`SELECT id, state FROM index_generations ORDER BY id`)).toEqual([
      { id: 1, state: 'published' },
      { id: 2, state: 'abandoned' },
      { id: 3, state: 'abandoned' },
      { id: 4, state: 'published' },
    ]);
    expect((await query<{ n: number }>(`SELECT count(*)::int AS n FROM index_articles WHERE id = 'half'`))[0]!.n).toBe(0);
    expect(
      (await query<{ n: number }>(`SELECT count(*)::int AS n FROM index_articles WHERE id = 'volcano' AND removed_gen IS NULL`))[0]!.n,
    ).toBe(1);
  });

  it('refuses to publish a generation while any of its chunks has no embedding', async () => {
    const a = await app();
    writeFiles(a.config.articlesDir, CORPUS);
    await a.library.reindex({});
    const store = (a.library as unknown as { options: { pg: import('../../src/store/pg/index.js').PgIndexStore } }).options.pg;
    const info = a.library.searchIndex()!.manifest;
    const writer = await store.target().begin((await store.published())!, {
      embedder: info.embedder,
      chunker: info.chunker,
      hnsw: { m: 16, efConstruction: 200 },
    });
    const article = {
      id: 'late',
      title: 'Late news',
      date: null,
      url: null,
      source: null,
      text: 'Late news about the harbour.',
      hash: 'h',
      path: 'late.md',
    };
    const chunk = {
      id: 'late#0',
      articleId: 'late',
      ordinal: 0,
      start: 0,
      end: 28,
      text: article.text,
      embedText: article.text,
      tokens: 8,
    };
    await writer.addArticles([{ article, chunks: [chunk], vectors: null }]);
    await expect(Promise.resolve(writer.commit())).rejects.toThrow(/1 chunk\(s\) have no embedding yet/);
    expect((await store.published())!.id).toBe(1);
    await writer.abort();
    expect((await query<{ n: number }>(`SELECT count(*)::int AS n FROM index_articles WHERE id = 'late'`))[0]!.n).toBe(0);
  });

  it('a replica serves what another published, without a restart (LISTEN/NOTIFY)', async () => {
    const { env, a, b } = await twoReplicas();
    await a.library.ensure();
    await b.library.ensure();
    b.library.follow();
    const old = b.library.searchIndex()!;
    writeFiles(env.ARTICLES_DIR, {
      'flood.md': mdArticle('Floods close mountain roads', '2024-07-01', 'Heavy rain flooded mountain roads near Altavista.'),
    });
    await a.library.reindex({});
    await waitFor(() => b.library.searchIndex() !== old);
    expect(b.library.searchIndex()!.article('flood')).toMatchObject({ title: 'Floods close mountain roads' });
    expect((await b.retriever.retrieve('flooded mountain roads Altavista')).passages[0]?.articleId).toBe('flood');
    // The dense half was patched, not reloaded: the same in-memory graph serves both generations.
    expect((b.library.searchIndex() as PgIndexReader).memory?.graph).toBe((old as PgIndexReader).memory?.graph);
  });

  it('two replicas starting a reindex at once run it once; the other is told it is already running', async () => {
    const { a, b } = await twoReplicas();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const embed = a.embedder!.embedDocuments.bind(a.embedder);
    let started!: () => void;
    const embedding = new Promise<void>((r) => (started = r));
    a.embedder!.embedDocuments = async (t) => {
      started();
      await gate;
      return embed(t);
    };
    const first = a.library.reindex({});
    await embedding;
    const second = b.library.reindex({});
    await expect(second).rejects.toBeInstanceOf(BusyError);
    await expect(second).rejects.toThrow(/already in progress/);
    release();
    expect(await first).toMatchObject({ added: 5 });
    expect(await query(`SELECT id, state FROM index_generations`)).toEqual([{ id: 1, state: 'published' }]);
  });
});

async function waitFor(ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
