/**
 * Entry point of an embedding worker thread (parallel.ts): loads the model once with a
 * one-thread ONNX session (`workerData`: the loader's options), answers `{ id, texts }` with
 * `{ id, data }` (the vectors end to end in one transferred buffer) or `{ id, error }`. It first
 * posts `{ ready: true }` or `{ failed: message }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../util/errors.js';
import { createTransformersEmbedder, type TransformersEmbedderOptions } from './transformers.js';

const port = parentPort;
if (port) {
  const options = workerData as TransformersEmbedderOptions;
  createTransformersEmbedder({ ...options, threads: 1, parallel: 1 }).then(
    (embedder) => {
      port.on('message', (msg: { id: number; texts: string[] }) => {
        embedder.embedDocuments(msg.texts).then(
          (vectors) => {
            const data = new Float32Array(vectors.length * embedder.dimension);
            for (const [i, v] of vectors.entries()) data.set(v, i * embedder.dimension);
            port.postMessage({ id: msg.id, data }, [data.buffer]);
          },
          (err: unknown) => port.postMessage({ id: msg.id, error: errorMessage(err) }),
        );
      });
      port.postMessage({ ready: true });
    },
    (err: unknown) => port.postMessage({ failed: errorMessage(err) }),
  );
}
