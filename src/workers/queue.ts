/**
 * The embedding work queue in PostgreSQL: one row per chunk still to embed for one embedder,
 * written by the indexing process after it stores a generation's chunks (with no vectors yet),
 * and taken in batches by any number of workers (`npm run worker`) on any machine.
 *
 * Claiming is one `UPDATE … WHERE key IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`: two
 * workers never wait for each other and never get the same row, and a claim is a lease (the
 * row's `lease_until`), not a lock held by an open transaction. A worker killed mid-batch holds
 * nothing: its rows become claimable again when the lease runs out. Finishing a batch stores the
 * vectors (idempotent: a batch embedded twice after an expired lease stores them once) and
 * deletes its rows. Written by hand rather than with pg-boss or graphile-worker (not installed):
 * the whole queue is these few statements, and rows per chunk let the writer see exactly what is
 * left of each generation.
 */
import os from 'node:os';

/** The SQL surface the queue needs (a node-postgres pool, or the index's `Db`). */
export interface Sql {
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

/** Migration 22. */
export const EMBEDDING_QUEUE_SQL = `
CREATE TABLE embedding_tasks (
  chunk_label integer NOT NULL,
  embedder_id text NOT NULL,
  generation integer NOT NULL,
  embed_text text NOT NULL,
  lease_until timestamptz,
  worker text,
  attempts integer NOT NULL DEFAULT 0,
  PRIMARY KEY (chunk_label, embedder_id)
);
CREATE INDEX embedding_tasks_claimable ON embedding_tasks (embedder_id, chunk_label);
CREATE INDEX embedding_tasks_generation ON embedding_tasks (generation);
-- Workers say they are alive; a process that indexes embeds by itself when none is.
CREATE TABLE embedding_workers (
  id text PRIMARY KEY,
  embedder_id text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  chunks_done bigint NOT NULL DEFAULT 0
);
`;

/** A chunk to embed. */
export interface EmbeddingTask {
  label: number;
  text: string;
}

/** Where finished vectors go (the index's embeddings table; see `indexEmbeddingsSink`). */
export interface VectorSink {
  /** Stores vectors for chunk labels; storing one that is already there changes nothing. */
  store(embedderId: string, items: readonly { label: number; vector: Float32Array }[]): Promise<void>;
}

/** A worker's identity: host, pid and a random suffix, readable in `embedding_workers`. */
export function workerId(): string {
  return `${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
}

/** The queue's statements. */
export class EmbeddingQueue {
  constructor(
    private readonly db: Sql,
    /** How long a claimed batch is reserved for its worker. */
    readonly leaseMs = 60_000,
  ) {}

  /** Adds chunks of `generation` to embed with `embedderId` (already queued ones are left as they are). */
  async enqueue(generation: number, embedderId: string, tasks: readonly EmbeddingTask[]): Promise<void> {
    for (let i = 0; i < tasks.length; i += 1000) {
      const part = tasks.slice(i, i + 1000);
      await this.db.query(
        `INSERT INTO embedding_tasks (chunk_label, embedder_id, generation, embed_text)
         SELECT t.label, $1, $2, t.text FROM unnest($3::int[], $4::text[]) AS t(label, text)
         ON CONFLICT DO NOTHING`,
        [embedderId, generation, part.map((t) => t.label), part.map((t) => t.text)],
      );
    }
  }

  /** Claims up to `limit` unleased (or lease-expired) chunks for `worker`, oldest first. */
  async claim(worker: string, embedderId: string, limit: number): Promise<EmbeddingTask[]> {
    const { rows } = await this.db.query<{ chunk_label: number; embed_text: string }>(
      `UPDATE embedding_tasks SET worker = $1, lease_until = now() + make_interval(secs => $4), attempts = attempts + 1
       WHERE (chunk_label, embedder_id) IN (
         SELECT chunk_label, embedder_id FROM embedding_tasks
         WHERE embedder_id = $2 AND (lease_until IS NULL OR lease_until < now())
         ORDER BY chunk_label LIMIT $3
         FOR UPDATE SKIP LOCKED)
       RETURNING chunk_label, embed_text`,
      [worker, embedderId, limit, this.leaseMs / 1000],
    );
    return rows.map((r) => ({ label: r.chunk_label, text: r.embed_text })).sort((a, b) => a.label - b.label);
  }

  /** Stores a claimed batch's vectors, then removes its rows (after the vectors, so a crash between loses nothing). */
  async complete(
    worker: string,
    embedderId: string,
    sink: VectorSink,
    items: readonly { label: number; vector: Float32Array }[],
  ): Promise<void> {
    if (items.length === 0) return;
    await sink.store(embedderId, items);
    const labels = items.map((x) => x.label);
    await this.db.query('DELETE FROM embedding_tasks WHERE embedder_id = $1 AND chunk_label = ANY($2::int[])', [embedderId, labels]);
    await this.db.query('UPDATE embedding_workers SET chunks_done = chunks_done + $2, heartbeat_at = now() WHERE id = $1', [
      worker,
      items.length,
    ]);
  }

  /** Chunks of `generation` still queued (claimed or not). */
  async remaining(generation: number, embedderId: string): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM embedding_tasks WHERE generation = $1 AND embedder_id = $2',
      [generation, embedderId],
    );
    return rows[0]?.n ?? 0;
  }

  /** Drops a generation's queued chunks (the build was abandoned). */
  async discard(generation: number): Promise<void> {
    await this.db.query('DELETE FROM embedding_tasks WHERE generation = $1', [generation]);
  }

  /** Marks `worker` alive (registering it on first call). */
  async heartbeat(worker: string, embedderId: string): Promise<void> {
    await this.db.query(
      `INSERT INTO embedding_workers (id, embedder_id) VALUES ($1, $2)
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), embedder_id = excluded.embedder_id`,
      [worker, embedderId],
    );
  }

  /** Removes `worker` (it stopped cleanly). */
  async leave(worker: string): Promise<void> {
    await this.db.query('DELETE FROM embedding_workers WHERE id = $1', [worker]);
  }

  /** Workers for `embedderId` that beat within `freshMs` (older rows are deleted: those processes died). */
  async liveWorkers(embedderId: string, freshMs: number): Promise<number> {
    await this.db.query(`DELETE FROM embedding_workers WHERE heartbeat_at < now() - make_interval(secs => $1)`, [(freshMs * 10) / 1000]);
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM embedding_workers WHERE embedder_id = $1 AND heartbeat_at >= now() - make_interval(secs => $2)`,
      [embedderId, freshMs / 1000],
    );
    return rows[0]?.n ?? 0;
  }
}

/**
 * The index's embeddings table as a sink: `index_embeddings (chunk_label, embedder_id, vector
 * real[])`, plus the pgvector `embedding` column when the index store added it.
 */
export async function indexEmbeddingsSink(db: Sql): Promise<VectorSink> {
  const { rows } = await db.query(
    `SELECT 1 FROM information_schema.columns WHERE table_name = 'index_embeddings' AND column_name = 'embedding' AND table_schema = current_schema()`,
  );
  const pgvector = rows.length > 0;
  const insert = async (embedderId: string, items: readonly { label: number; vector: Float32Array }[]) => {
    // As '{…}' array literals: a float32 printed as a double parses back to the same float32.
    const vectors = items.map((x) => `{${Array.from(x.vector).join(',')}}`);
    await db.query(
      pgvector
        ? `INSERT INTO index_embeddings (chunk_label, embedder_id, vector, embedding)
           SELECT t.label, $3, t.v::real[], t.v::real[]::vector FROM unnest($1::int[], $2::text[]) AS t(label, v) ON CONFLICT DO NOTHING`
        : `INSERT INTO index_embeddings (chunk_label, embedder_id, vector)
           SELECT t.label, $3, t.v::real[] FROM unnest($1::int[], $2::text[]) AS t(label, v) ON CONFLICT DO NOTHING`,
      [items.map((x) => x.label), vectors, embedderId],
    );
  };
  return {
    store: async (embedderId, items) => {
      try {
        await insert(embedderId, items);
      } catch (err) {
        if ((err as { code?: string }).code !== '23503') throw err;
        // Some chunks were deleted after they were queued (their build was abandoned): their
        // vectors are not wanted. Store the rest; the queue then drops the batch's rows, so an
        // orphaned chunk is never claimed again.
        const { rows: live } = await db.query<{ label: number }>('SELECT label FROM index_chunks WHERE label = ANY($1::int[])', [
          items.map((x) => x.label),
        ]);
        const keep = new Set(live.map((r) => r.label));
        const wanted = items.filter((x) => keep.has(x.label));
        if (wanted.length > 0) await insert(embedderId, wanted);
      }
    },
  };
}
