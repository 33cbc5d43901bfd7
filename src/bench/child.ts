/**
 * Running a benchmark step in a fresh Node process. Serving memory and latency are measured in
 * a process that holds only what serving needs; the orchestrating process has built indexes and
 * loaded corpora before, and its heap never shrinks back, so measuring there would overstate RSS.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { errorMessage } from '../util/errors.js';

/** What a child sends back for its input: a result or a one-line error. */
export type ChildReply<T> = { ok: true; result: T } | { ok: false; error: string };

/** Starts the TypeScript module `entry` in a new Node process with the tsx loader and an IPC channel. */
export function forkTs(entry: URL): ChildProcess {
  // Resolved from this file, so it works whatever the working directory or the parent's loader (tsx, vitest).
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return fork(fileURLToPath(entry), [], {
    execArgv: ['--import', loader],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
}

/** Resolves with the child's next message; rejects when it exits first or `timeoutMs` passes. */
export function nextMessage<T>(child: ChildProcess, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what} did not answer within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    const onMessage = (m: unknown) => {
      cleanup();
      resolve(m as T);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      reject(new Error(`${what} exited early (${signal ?? `code ${code}`})`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Runs `entry` with one input and returns its single reply, killing the child on timeout. */
export async function runChild<I, O>(entry: URL, input: I, timeoutMs: number, what: string): Promise<O> {
  const child = forkTs(entry);
  try {
    const reply = nextMessage<ChildReply<O>>(child, timeoutMs, what);
    child.send(input as never);
    const r = await reply;
    if (!r.ok) throw new Error(`${what} failed: ${r.error}`);
    return r.result;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}

/** Child side of `runChild`: handles the one input message, replies, and exits. */
export function serveOneInput<I, O>(handler: (input: I) => Promise<O>): void {
  process.once('message', (input: unknown) => {
    handler(input as I).then(
      (result) => reply({ ok: true, result }, 0),
      (err: unknown) => reply({ ok: false, error: errorMessage(err) }, 1),
    );
  });
}

function reply<O>(message: ChildReply<O>, code: number): void {
  // Exit explicitly once the reply is flushed: ONNX Runtime and SQLite handles would keep the child alive.
  process.send?.(message, undefined, undefined, () => process.exit(code));
}
