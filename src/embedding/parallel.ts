/**
 * Documents embedded by several one-thread model sessions at once: the caller's and `count` more,
 * each in a worker thread.
 *
 * onnxruntime-node runs a model synchronously on the calling thread, and one session's intra-op
 * threads meet at a barrier after every operator: on a busy 2-core machine a two-thread session
 * computed a chunk at 95 ms of CPU against 53 ms for a one-thread session, and two one-thread
 * sessions side by side did not meet (docs/performance.md, scripts/embed-sessions.ts). So an
 * index build hands its model runs to the caller's session and `count` workers, each a one-thread
 * session (every worker holds a copy of the model: about 250 MB of RSS each), whichever is free. Workers start on the first call that has more than one run, and stop
 * after a minute without work; a worker that fails to load or dies leaves its runs to `fallback`
 * (the caller's own session), so a failure costs speed, never a build.
 */
import type { Worker } from 'node:worker_threads';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { moduleWorker } from '../util/worker.js';

/** How long an idle pool keeps its workers (and their sessions' memory). */
const IDLE_MS = 60_000;

interface Slot {
  worker: Worker;
  /** True once the model is loaded; false if it failed or the worker is gone. */
  ready: Promise<boolean>;
  dead: boolean;
  /** What `ready` resolved to, once it has. */
  loaded?: boolean;
}

/** A pool of embedding workers. */
export interface EmbedPool {
  /** Embeds each run (texts without any prefix) on a free worker, several runs at once; vectors in input order. */
  embedRuns(runs: string[][]): Promise<Float32Array[][]>;
  close(): Promise<void>;
}

/** What a worker loads the model with (the loader's options without functions and loggers, which do not cross threads). */
export type WorkerOptions = Record<string, unknown>;

/**
 * `count` workers loading the model with `options`; vectors of `dimension`. `fallback` embeds a run
 * on the caller's own session when no worker can.
 */
export function createEmbedPool(
  count: number,
  options: WorkerOptions,
  dimension: number,
  fallback: (texts: string[]) => Promise<Float32Array[]>,
  logger: Logger,
): EmbedPool {
  let slots: Slot[] = [];
  let failed = false;
  let active = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  let next = 0;

  const stop = async () => {
    const old = slots;
    slots = [];
    await Promise.all(old.map((s) => s.worker.terminate()));
  };

  const embedRuns = async (runs: string[][]): Promise<Float32Array[][]> => {
    if (failed || runs.length < 2) return Promise.all(runs.map((r) => fallback(r)));
    clearTimeout(idleTimer);
    slots = slots.filter((s) => !s.dead);
    while (slots.length < count) slots.push(startWorker(options, logger));
    const mine = slots;
    const results: (Float32Array[] | undefined)[] = new Array(runs.length);
    let taken = 0;
    active++;
    for (const s of mine) s.worker.ref(); // a command waiting for its vectors must not exit under it
    try {
      // The caller's session takes runs too (from the start: a small job is done before a worker has loaded).
      const here = (async () => {
        while (taken < runs.length) {
          const i = taken++;
          results[i] = await fallback(runs[i]!);
          await new Promise((r) => setImmediate(r)); // let a worker's "ready" arrive
        }
      })();
      await Promise.all([
        here,
        ...mine.map(async (slot) => {
          // A worker still loading when every run is taken is not waited for.
          const ok = await Promise.race([slot.ready, here.then(() => (taken < runs.length ? slot.ready : false))]);
          if (!ok) return;
          while (taken < runs.length && !slot.dead) {
            const i = taken++;
            try {
              results[i] = await callWorker(slot, next++, runs[i]!, dimension);
            } catch (err) {
              logger.warn('embedding.worker_failed', { problem: errorMessage(err) });
              return; // this run is left to the fallback below
            }
          }
        }),
      ]);
      if (mine.every((s) => s.loaded === false)) {
        failed = true; // no worker could load the model: the caller's session does the work from now on
        void stop();
      }
      const out: Float32Array[][] = [];
      for (let i = 0; i < runs.length; i++) out.push(results[i] ?? (await fallback(runs[i]!)));
      return out;
    } finally {
      active--;
      if (active === 0) {
        for (const s of mine) s.worker.unref();
        idleTimer = setTimeout(() => void stop(), IDLE_MS);
        idleTimer.unref();
      }
    }
  };

  return { embedRuns, close: stop };
}

/** A worker loading the model; its slot says when it is ready or gone. */
function startWorker(options: WorkerOptions, logger: Logger): Slot {
  const entry = new URL(import.meta.url.endsWith('.ts') ? './embed-worker.ts' : './embed-worker.js', import.meta.url);
  const worker = moduleWorker(entry, { workerData: options });
  worker.unref();
  const started = performance.now();
  const slot: Slot = { worker, ready: Promise.resolve(false), dead: false };
  slot.ready = new Promise<boolean>((resolve) => {
    worker.on('message', (msg: { ready?: boolean; failed?: string }) => {
      if (msg.ready) {
        logger.debug('embedding.worker_ready', { seconds: (performance.now() - started) / 1000 });
        resolve(true);
      }
      if (msg.failed !== undefined) {
        logger.warn('embedding.worker_failed', { problem: msg.failed });
        resolve(false);
      }
    });
    worker.once('error', (err) => logger.warn('embedding.worker_failed', { problem: errorMessage(err) }));
    worker.once('exit', () => {
      slot.dead = true;
      resolve(false);
    });
  });
  void slot.ready.then((ok) => {
    slot.loaded = ok;
  });
  return slot;
}

/** One run on one worker; rejects if the worker fails or stops meanwhile. */
function callWorker(slot: Slot, id: number, texts: string[], dimension: number): Promise<Float32Array[]> {
  return new Promise((resolve, reject) => {
    const done = () => {
      slot.worker.off('message', onMessage);
      slot.worker.off('exit', onExit);
    };
    const onMessage = (msg: { id?: number; data?: Float32Array; error?: string }) => {
      if (msg.id !== id) return;
      done();
      if (msg.error !== undefined || !msg.data) reject(new Error(msg.error ?? 'no vectors'));
      else resolve(texts.map((_, i) => msg.data!.slice(i * dimension, (i + 1) * dimension)));
    };
    const onExit = () => {
      done();
      reject(new Error('the embedding worker stopped'));
    };
    slot.worker.on('message', onMessage);
    slot.worker.once('exit', onExit);
    slot.worker.postMessage({ id, texts });
  });
}
