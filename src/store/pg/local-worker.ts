/**
 * Entry point of the worker thread a replica writes its local generations in (local.ts): each
 * message `{ id, method, args }` calls one `LocalBuilder` operation and is answered with
 * `{ id, result }` or `{ id, error }`.
 */
import { parentPort } from 'node:worker_threads';
import { inThreadBuilder, type LocalBuilder } from './local-build.js';

const builder = inThreadBuilder();
const port = parentPort;
if (port) {
  port.on('message', (msg: { id: number; method: keyof LocalBuilder; args: unknown[] }) => {
    try {
      const fn = builder[msg.method] as (...args: unknown[]) => unknown;
      port.postMessage({ id: msg.id, result: fn(...msg.args) });
    } catch (err) {
      port.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
}
