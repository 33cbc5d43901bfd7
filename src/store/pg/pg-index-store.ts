/**
 * The PostgreSQL index as one object: preparation (pgvector when the server has it), the
 * pipeline target, readers of the published generation, and notifications of new ones.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../../db/client.js';
import { ADVISORY_LOCKS } from '../../db/locks.js';
import { errorMessage } from '../../util/errors.js';
import { type Logger, silentLogger } from '../../util/log.js';
import type { IndexStore } from '../index-store.js';
import type { IndexView, OpenFailure } from '../search-index.js';
import type { IndexTarget } from '../target.js';
import type { StoreSettings } from '../writer.js';
import { LocalIndexCache } from './local.js';
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

  private constructor(
    readonly db: Db,
    /** How dense search runs in this process. */
    readonly dense: DenseMode,
    private readonly iterativeScan: boolean,
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
    const wanted = options.dense ?? 'auto';
    const version = wanted === 'hnswlib' ? null : await preparePgvector(db, log);
    if (wanted === 'pgvector' && !version) throw new Error('pgvector was asked for but the database server does not have the extension.');
    const dense: DenseMode = version ? 'pgvector' : 'hnswlib';
    log.info('index.pg_dense', { dense, pgvector: version });
    return new PgIndexStore(db, dense, version !== null && compareVersions(version, '0.8.0') >= 0, options, log);
  }

  /** The target the indexing pipeline writes to. */
  target(): IndexTarget {
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

  async publishedGeneration(): Promise<number | null> {
    return (await this.published())?.id ?? null;
  }

  /**
   * The published generation: its local copy (fetched or built first when this machine lacks it)
   * with local search, else a database reader (patching `previous`'s in-memory vectors when it is
   * one of ours). Checksums are checked when a copy is downloaded or written, not again here.
   */
  async open(previous: IndexView | null): Promise<IndexView | OpenFailure> {
    if (this.local) {
      const g = await this.published();
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
  watch(onChange: () => void): Promise<() => Promise<void>> {
    return this.onPublished(onChange);
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

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
