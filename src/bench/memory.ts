/**
 * Peak resident memory of this process while something runs.
 *
 * The sampler lives in a worker thread: the heavy steps we measure (HNSW inserts, SQLite
 * transactions, ONNX inference) block the main event loop for seconds at a time, and a
 * `setInterval` on the main thread would not fire during exactly the moments memory peaks.
 * RSS is process-wide, so the worker sees the whole process. (The worker itself adds a few MB.)
 */
import { Worker } from 'node:worker_threads';

const SAMPLER_SOURCE = `
const { workerData } = require('node:worker_threads');
const peak = new BigInt64Array(workerData.buffer);
const tick = () => {
  const rss = BigInt(process.memoryUsage.rss());
  if (rss > Atomics.load(peak, 0)) Atomics.store(peak, 0, rss);
};
tick();
setInterval(tick, workerData.intervalMs);
`;

/** Samples RSS every `intervalMs` (default 50) until stopped; `peak()` can be read at any time. */
export class PeakRssSampler {
  private readonly shared = new BigInt64Array(new SharedArrayBuffer(8));
  private worker: Worker | null;

  constructor(intervalMs = 50) {
    Atomics.store(this.shared, 0, BigInt(process.memoryUsage.rss()));
    this.worker = new Worker(SAMPLER_SOURCE, { eval: true, workerData: { buffer: this.shared.buffer, intervalMs } });
    // A sampler must never keep the process alive on its own.
    this.worker.unref();
  }

  /** Highest RSS seen so far, in bytes (includes a sample taken now). */
  peak(): number {
    const now = BigInt(process.memoryUsage.rss());
    if (now > Atomics.load(this.shared, 0)) Atomics.store(this.shared, 0, now);
    return Number(Atomics.load(this.shared, 0));
  }

  /** Forgets the peak so far (the next reading starts from the current RSS). */
  reset(): void {
    Atomics.store(this.shared, 0, BigInt(process.memoryUsage.rss()));
  }

  /** Stops sampling and returns the peak in bytes. */
  async stop(): Promise<number> {
    const peak = this.peak();
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
    return peak;
  }
}
