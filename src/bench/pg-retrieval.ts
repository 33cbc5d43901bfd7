/**
 * Retrieval latency in PostgreSQL mode next to the embedded mode (`pg-retrieval` section). At
 * each size the same synthetic articles (as the query section makes them) are indexed into both
 * stores through `indexArticles` with the synthetic embedder (instant vectors, so 100k chunks
 * need no model; in PostgreSQL they go through the embedding queue like a real build), then one
 * fresh process per store times the same questions, lexical-only and hybrid. PostgreSQL gets a
 * scratch database per size, created and dropped here.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../config/index.js';
import { poolDb } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import { MIGRATIONS } from '../schema.js';
import { createPool } from '../db/pool.js';
import { approximateTokenCounter } from '../embedding/index.js';
import { PgIndexStore } from '../store/pg/index.js';
import type { IndexTarget } from '../store/target.js';
import type { Article } from '../types.js';
import type { Logger } from '../util/log.js';
import { forkTs, nextMessage, runChild, type ChildReply } from './child.js';
import { benchReplicas, type ReplicaRows } from './replicas.js';
import { buildSyntheticIndex, formatCount } from './query.js';
import type { RecallInput, StoreRef, StoreServeInput, StoreServeResult } from './store-serve.js';
import { IndexReader } from '../store/reader.js';
import { createRng, sentencePool, SyntheticSpace, syntheticArticles, syntheticQuestions } from './synthetic.js';

/** What the section needs. */
export interface PgRetrievalOptions {
  /** Server to create the scratch databases on (any database of it; the user needs CREATEDB). */
  serverUrl: string;
  sizes: number[];
  queries: number;
  workDir: string;
  config: Config;
  corpus: Article[];
  logger: Logger;
  note?: (line: string) => void;
  seed?: number;
  /** App processes started against the PostgreSQL index at each size (0: no replica rows). */
  replicas: number;
  /** How long the replica rows' database outage lasts. */
  outageMs: number;
  /** Which PostgreSQL search modes get retrieval rows (PG_SEARCH: in the database, from a local copy). */
  pgSearch: ('database' | 'local')[];
  /** Query vectors whose dense recall@10 against exact search is measured in every store (0: none). */
  recallQueries?: number;
  /**
   * Where the pgvector row (PG_SEARCH=database with pgvector's HNSW) runs: `server` on the
   * --database-url server when it has the `vector` extension (skipped with a line saying so when
   * not), `pglite` on a PGlite server with its bundled pgvector (pglite-socket; slow: WebAssembly),
   * `off` not at all.
   */
  pgvector?: PgvectorSource;
}

/** Where the pgvector row runs. */
export type PgvectorSource = 'server' | 'pglite' | 'off';

/** Chunks per query whose recall is measured. */
export const RECALL_K = 10;

/** One store at one size. */
export interface StoreRow extends StoreServeResult {
  buildSeconds: number;
  /** Process start (fork) → first answered question, in the serving process. */
  coldStartSeconds: number;
}

/** Results of the section. */
export interface PgRetrievalResult {
  status: 'ok';
  note: string;
  /** The server's `version()`. */
  server: string;
  queries: number;
  /**
   * `postgres`: searches in the database (PG_SEARCH=database); `local`: from the replica-local copy
   * (PG_SEARCH=local) downloaded as a snapshot into an empty folder, with `materialiseSeconds` the
   * open of the first replica, which built the copy from the rows (and uploaded the snapshot).
   * Either is absent when `--pg-search` left it out; `replicas` run the app with PG_SEARCH as set.
   */
  sizes: {
    target: number;
    embedded: StoreRow;
    postgres?: StoreRow;
    local?: StoreRow & { materialiseSeconds: number };
    /** PG_SEARCH=database with pgvector: on the server (`source: 'server'`) or on PGlite. */
    pgvector?: StoreRow & { source: 'server' | 'pglite' };
    replicas: ReplicaRows | null;
  }[];
  /** Why there is no pgvector row (null when there is one, or it was turned off). */
  pgvectorSkipped?: string | null;
}

const DIMENSION = 384;
const SERVE_TIMEOUT_MS = 15 * 60_000;

/** Runs the comparison. */
export async function benchPgRetrieval(o: PgRetrievalOptions): Promise<PgRetrievalResult> {
  const note = o.note ?? (() => {});
  // The query section's seed and space, so the articles and questions are the ones it times.
  const seed = o.seed ?? 20240501;
  const space = new SyntheticSpace({ dimension: DIMENSION, clusters: 256, seed });
  const pool = sentencePool(o.corpus);
  const questions = syntheticQuestions(pool, o.queries, createRng(seed + 1));
  const queryRng = createRng(seed + 3);
  const vectors = Array.from({ length: o.queries }, () => space.randomVector(queryRng));
  const chunking = { ...o.config.chunking, counter: approximateTokenCounter };
  const server = await serverVersion(o.serverUrl);
  const pgvectorSource = o.pgvector ?? 'server';
  const pgvectorSkipped = pgvectorSource === 'server' ? await pgvectorSkipLine(o.serverUrl, server) : null;
  if (pgvectorSkipped) note(`pg-retrieval: ${pgvectorSkipped}`);
  const recallVectors = vectors.slice(0, Math.min(o.recallQueries ?? 0, vectors.length));
  const sizes: PgRetrievalResult['sizes'] = [];
  for (const target of o.sizes) {
    const articles = syntheticArticles(pool, target, chunking, createRng(seed + target));
    const build = async (label: string, indexDir: string, storeTarget?: IndexTarget) => {
      note(`pg-retrieval: building the ${formatCount(target)}-chunk index in ${label}…`);
      const t = performance.now();
      await buildSyntheticIndex({
        indexDir,
        ...(storeTarget ? { target: storeTarget } : {}),
        articles,
        space,
        seed,
        config: o.config,
        logger: o.logger,
      });
      return (performance.now() - t) / 1000;
    };
    let recall: RecallInput | undefined;
    const serve = (store: StoreRef, label: string, buildSeconds: number, openOnly = false) =>
      serveInChild({ store, label, buildSeconds, openOnly, target, questions, vectors, recall, config: o.config, note });
    const dir = path.join(o.workDir, `index-${target}`);
    fs.rmSync(dir, { recursive: true, force: true });
    const embeddedBuild = await build('the embedded store', dir);
    if (recallVectors.length > 0) {
      note(`pg-retrieval: exact search for ${recallVectors.length} query vectors (recall ground truth)…`);
      recall = exactTopK(dir, recallVectors);
    }
    const embedded = await serve({ kind: 'embedded', indexDir: dir }, 'embedded', embeddedBuild);
    fs.rmSync(dir, { recursive: true, force: true });
    const {
      postgres,
      local,
      replicas,
      pgvector: onServer,
    } = await withScratchDatabase(o.serverUrl, `${process.pid}_${target}`, async (url) => {
      const settings = { ...o.config.database, url };
      const dbPool = createPool(settings, o.logger);
      try {
        await migrate(dbPool, MIGRATIONS, o.logger);
        const store = await PgIndexStore.connect(poolDb(dbPool, settings, o.logger), {
          efSearch: o.config.hnsw.efSearch,
          logger: o.logger,
        });
        const buildSeconds = await build(`PostgreSQL (${store.dense})`, dir, store.target());
        const postgres = o.pgSearch.includes('database')
          ? await serve({ kind: 'postgres', url, database: o.config.database, search: 'database' }, 'PostgreSQL', buildSeconds)
          : undefined;
        // PG_SEARCH=local: the first replica builds its copy from the rows and uploads the snapshot;
        // the one timed starts with an empty folder and downloads it.
        const localRef = (name: string): StoreRef => ({
          kind: 'postgres',
          url,
          database: o.config.database,
          search: 'local',
          localDir: path.join(o.workDir, `pg-local-${target}-${name}`),
        });
        let local: (StoreRow & { materialiseSeconds: number }) | undefined;
        if (o.pgSearch.includes('local')) {
          const first = await serve(localRef('first'), 'PostgreSQL, local copy (from the rows)', buildSeconds, true);
          local = {
            ...(await serve(localRef('second'), 'PostgreSQL, local copy (from the snapshot)', buildSeconds)),
            materialiseSeconds: first.openSeconds,
          };
          for (const name of ['first', 'second'])
            fs.rmSync(path.join(o.workDir, `pg-local-${target}-${name}`), { recursive: true, force: true });
        }
        // With pgvector on the server, the database mode's dense search is pgvector's.
        const pgvector =
          pgvectorSource === 'server' && store.dense === 'pgvector'
            ? (postgres ??
              (await serve(
                { kind: 'postgres', url, database: o.config.database, search: 'database' },
                'PostgreSQL with pgvector',
                buildSeconds,
              )))
            : undefined;
        const replicas =
          o.replicas > 0
            ? await benchReplicas({
                url,
                replicas: o.replicas,
                workDir: path.join(o.workDir, `replicas-${target}`),
                config: o.config,
                articles,
                space,
                seed,
                target: store.target(),
                questions,
                outageMs: o.outageMs,
                logger: o.logger,
                note,
              })
            : null;
        return { postgres, local, replicas, pgvector };
      } finally {
        await dbPool.end();
      }
    });
    const pgvector = onServer
      ? { ...onServer, source: 'server' as const }
      : pgvectorSource === 'pglite'
        ? {
            ...(await onPglite(path.join(o.workDir, `pglite-${target}`), o, (url, storeTarget) =>
              build('PGlite with pgvector', dir, storeTarget).then((buildSeconds) =>
                serve(
                  { kind: 'postgres', url, database: pgliteSettings(o.config), search: 'database' },
                  'PGlite with pgvector',
                  buildSeconds,
                ),
              ),
            )),
            source: 'pglite' as const,
          }
        : undefined;
    sizes.push({
      target,
      embedded,
      ...(postgres ? { postgres } : {}),
      ...(local ? { local } : {}),
      ...(pgvector ? { pgvector } : {}),
      replicas,
    });
  }
  return {
    status: 'ok',
    note: 'Same synthetic articles, clustered random vectors (not model output) and questions in both stores, written through indexArticles; query vectors are synthetic too, so no model time is included. "other CPU" counts the PostgreSQL server as another process.',
    server,
    queries: questions.length,
    sizes,
    pgvectorSkipped,
  };
}

/** The exact top RECALL_K of each query vector in the embedded index at `dir`, as chunk ids. */
function exactTopK(dir: string, queries: Float32Array[]): RecallInput {
  const reader = IndexReader.open(dir, { verify: false });
  if (!(reader instanceof IndexReader)) throw new Error(reader.message);
  try {
    const exact = reader
      .exactSearchAll(queries, RECALL_K)
      .map((hits) => hits.map((h) => ({ id: reader.chunk(h.label)!.id, score: h.score })));
    return { k: RECALL_K, vectors: queries, exact };
  } finally {
    reader.close();
  }
}

/** Null when the server offers pgvector, else the line saying why the pgvector row is left out. */
async function pgvectorSkipLine(serverUrl: string, version: string): Promise<string | null> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    if ((await c.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'vector'`)).rows.length > 0) return null;
  } finally {
    await c.end();
  }
  return `pgvector row skipped: the server (${version.split(',')[0]}) has no vector extension; pass --pgvector pglite to compare with PGlite's pgvector (WebAssembly, slow to build: small sizes only)`;
}

/**
 * PGlite runs one statement at a time for all its connections (pglite-socket queues them), so a
 * long one (the HNSW index build) makes the others wait far longer than a real server would: give
 * connections two minutes instead of the configured wait, which is meant for an unreachable server.
 */
function pgliteSettings(config: Config): Config['database'] {
  return { ...config.database, connectTimeoutMs: Math.max(config.database.connectTimeoutMs, 120_000) };
}

/** A migrated PGlite server with pgvector: `fn` builds the index through `target` and serves it. */
function onPglite<T>(
  dataDir: string,
  o: Pick<PgRetrievalOptions, 'config' | 'logger'>,
  fn: (url: string, target: IndexTarget) => Promise<T>,
): Promise<T> {
  return withPglite(dataDir, async (url) => {
    const settings = { ...pgliteSettings(o.config), url };
    const dbPool = createPool(settings, o.logger);
    try {
      await migrate(dbPool, MIGRATIONS, o.logger);
      const store = await PgIndexStore.connect(poolDb(dbPool, settings, o.logger), {
        efSearch: o.config.hnsw.efSearch,
        dense: 'pgvector',
        logger: o.logger,
      });
      return await fn(url, store.target());
    } finally {
      await dbPool.end();
    }
  });
}

/**
 * Runs `fn` against a fresh PGlite server (with pgvector) in a process of its own, its data in
 * `dataDir`; the process is stopped and the folder removed afterwards.
 */
export async function withPglite<T>(dataDir: string, fn: (url: string) => Promise<T>): Promise<T> {
  fs.rmSync(dataDir, { recursive: true, force: true });
  const previous = process.env.PGLITE_DATA_DIR;
  process.env.PGLITE_DATA_DIR = dataDir;
  const child = forkTs(new URL('./pglite-server.ts', import.meta.url));
  if (previous === undefined) delete process.env.PGLITE_DATA_DIR;
  else process.env.PGLITE_DATA_DIR = previous;
  try {
    const started = await nextMessage<ChildReply<{ port: number }>>(child, 120_000, 'the PGlite server');
    if (!started.ok) throw new Error(`The PGlite server did not start: ${started.error}`);
    return await fn(`postgres://postgres@127.0.0.1:${started.result.port}/postgres`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Times the questions on `store` in a fresh process (or only opens it), with the start → first answer time. */
async function serveInChild(a: {
  store: StoreRef;
  label: string;
  buildSeconds: number;
  openOnly: boolean;
  target: number;
  questions: string[];
  vectors: Float32Array[];
  recall: RecallInput | undefined;
  config: Config;
  note: (line: string) => void;
}): Promise<StoreRow> {
  a.note(
    a.openOnly
      ? `pg-retrieval: opening ${a.label} in a fresh process…`
      : `pg-retrieval: timing ${a.questions.length} questions × 2 modes on ${a.label} in a fresh process…`,
  );
  const input: StoreServeInput = {
    store: a.store,
    efSearch: a.config.hnsw.efSearch,
    retrieval: a.config.retrieval,
    questions: a.questions,
    vectors: a.vectors,
    openOnly: a.openOnly,
    ...(a.recall && !a.openOnly ? { recall: a.recall } : {}),
  };
  const forkedAt = Date.now();
  const served = await runChild<StoreServeInput, StoreServeResult>(
    new URL('./store-serve-child.ts', import.meta.url),
    input,
    SERVE_TIMEOUT_MS,
    `the ${formatCount(a.target)} ${a.label} serving process`,
  );
  return { ...served, buildSeconds: a.buildSeconds, coldStartSeconds: (served.firstAnswerAt - forkedAt) / 1000 };
}

async function serverVersion(serverUrl: string): Promise<string> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    return (await c.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v;
  } finally {
    await c.end();
  }
}

/** Runs `fn` with a fresh database `newsdesk_bench_<suffix>` on the server, dropped afterwards. */
export async function withScratchDatabase<T>(serverUrl: string, suffix: string, fn: (url: string) => Promise<T>): Promise<T> {
  const name = `newsdesk_bench_${suffix.replace(/[^a-z0-9_]/gi, '_')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: serverUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return await fn(url.toString());
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}
