/**
 * The write side of the PostgreSQL index: one generation at a time, under the reindex advisory
 * lock. Rows are added and retired next to the published generation (see schema.ts), chunks
 * are stored before they are embedded, and publishing is one transaction that checks every
 * chunk has its embedding, moves `index_current` and NOTIFYs the replicas. A build that dies
 * leaves a 'building' generation whose rows the next build removes.
 */
import type { Db, Queryable } from '../../db/client.js';
import { ADVISORY_LOCKS } from '../../db/locks.js';
import type { Article, Chunk } from '../../types.js';
import { BusyError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import type { IndexInfo } from '../search-index.js';
import type { BaseGeneration, GenerationSink, IndexTarget, PublishStep } from '../target.js';
import type { ArticleRecord, StoreSettings } from '../writer.js';
import { EmbeddingQueue } from '../../workers/queue.js';
import { embedQueued } from '../../workers/worker.js';
import { ARTICLE_TSV, PUBLISHED_CHANNEL, tsvLength, visible } from './sql.js';

/** A published generation as stored in `index_generations`. */
export interface PgGeneration extends BaseGeneration {
  id: number;
}

/** What the writer needs to know about the database. */
export interface PgWriteOptions {
  /** True when the server has pgvector: embeddings also go to the `embedding vector` column. */
  pgvector: boolean;
  /** Chunks per INSERT statement. */
  rowsPerStatement?: number;
  /** How long a batch claimed from the embedding queue stays reserved (WORKER_LEASE_SECONDS). */
  workerLeaseMs?: number;
}

/** The published generation's row, as `IndexInfo`, or null when nothing is published yet. */
export async function publishedGeneration(db: Queryable): Promise<PgGeneration | null> {
  const { rows } = await db.query<GenerationRow>(
    `SELECT g.* , to_char(g.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS built_at
     FROM index_current c JOIN index_generations g ON g.id = c.generation_id`,
  );
  const row = rows[0];
  return row ? { id: row.id, manifest: infoOf(row) } : null;
}

interface GenerationRow {
  id: number;
  embedder_id: string | null;
  dimension: number | null;
  chunker: string;
  articles_dir: string | null;
  hnsw_m: number | null;
  hnsw_ef_construction: number | null;
  article_count: number;
  chunk_count: number;
  built_at: string;
}

function infoOf(row: GenerationRow): IndexInfo {
  return {
    generation: row.id,
    builtAt: row.built_at,
    embedder: row.embedder_id ? { id: row.embedder_id, dimension: row.dimension ?? 0 } : null,
    chunker: row.chunker,
    articlesDir: row.articles_dir,
    hnsw: row.embedder_id ? { m: row.hnsw_m ?? 16, efConstruction: row.hnsw_ef_construction ?? 200, deleted: 0 } : null,
    counts: { articles: row.article_count, chunks: row.chunk_count },
  };
}

/** PostgreSQL as a target of the indexing pipeline. */
export function pgTarget(db: Db, options: PgWriteOptions, log: Logger): IndexTarget<PgGeneration> {
  return {
    embedsAfterWrite: true,
    withWriteLock: async (write) => {
      const result = await db.withTryLock(ADVISORY_LOCKS.reindex, write);
      if (!result.locked) throw new BusyError('Another indexing run is already in progress.');
      return result.value;
    },
    current: async () => publishedGeneration(db),
    storedHashes: async (base) => {
      const { rows } = await db.query<{ id: string; hash: string }>(
        `SELECT a.id, a.hash FROM index_articles a WHERE ${visible('a', '$1')}`,
        [base.id],
      );
      return new Map(rows.map((r) => [r.id, r.hash]));
    },
    begin: async (base, settings, o = {}) => PgGenerationWriter.begin(db, { base, settings, options, log, ...o }),
  };
}

interface BeginOptions {
  base: PgGeneration | null;
  settings: StoreSettings;
  options: PgWriteOptions;
  log: Logger;
  articlesDir?: string;
  onStep?: (step: string) => void;
  onPublish?: PublishStep;
}

/** One generation being written into PostgreSQL. */
export class PgGenerationWriter implements GenerationSink {
  private constructor(
    private readonly db: Db,
    private readonly n: number,
    private readonly o: BeginOptions,
  ) {}

  /** Removes what killed builds left, then registers generation n (a full build retires every live row). */
  static async begin(db: Db, o: BeginOptions): Promise<PgGenerationWriter> {
    await abandonUnfinished(db, o.log);
    const n = await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ n: number }>('SELECT coalesce(max(id), 0) + 1 AS n FROM index_generations');
      const next = rows[0]!.n;
      const { embedder, chunker, hnsw } = o.settings;
      await tx.query(
        `INSERT INTO index_generations (id, base_id, embedder_id, dimension, chunker, hnsw_m, hnsw_ef_construction, articles_dir)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          next,
          o.base?.id ?? null,
          embedder?.id ?? null,
          embedder?.dimension ?? null,
          chunker,
          hnsw.m,
          hnsw.efConstruction,
          o.articlesDir ?? null,
        ],
      );
      if (!o.base) {
        // A full build starts empty: everything live now is retired as of generation n.
        await tx.query('UPDATE index_articles SET removed_gen = $1 WHERE removed_gen IS NULL', [next]);
        await tx.query('UPDATE index_chunks SET removed_gen = $1 WHERE removed_gen IS NULL', [next]);
      }
      return next;
    });
    o.onStep?.('copied');
    return new PgGenerationWriter(db, n, o);
  }

  /** Retires the articles (and their chunks) as of this generation; readers of older ones still see them. */
  async removeArticles(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) {
      await this.db.transaction(async (tx) => {
        await tx.query('UPDATE index_chunks SET removed_gen = $1 WHERE removed_gen IS NULL AND article_id = ANY($2::text[])', [
          this.n,
          ids,
        ]);
        await tx.query('UPDATE index_articles SET removed_gen = $1 WHERE removed_gen IS NULL AND id = ANY($2::text[])', [this.n, ids]);
      });
    }
    this.o.onStep?.('dropped');
  }

  /** Inserts articles and their chunks (and vectors, when given), a batch per statement. */
  async addArticles(records: readonly ArticleRecord[]): Promise<void> {
    const per = this.o.options.rowsPerStatement ?? 500;
    for (let i = 0; i < records.length; ) {
      // Batches of whole articles, about `per` chunks each.
      let j = i;
      let chunks = 0;
      while (j < records.length && (j === i || chunks + records[j]!.chunks.length <= per)) chunks += records[j++]!.chunks.length;
      await this.db.transaction((tx) => this.insertBatch(tx, records.slice(i, j)));
      i = j;
    }
    this.o.onStep?.('inserted');
  }

  private async insertBatch(tx: Queryable, batch: readonly ArticleRecord[]): Promise<void> {
    const a = batch.map((r) => r.article);
    const col = <K extends keyof Article>(k: K) => a.map((x) => x[k]);
    const { rows } = await tx.query<{ row_id: number; id: string }>(
      `INSERT INTO index_articles (id, title, date, url, source, path, hash, text, tsv, title_tsv, tokens, added_gen, lang)
       SELECT t.id, t.title, t.date, t.url, t.source, t.path, t.hash, t.text, v.tsv, to_tsvector('english', t.title), ${tsvLength('v.tsv')}, $9, t.lang
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $10::text[])
         AS t(id, title, date, url, source, path, hash, text, lang),
       LATERAL (SELECT ${ARTICLE_TSV} AS tsv) v
       RETURNING row_id, id`,
      [
        col('id'),
        col('title'),
        col('date'),
        col('url'),
        col('source'),
        col('path'),
        col('hash'),
        col('text'),
        this.n,
        batch.map((r) => r.lang ?? null),
      ],
    );
    const rowOf = new Map(rows.map((r) => [r.id, r.row_id]));
    const chunks: { c: Chunk; row: number; vector: Float32Array | null }[] = batch.flatMap((r) =>
      r.chunks.map((c, i) => ({ c, row: rowOf.get(r.article.id)!, vector: r.vectors?.[i] ?? null })),
    );
    if (chunks.length === 0) return;
    const ch = <K extends keyof Chunk>(k: K) => chunks.map((x) => x.c[k]);
    const inserted = await tx.query<{ label: number; id: string }>(
      `INSERT INTO index_chunks (article_row, id, article_id, ordinal, start_offset, end_offset, text, embed_text, model_tokens, tsv, tokens, added_gen)
       SELECT t.article_row, t.id, t.article_id, t.ordinal, t.s, t.e, t.text, t.embed_text, t.model_tokens, v.tsv, ${tsvLength('v.tsv')}, $10
       FROM unnest($1::int[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::text[], $8::text[], $9::int[])
         AS t(article_row, id, article_id, ordinal, s, e, text, embed_text, model_tokens),
       LATERAL (SELECT to_tsvector('english', t.embed_text) AS tsv) v
       RETURNING label, id`,
      [
        chunks.map((x) => x.row),
        ch('id'),
        ch('articleId'),
        ch('ordinal'),
        ch('start'),
        ch('end'),
        ch('text'),
        ch('embedText'),
        ch('tokens'),
        this.n,
      ],
    );
    const embedder = this.o.settings.embedder;
    if (!embedder) return;
    const labelOf = new Map(inserted.rows.map((r) => [r.id, r.label]));
    const given = chunks.filter((x) => x.vector !== null).map((x) => ({ label: labelOf.get(x.c.id)!, vector: x.vector! }));
    if (given.length > 0) await storeEmbeddings(tx, embedder.id, given, this.o.options.pgvector);
  }

  /**
   * Has this generation's chunks that lack a vector embedded: queues them (embedding_tasks), then
   * waits while `npm run worker` processes take batches, embedding batches itself whenever no
   * worker is alive. Returns when none is left.
   */
  async embedPending(
    embed: (texts: string[]) => Promise<Float32Array[]>,
    batchSize: number,
    onBatch: (done: number, total: number) => void,
  ): Promise<void> {
    const embedder = this.o.settings.embedder;
    if (!embedder) return;
    // Queued in the database in one statement: a million chunks never pass through this process.
    await this.db.query(
      `INSERT INTO embedding_tasks (chunk_label, embedder_id, generation, embed_text)
       SELECT c.label, $2, $1, c.embed_text FROM index_chunks c
       WHERE ${visible('c', '$1')}
         AND NOT EXISTS (SELECT 1 FROM index_embeddings e WHERE e.chunk_label = c.label AND e.embedder_id = $2)
       ON CONFLICT DO NOTHING`,
      [this.n, embedder.id],
    );
    const pgvector = this.o.options.pgvector;
    await embedQueued({
      queue: new EmbeddingQueue(this.db, this.o.options.workerLeaseMs),
      sink: { store: (embedderId, items) => storeEmbeddings(this.db, embedderId, items, pgvector) },
      generation: this.n,
      embedderId: embedder.id,
      tasks: [],
      embed,
      batchSize,
      onProgress: onBatch,
      log: this.o.log,
    });
  }

  /** Publishes: checks completeness, counts, moves `index_current` and notifies, all in one transaction. */
  async commit(): Promise<{ generation: number; counts: IndexInfo['counts'] }> {
    const step = this.o.onStep ?? (() => {});
    step('vectors-written');
    const embedder = this.o.settings.embedder;
    const counts = await this.db.transaction(async (tx) => {
      if (embedder) {
        const missing = await countPending(tx, this.n, embedder.id);
        if (missing > 0) throw new Error(`Generation ${this.n} cannot be published: ${missing} chunk(s) have no embedding yet.`);
      }
      const { rows } = await tx.query<{ articles: number; chunks: number }>(
        `SELECT (SELECT count(*) FROM index_articles a WHERE ${visible('a', '$1')})::int AS articles,
                (SELECT count(*) FROM index_chunks c WHERE ${visible('c', '$1')})::int AS chunks`,
        [this.n],
      );
      const c = rows[0]!;
      await tx.query(
        `UPDATE index_generations SET state = 'published', published_at = now(), article_count = $2, chunk_count = $3 WHERE id = $1`,
        [this.n, c.articles, c.chunks],
      );
      await tx.query(
        `INSERT INTO index_current (singleton, generation_id) VALUES (true, $1)
         ON CONFLICT (singleton) DO UPDATE SET generation_id = EXCLUDED.generation_id`,
        [this.n],
      );
      // What must go with this publish (a removed article's source) commits or rolls back with it.
      await this.o.onPublish?.(tx);
      // Delivered to listeners only when this transaction commits.
      await tx.query('SELECT pg_notify($1, $2)', [PUBLISHED_CHANNEL, String(this.n)]);
      return c;
    });
    step('switched');
    await purgeRetired(this.db, this.n);
    return { generation: this.n, counts };
  }

  /** Removes everything this unpublished generation wrote. */
  async abort(): Promise<void> {
    await discardGeneration(this.db, this.n);
  }
}

/** Stores vectors of chunks for one embedder (and in the pgvector column when the server has it). */
async function storeEmbeddings(
  db: Queryable,
  embedderId: string,
  items: readonly { label: number; vector: Float32Array }[],
  pgvector: boolean,
): Promise<void> {
  const labels = items.map((x) => x.label);
  // As '{…}' array literals: exact (a float32 printed as a double parses back to the same float32).
  const vectors = items.map((x) => `{${Array.from(x.vector).join(',')}}`);
  await db.query(
    pgvector
      ? `INSERT INTO index_embeddings (chunk_label, embedder_id, vector, embedding)
         SELECT t.label, $3, t.v::real[], t.v::real[]::vector FROM unnest($1::int[], $2::text[]) AS t(label, v)
         ON CONFLICT DO NOTHING`
      : `INSERT INTO index_embeddings (chunk_label, embedder_id, vector)
         SELECT t.label, $3, t.v::real[] FROM unnest($1::int[], $2::text[]) AS t(label, v)
         ON CONFLICT DO NOTHING`,
    [labels, vectors, embedderId],
  );
}

async function countPending(db: Queryable, n: number, embedderId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM index_chunks c WHERE ${visible('c', '$1')}
       AND NOT EXISTS (SELECT 1 FROM index_embeddings e WHERE e.chunk_label = c.label AND e.embedder_id = $2)`,
    [n, embedderId],
  );
  return rows[0]!.n;
}

/** Undoes generation n's writes: its new rows go, the rows it retired are live again. */
async function discardGeneration(db: Db, n: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM embedding_tasks WHERE generation = $1', [n]);
    await tx.query('DELETE FROM index_chunks WHERE added_gen = $1', [n]);
    await tx.query('DELETE FROM index_articles WHERE added_gen = $1', [n]);
    await tx.query('UPDATE index_chunks SET removed_gen = NULL WHERE removed_gen = $1', [n]);
    await tx.query('UPDATE index_articles SET removed_gen = NULL WHERE removed_gen = $1', [n]);
    await tx.query(`UPDATE index_generations SET state = 'abandoned' WHERE id = $1`, [n]);
  });
}

/** Discards generations left 'building' by a run that died (the caller holds the reindex lock). */
async function abandonUnfinished(db: Db, log: Logger): Promise<void> {
  const { rows } = await db.query<{ id: number }>(`SELECT id FROM index_generations WHERE state = 'building' ORDER BY id`);
  for (const { id } of rows) {
    log.warn('index.abandoned_build', { generation: id, action: 'removing its rows' });
    await discardGeneration(db, id);
  }
}

/**
 * Deletes rows no reader can need: those retired before the previous generation (a replica may
 * still serve generation n-1 for the moment it takes to follow the NOTIFY).
 */
async function purgeRetired(db: Db, n: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM index_chunks WHERE removed_gen IS NOT NULL AND removed_gen < $1', [n]);
    await tx.query('DELETE FROM index_articles WHERE removed_gen IS NOT NULL AND removed_gen < $1', [n]);
  });
}
