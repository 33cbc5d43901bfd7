/**
 * Worker threads on the project's own modules. From compiled JavaScript the entry starts directly;
 * from the TypeScript sources (tsx, the tests) the worker first registers tsx. The tsx module is
 * named by its resolved address: a worker started from a string resolves bare names against the
 * current folder, so `import('tsx/esm/api')` failed whenever the command ran outside the project.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** Starts `entry` (a `.ts` or `.js` module URL) in a worker thread. */
export function moduleWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(source, { ...options, eval: true });
}
