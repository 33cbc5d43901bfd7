/**
 * Embedding work, both sides of the queue (queue.ts):
 * - `runWorker`: what `npm run worker` runs: claim a batch, embed it, store it, repeat; beats a
 *   heartbeat so indexing processes know a worker is there; stops between batches when aborted.
 * - `embedQueued`: what the indexing process runs after writing a generation's chunks: queue
 *   them, then wait until none is left, embedding batches itself while no worker is alive (so a
 *   single `npm start` with DATABASE_URL needs no worker). It returns only when every chunk of
 *   the generation has its vector, so the caller publishes a complete generation.
 */
import { errorMessage } from '../util/errors.js';
import { type Logger, silentLogger } from '../util/log.js';
import { type EmbeddingQueue, type EmbeddingTask, type VectorSink, workerId } from './queue.js';

/** Turns texts into vectors (an `Embedder`'s `embedDocuments`). */
export type EmbedFn = (texts: string[]) => Promise<Float32Array[]>;

/** What one worker needs. */
export interface WorkerOptions {
  queue: EmbeddingQueue;
  sink: VectorSink;
  embedderId: string;
  embed: EmbedFn;
  batchSize: number;
  id?: string;
  /** Pause when the queue is empty (or the database is away). */
  idleMs?: number;
  heartbeatMs?: number;
  signal?: AbortSignal;
  log?: Logger;
}

/** Default heartbeat; an indexing process counts a worker alive for three of these. */
export const WORKER_HEARTBEAT_MS = 2_000;

/** Runs until `signal` aborts (finishing the batch in hand); returns how much it embedded. */
export async function runWorker(o: WorkerOptions): Promise<{ chunks: number; batches: number }> {
  const id = o.id ?? workerId();
  const log = o.log ?? silentLogger;
  const idleMs = o.idleMs ?? 500;
  const beat = () => o.queue.heartbeat(id, o.embedderId).catch((err) => log.warn('worker.heartbeat_failed', { error: errorMessage(err) }));
  await beat();
  const timer = setInterval(beat, o.heartbeatMs ?? WORKER_HEARTBEAT_MS);
  timer.unref();
  let chunks = 0;
  let batches = 0;
  try {
    while (!o.signal?.aborted) {
      let done: number;
      try {
        done = await embedOneBatch(o, id);
      } catch (err) {
        // Database away or the model failed: the batch's lease runs out and it is claimed again.
        log.warn('worker.batch_failed', { worker: id, error: errorMessage(err) });
        done = 0;
      }
      if (done === 0) {
        await pause(idleMs, o.signal);
        continue;
      }
      chunks += done;
      batches++;
      log.info('worker.batch', { worker: id, chunks: done, total: chunks });
    }
  } finally {
    clearInterval(timer);
    await o.queue.leave(id).catch(() => {});
  }
  return { chunks, batches };
}

/** Claims, embeds and stores one batch; returns its size (0 when nothing was claimable). */
async function embedOneBatch(o: Pick<WorkerOptions, 'queue' | 'sink' | 'embedderId' | 'embed' | 'batchSize'>, id: string): Promise<number> {
  const batch = await o.queue.claim(id, o.embedderId, o.batchSize);
  if (batch.length === 0) return 0;
  const vectors = await o.embed(batch.map((t) => t.text));
  await o.queue.complete(
    id,
    o.embedderId,
    o.sink,
    batch.map((t, i) => ({ label: t.label, vector: vectors[i]! })),
  );
  return batch.length;
}

/** What the indexing process needs to have a generation's chunks embedded. */
export interface EmbedQueuedOptions {
  queue: EmbeddingQueue;
  sink: VectorSink;
  generation: number;
  embedderId: string;
  /** The generation's chunks without a vector. */
  tasks: readonly EmbeddingTask[];
  embed: EmbedFn;
  batchSize: number;
  /** A worker whose heartbeat is older than this is not counted. */
  workerFreshMs?: number;
  pollMs?: number;
  onProgress?: (done: number, total: number) => void;
  log?: Logger;
}

/**
 * Queues the chunks and returns when none of the generation's is left: embedded by workers, or
 * by this process whenever no worker is alive (checked before every batch, so workers that stop
 * or start mid-build are followed).
 */
export async function embedQueued(o: EmbedQueuedOptions): Promise<void> {
  const log = o.log ?? silentLogger;
  const fresh = o.workerFreshMs ?? 3 * WORKER_HEARTBEAT_MS;
  await o.queue.enqueue(o.generation, o.embedderId, o.tasks);
  const total = await o.queue.remaining(o.generation, o.embedderId);
  const me = `${workerId()}:indexer`;
  let helping: boolean | null = null;
  for (;;) {
    const left = await o.queue.remaining(o.generation, o.embedderId);
    o.onProgress?.(total - left, total);
    if (left === 0) return;
    const workers = await o.queue.liveWorkers(o.embedderId, fresh);
    if ((workers === 0) !== helping) {
      helping = workers === 0;
      log.info(helping ? 'index.embedding_here' : 'index.embedding_by_workers', { generation: o.generation, workers, left });
    }
    if (helping && (await embedOneBatch(o, me)) > 0) continue;
    // Workers are on it, or every remaining chunk is leased (to a worker that may have died: its lease runs out).
    await pause(o.pollMs ?? 250);
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
