/**
 * The embedding queue and its two consumers (workers, and the indexing process helping when no
 * worker runs), against a real PostgreSQL: batches never overlap, a batch whose worker died is
 * embedded after its lease, and every queued chunk ends with exactly one stored vector.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { EmbeddingQueue, indexEmbeddingsSink, type VectorSink } from '../../src/workers/queue.js';
import { embedQueued, runWorker } from '../../src/workers/worker.js';
import type { TestDatabase } from '../support/postgres.js';
import { queueDatabase, storedLabels, tasks } from './support.js';

let db: TestDatabase;
let pool: pg.Pool;
let sink: VectorSink;
beforeAll(async () => {
  ({ db, pool } = await queueDatabase());
  sink = await indexEmbeddingsSink(pool);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

/** A stand-in model: a vector from the text's label, after a pause so workers interleave. */
const fakeEmbed =
  (ms = 5) =>
  async (texts: string[]) => {
    await new Promise((r) => setTimeout(r, ms));
    return texts.map((t) => Float32Array.from([Number(/chunk (\d+)/.exec(t)![1]), 1, 0]));
  };

let embedderSeq = 0;
const newEmbedder = () => `test:embedder-${++embedderSeq}`;

describe('embedding queue', () => {
  it('concurrent claims never hand out the same chunk twice', async () => {
    const e = newEmbedder();
    const queue = new EmbeddingQueue(pool, 60_000);
    await queue.enqueue(1, e, tasks(100));
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => queue.claim(`w${i}`, e, 15)));
    const labels = claims.flat().map((t) => t.label);
    expect(labels).toHaveLength(100);
    expect(new Set(labels).size).toBe(100);
    expect(await queue.claim('late', e, 15)).toEqual([]);
  });

  it('two workers drain the queue together; every chunk is stored once and the queue is empty', async () => {
    const e = newEmbedder();
    const queue = new EmbeddingQueue(pool, 60_000);
    await queue.enqueue(7, e, tasks(300));
    const abort = new AbortController();
    const workers = [1, 2].map((n) =>
      runWorker({ queue, sink, embedderId: e, embed: fakeEmbed(), batchSize: 16, id: `worker-${n}`, idleMs: 20, signal: abort.signal }),
    );
    while ((await queue.remaining(7, e)) > 0) await new Promise((r) => setTimeout(r, 20));
    abort.abort();
    const done = await Promise.all(workers);
    expect(done[0]!.chunks + done[1]!.chunks).toBe(300);
    expect(done.every((d) => d.chunks > 0)).toBe(true);
    expect(await storedLabels(pool, e)).toEqual(tasks(300).map((t) => t.label));
    const { rows } = await pool.query('SELECT vector FROM index_embeddings WHERE embedder_id = $1 AND chunk_label = 42', [e]);
    expect(rows[0].vector).toEqual([42, 1, 0]);
    // Stopped workers leave: an indexing process no longer counts them.
    expect(await queue.liveWorkers(e, 60_000)).toBe(0);
  });

  it('a batch claimed by a worker that died is embedded by another after its lease runs out', async () => {
    const e = newEmbedder();
    const queue = new EmbeddingQueue(pool, 1500);
    await queue.enqueue(3, e, tasks(40));
    // Taken before the claim: its lease (the server's now() + 1.5 s) cannot end earlier than this + 1.5 s.
    const claimedAt = Date.now();
    const lost = await queue.claim('killed-worker', e, 16);
    const seen: { label: number; at: number }[] = [];
    const abort = new AbortController();
    const worker = runWorker({
      queue,
      sink,
      embedderId: e,
      embed: async (texts) => {
        for (const t of texts) seen.push({ label: Number(/chunk (\d+)/.exec(t)![1]), at: Date.now() });
        return fakeEmbed(0)(texts);
      },
      batchSize: 16,
      idleMs: 50,
      signal: abort.signal,
    });
    while ((await queue.remaining(3, e)) > 0) await new Promise((r) => setTimeout(r, 20));
    abort.abort();
    expect((await worker).chunks).toBe(40);
    expect(await storedLabels(pool, e)).toEqual(tasks(40).map((t) => t.label));
    // The dead worker's chunks were taken only after its lease ran out, and nothing else waited.
    const lostLabels = new Set(lost.map((t) => t.label));
    expect(seen.filter((s) => lostLabels.has(s.label)).every((s) => s.at >= claimedAt + 1500)).toBe(true);
    expect(seen.filter((s) => !lostLabels.has(s.label)).every((s) => s.at < claimedAt + 1500)).toBe(true);
  });
});

describe('the indexing process and workers', () => {
  it('with no worker alive, the indexing process embeds its generation itself', async () => {
    const e = newEmbedder();
    const queue = new EmbeddingQueue(pool, 60_000);
    const progress: number[] = [];
    await embedQueued({
      queue,
      sink,
      generation: 11,
      embedderId: e,
      tasks: tasks(50),
      embed: fakeEmbed(0),
      batchSize: 16,
      pollMs: 10,
      onProgress: (d) => progress.push(d),
    });
    expect(await storedLabels(pool, e)).toHaveLength(50);
    expect(progress.at(-1)).toBe(50);
    expect(await queue.remaining(11, e)).toBe(0);
  });

  it('with a worker alive, the indexing process leaves the embedding to it and returns when all is done', async () => {
    const e = newEmbedder();
    const queue = new EmbeddingQueue(pool, 60_000);
    const abort = new AbortController();
    const worker = runWorker({ queue, sink, embedderId: e, embed: fakeEmbed(), batchSize: 8, idleMs: 20, signal: abort.signal });
    while ((await queue.liveWorkers(e, 60_000)) === 0) await new Promise((r) => setTimeout(r, 10));
    let embeddedHere = 0;
    await embedQueued({
      queue,
      sink,
      generation: 12,
      embedderId: e,
      tasks: tasks(60, 1000),
      embed: async (texts) => {
        embeddedHere += texts.length;
        return fakeEmbed(0)(texts);
      },
      batchSize: 16,
      pollMs: 10,
    });
    expect(await storedLabels(pool, e)).toEqual(tasks(60, 1000).map((t) => t.label));
    abort.abort();
    expect((await worker).chunks).toBe(60);
    expect(embeddedHere).toBe(0);
  });
});

describe('chunks deleted after they were queued', () => {
  it('are dropped from the queue instead of failing every batch (the build that queued them was abandoned)', async () => {
    // A schema of its own with the index's foreign key from embeddings to chunks.
    await pool.query(`CREATE SCHEMA orphans;
      CREATE TABLE orphans.index_chunks (label integer PRIMARY KEY);
      CREATE TABLE orphans.index_embeddings (chunk_label integer NOT NULL REFERENCES orphans.index_chunks(label) ON DELETE CASCADE,
        embedder_id text NOT NULL, vector real[] NOT NULL, PRIMARY KEY (chunk_label, embedder_id));
      INSERT INTO orphans.index_chunks SELECT generate_series(1, 30);`);
    // The search path is a startup option: a SET fired from a 'connect' hook raced the pool's first
    // query on the same connection (pg's "already executing a query" deprecation warning).
    const scopedUrl = new URL(db.url);
    scopedUrl.searchParams.set('options', '-c search_path=orphans,public');
    const scoped = createPool({ url: scopedUrl.toString(), poolMax: 2, connectTimeoutMs: 5000 });
    try {
      const e = newEmbedder();
      const queue = new EmbeddingQueue(pool, 60_000);
      await queue.enqueue(21, e, tasks(40));
      // Chunks 31–40 are gone (their generation was discarded) before any worker got to them.
      const abort = new AbortController();
      const worker = runWorker({
        queue,
        sink: await indexEmbeddingsSink(scoped),
        embedderId: e,
        embed: fakeEmbed(0),
        batchSize: 16,
        idleMs: 20,
        signal: abort.signal,
      });
      const deadline = Date.now() + 15_000;
      while ((await queue.remaining(21, e)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      abort.abort();
      await worker;
      expect(await queue.remaining(21, e)).toBe(0);
      const { rows } = await scoped.query<{ n: number }>('SELECT count(*)::int AS n FROM index_embeddings WHERE embedder_id = $1', [e]);
      expect(rows[0]!.n).toBe(30);
    } finally {
      await scoped.end();
    }
  });
});
