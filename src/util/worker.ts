/**
 * Worker threads on the project's own modules. From compiled JavaScript the entry starts directly;
 * from the TypeScript sources (tsx, the tests) the worker first registers tsx. The tsx module is
 * named by its resolved address: a worker started from a string resolves bare names against the
 * current folder, so `import('tsx/esm/api')` failed whenever the command ran outside the project.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

let tsxApiUrl: string | undefined;

/**
 * tsx's module API (its ES module build) by absolute URL, read from tsx's own export map: the
 * CommonJS build cannot be imported this way, and `import.meta.resolve` is missing under vitest.
 */
function tsxApi(): string {
  if (tsxApiUrl) return tsxApiUrl;
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const target = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: string | { default: string } }> })
    .exports['./esm/api']!.import;
  tsxApiUrl = pathToFileURL(path.join(path.dirname(manifest), typeof target === 'string' ? target : target.default)).href;
  return tsxApiUrl;
}

/** Starts `entry` (a `.ts` or `.js` module URL) in a worker thread. */
export function moduleWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const tsx = tsxApi();
  const source = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(source, { ...options, eval: true });
}
