/**
 * The PostgreSQL index as one object: preparation (pgvector when the server has it), the
 * pipeline target, readers of the published generation, and notifications of new ones.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../../db/client.js';
import { ADVISORY_LOCKS } from '../../db/locks.js';
import { DatabaseUnavailableError, errorMessage } from '../../util/errors.js';
import { type Logger, silentLogger } from '../../util/log.js';
import type { IndexStore } from '../index-store.js';
import type { IndexView, OpenFailure } from '../search-index.js';
import type { IndexTarget } from '../target.js';
import type { StoreSettings } from '../writer.js';
import { LocalIndexCache, newestKeptIn } from './local.js';
import { type DenseMode, PgIndexReader } from './reader.js';
import { PUBLISHED_CHANNEL } from './sql.js';
import { type PgGeneration, pgTarget, publishedGeneration } from './writer.js';

export { type LocalOpenStatus, type LocalSource, SNAPSHOT_AT, SNAPSHOT_MIN } from './local.js';
export { PgIndexReader } from './reader.js';
export type { PgGeneration } from './writer.js';

/** Options of the store. */
export interface PgIndexStoreOptions {
  efSearch: number;
  /** How long a batch claimed from the embedding queue stays reserved. */
  workerLeaseMs?: number;
  /** 'auto' uses pgvector when the server has it, else an in-memory hnswlib graph per process. */
  dense?: DenseMode | 'auto';
  /**
   * Where searches run: 'local' (a replica-local copy of the generation in the embedded format,
   * kept in `localDir`; see local.ts) or 'database' (BM25 and, with pgvector, dense search in
   * PostgreSQL). Default: 'local' when `localDir` is given.
   */
  search?: PgSearchMode;
  /** The folder of the local copies (PG_SEARCH=local). */
  localDir?: string;
  logger?: Logger;
}

/** Where PostgreSQL mode's searches run (PG_SEARCH). */
export type PgSearchMode = 'local' | 'database';

/** The index in PostgreSQL (after migrations ran). */
export class PgIndexStore implements IndexStore {
  /** The replica-local copies when searches run locally, else null. */
  readonly local: LocalIndexCache | null;

  /** Started while the database was away (`connect`): pgvector is looked for before the first write. */
  private unprepared = false;

  private constructor(
    readonly db: Db,
    /** How dense search runs in this process. */
    public dense: DenseMode,
    private iterativeScan: boolean,
    private readonly options: PgIndexStoreOptions,
    private readonly log: Logger,
  ) {
    const search = options.search ?? (options.localDir ? 'local' : 'database');
    if (search === 'local' && !options.localDir) throw new Error('Local search needs a folder for the local copies (localDir).');
    this.local = search === 'local' ? new LocalIndexCache(db, options.localDir!, { efSearch: options.efSearch, logger: log }) : null;
  }

  /** Where searches run. */
  get search(): PgSearchMode {
    return this.local ? 'local' : 'database';
  }

  /** Prepares the store: installs pgvector and its column when the server offers the extension. */
  static async connect(db: Db, options: PgIndexStoreOptions): Promise<PgIndexStore> {
    const log = options.logger ?? silentLogger;
    try {
      const { dense, iterativeScan } = await prepare(db, options, log);
      return new PgIndexStore(db, dense, iterativeScan, options, log);
    } catch (err) {
      if (!(err instanceof DatabaseUnavailableError && canStartOffline(options))) throw err;
      // A replica with a local copy starts on it; the database is asked again before the first write.
      log.warn('index.pg_offline_start', { problem: errorMessage(err), action: 'serving the local copy until the database is back' });
      const store = new PgIndexStore(db, 'hnswlib', false, options, log);
      store.unprepared = true;
      return store;
    }
  }

  /** The target the indexing pipeline writes to. */
  target(): IndexTarget {
    if (this.unprepared) return this.targetOncePrepared();
    return this.preparedTarget();
  }

  /** A target that looks for pgvector (which sets how vectors are written) when its first write starts. */
  private targetOncePrepared(): IndexTarget {
    const reads = pgTarget(this.db, { pgvector: false }, this.log);
    let real: IndexTarget | null = null;
    return {
      embedsAfterWrite: reads.embedsAfterWrite,
      withWriteLock: async (write) => {
        if (this.unprepared) {
          const { dense, iterativeScan } = await prepare(this.db, this.options, this.log);
          this.dense = dense;
          this.iterativeScan = iterativeScan;
          this.unprepared = false;
        }
        real = this.preparedTarget();
        return real.withWriteLock(write);
      },
      current: (log) => (real ?? reads).current(log),
      storedHashes: (b) => (real ?? reads).storedHashes(b as never),
      begin: (b, settings, o) => (real ?? reads).begin(b as never, settings, o),
    } as IndexTarget;
  }

  private preparedTarget(): IndexTarget {
    const base = pgTarget(
      this.db,
      { pgvector: this.dense === 'pgvector', ...(this.options.workerLeaseMs ? { workerLeaseMs: this.options.workerLeaseMs } : {}) },
      this.log,
    );
    if (this.dense !== 'pgvector') return base;
    return {
      ...base,
      begin: async (b, settings, o) => {
        const sink = await base.begin(b as PgGeneration | null, settings, o);
        // Built once the first generation's vectors are in (a bulk build is much faster than
        // inserting into the graph row by row); later generations' rows are added to it.
        const commit = sink.commit.bind(sink);
        sink.commit = async () => {
          await this.ensureVectorIndex(settings);
          return commit();
        };
        return sink;
      },
    } as IndexTarget;
  }

  /** The published generation, or null when there is none yet. */
  published(): Promise<PgGeneration | null> {
    return publishedGeneration(this.db);
  }

  /** Opens a reader of the published generation (patching `previous`'s vectors when given), or null when none is published. */
  async openReader(previous?: PgIndexReader | null): Promise<PgIndexReader | null> {
    const g = await this.published();
    if (!g) return null;
    return PgIndexReader.open(
      this.db,
      g,
      { dense: this.dense, efSearch: this.options.efSearch, iterativeScan: this.iterativeScan },
      previous,
    );
  }

  /** Calls `onChange` when a generation is published (or the notification connection came back). */
  onPublished(onChange: () => void): Promise<() => Promise<void>> {
    return this.db.listen(PUBLISHED_CHANNEL, () => onChange());
  }

  /**
   * The published generation's number; with local search while the database is unreachable, the
   * newest local copy's (so a replica starting or following during an outage serves what it has).
   */
  async publishedGeneration(): Promise<number | null> {
    try {
      return (await this.published())?.id ?? null;
    } catch (err) {
      const kept = this.local && err instanceof DatabaseUnavailableError ? this.local.newestKept() : null;
      if (kept === null) throw err;
      return kept;
    }
  }

  /**
   * The published generation: its local copy (fetched or built first when this machine lacks it)
   * with local search, else a database reader (patching `previous`'s in-memory vectors when it is
   * one of ours). Checksums are checked when a copy is downloaded or written, not again here.
   */
  async open(previous: IndexView | null): Promise<IndexView | OpenFailure> {
    if (this.local) {
      let g: PgGeneration | null;
      try {
        g = await this.published();
      } catch (err) {
        if (!(err instanceof DatabaseUnavailableError)) throw err;
        // The database is away: the newest local copy, when there is one.
        const kept = await this.local.openKept();
        if (kept === null) throw err;
        return kept;
      }
      return g ? this.local.open(g) : { kind: 'missing', message: 'No index in the database yet.' };
    }
    const opened = await this.openReader(previous instanceof PgIndexReader ? previous : null);
    return opened ?? { kind: 'missing', message: 'No index in the database yet.' };
  }

  /** Stops the local copies' worker thread (nothing else to release: the pool is the caller's). */
  async close(): Promise<void> {
    await this.local?.close();
  }

  /** Follows NOTIFY rather than polling: `intervalMs` does not apply. */
  async watch(onChange: () => void): Promise<() => Promise<void>> {
    try {
      return await this.onPublished(onChange);
    } catch (err) {
      // Without a database, a replica serving its local copy keeps trying, and looks once it listens.
      if (!this.local) throw err;
      this.log.warn('index.follow_waiting', { problem: errorMessage(err), action: 'listening again every 2 s' });
      let stop: (() => Promise<void>) | null = null;
      let stopped = false;
      const attempt = () => {
        this.onPublished(onChange).then(
          (s) => {
            if (stopped) void s();
            else {
              stop = s;
              onChange();
            }
          },
          () => {
            if (!stopped) setTimeout(attempt, 2000).unref();
          },
        );
      };
      setTimeout(attempt, 2000).unref();
      return async () => {
        stopped = true;
        await stop?.();
      };
    }
  }

  /** The partial HNSW index for this embedder's vectors (built as rows arrive). */
  private async ensureVectorIndex(settings: StoreSettings): Promise<void> {
    const e = settings.embedder;
    if (!e) return;
    const name = pgvectorIndexName(e.id, e.dimension);
    await this.db.query(
      `CREATE INDEX IF NOT EXISTS ${name} ON index_embeddings USING hnsw ((embedding::vector(${e.dimension})) vector_ip_ops)
       WITH (m = ${settings.hnsw.m}, ef_construction = ${settings.hnsw.efConstruction})
       WHERE embedder_id = '${e.id.replace(/'/g, "''")}'`,
    );
  }
}

/** Name of the HNSW index of one embedder's vectors. */
export function pgvectorIndexName(embedderId: string, dimension: number): string {
  return `index_embeddings_hnsw_${dimension}_${createHash('sha1').update(embedderId).digest('hex').slice(0, 10)}`;
}

/**
 * Installs pgvector (if the server offers it and we may) and the `embedding vector` column, under
 * the migrations lock so replicas starting together do not race. Returns its version, or null.
 */
async function preparePgvector(db: Db, log: Logger): Promise<string | null> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.migrations.toString()]);
    const installed = async () =>
      (await tx.query<{ v: string }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'`)).rows[0]?.v ?? null;
    let version = await installed();
    if (!version) {
      const offered = (await tx.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'vector'`)).rows.length > 0;
      if (!offered) return null;
      try {
        await tx.query('SAVEPOINT vector_ext');
        await tx.query('CREATE EXTENSION IF NOT EXISTS vector');
        await tx.query('RELEASE SAVEPOINT vector_ext');
      } catch (err) {
        await tx.query('ROLLBACK TO SAVEPOINT vector_ext');
        log.warn('index.pgvector_unavailable', { error: errorMessage(err), action: 'in-memory hnswlib per process' });
        return null;
      }
      version = await installed();
    }
    await tx.query('ALTER TABLE index_embeddings ADD COLUMN IF NOT EXISTS embedding vector');
    return version;
  });
}

/** How dense search runs: pgvector when the server has it (installed here when we may). */
async function prepare(db: Db, options: PgIndexStoreOptions, log: Logger): Promise<{ dense: DenseMode; iterativeScan: boolean }> {
  const wanted = options.dense ?? 'auto';
  const version = wanted === 'hnswlib' ? null : await preparePgvector(db, log);
  if (wanted === 'pgvector' && !version) throw new Error('pgvector was asked for but the database server does not have the extension.');
  const dense: DenseMode = version ? 'pgvector' : 'hnswlib';
  log.info('index.pg_dense', { dense, pgvector: version });
  return { dense, iterativeScan: version !== null && compareVersions(version, '0.8.0') >= 0 };
}

/** True when a store with these options can serve without the database: local search with a kept copy. */
export function canStartOffline(options: Pick<PgIndexStoreOptions, 'search' | 'localDir'>): boolean {
  const search = options.search ?? (options.localDir ? 'local' : 'database');
  return search === 'local' && options.localDir !== undefined && newestKeptIn(options.localDir) !== null;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
