/**
 * Does the lexical search overlap the query embedding? One process, one index built with a local
 * model, the readers' questions; per question, in turn (order rotating):
 *
 *   E   the query embedding alone (this thread's session, as the retriever calls it)
 *   L   a lexical retrieval alone (article + chunk BM25, ranking, passages)
 *   E+L the embedding started, the lexical retrieval run, then the vector awaited
 *   E2  the query embedding alone on a session with two intra-op threads (onnxruntime's default
 *       on 2 cores; LangChain's session), where E's session has one when EMBEDDING_THREADS is auto
 *   W   the query embedding in a worker thread (a one-thread session of the same model)
 *   W+L the worker's embedding started, the lexical retrieval run, then the vector awaited
 *
 * If the embedding computes while this thread's JavaScript runs, E+L comes near max(E, L);
 * if the two take turns on this thread, near E + L.
 *
 *   (env of a local-model index) npx tsx scripts/query-overlap.ts [--questions 300] [--rounds 1]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { createEmbedder } from '../src/embedding/index.js';
import { createTransformersEmbedder } from '../src/embedding/transformers.js';
import { resolveModelProfile } from '../src/embedding/models.js';
import { createRetriever } from '../src/retrieval/index.js';
import { IndexReader } from '../src/store/reader.js';
import { moduleWorker } from '../src/util/worker.js';

const { values } = parseArgs({ options: { questions: { type: 'string', default: '300' }, rounds: { type: 'string', default: '1' } } });
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const config = loadConfig();
const { embedder } = await createEmbedder(config.embedding, config.llm);
if (!embedder || config.embedding.provider !== 'transformers')
  throw new Error('needs a local (transformers) model: set EMBEDDING_MODEL etc.');
const reader = IndexReader.open(config.indexDir, { efSearch: config.hnsw.efSearch });
if (!(reader instanceof IndexReader)) throw new Error(`no index in ${config.indexDir}`);
await reader.lexicalMemoryReady();
const retriever = createRetriever({ getReader: () => reader, embedder, options: config.retrieval });
// The same local model for both the two-thread session and the worker below.
const localModel = {
  model: config.embedding.model,
  pooling: config.embedding.pooling,
  quantized: config.embedding.quantized,
  localModelDir: config.embedding.localModelDir,
  cacheDir: config.embedding.cacheDir,
  allowRemoteModels: false,
};
const twoThreads = await createTransformersEmbedder({ ...localModel, threads: 2 });
const prefix = resolveModelProfile(config.embedding.model, { pooling: config.embedding.pooling }).queryPrefix;

// A worker with a one-thread session of the same model (the pool's worker entry: documents, so the prefix is added here).
const worker = moduleWorker(new URL('../src/embedding/embed-worker.ts', import.meta.url), { workerData: localModel });
await new Promise<void>((resolve, reject) =>
  worker.once('message', (m: { ready?: boolean; failed?: string }) => (m.ready ? resolve() : reject(new Error(m.failed)))),
);
let nextId = 0;
const inWorker = (text: string) =>
  new Promise<Float32Array>((resolve) => {
    const id = nextId++;
    const on = (m: { id: number; data: Float32Array }) => {
      if (m.id !== id) return;
      worker.off('message', on);
      resolve(m.data);
    };
    worker.on('message', on);
    worker.postMessage({ id, texts: [prefix + text] });
  });

const questions = fs
  .readFileSync(path.join(ROOT, 'eval/readers/questions.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as { question: string; asked_at?: string })
  .map((j) => ({ q: j.question, now: new Date(`${j.asked_at ?? '2025-01-01'}T12:00:00Z`) }))
  .slice(0, Number(values.questions));

const lexical = (q: { q: string; now: Date }) => retriever.retrieveDetailed(q.q, { mode: 'lexical', now: q.now });
const variants: Record<string, (q: { q: string; now: Date }) => Promise<unknown>> = {
  E: (q) => embedder.embedQuery(q.q),
  L: lexical,
  'E+L': async (q) => {
    const v = embedder.embedQuery(q.q);
    await lexical(q);
    return v;
  },
  E2: (q) => twoThreads.embedQuery(q.q),
  W: (q) => inWorker(q.q),
  'W+L': async (q) => {
    const v = inWorker(q.q);
    await lexical(q);
    return v;
  },
};
const names = Object.keys(variants);
const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
for (const q of questions.slice(0, 10)) for (const n of names) await variants[n]!(q);
for (let r = 0; r < Number(values.rounds); r++)
  for (const [i, q] of questions.entries())
    for (let j = 0; j < names.length; j++) {
      const n = names[(i + j + r) % names.length]!;
      const t = performance.now();
      await variants[n]!(q);
      times[n]!.push(performance.now() - t);
    }
await worker.terminate();
reader.close();

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;
const p50 = Object.fromEntries(names.map((n) => [n, pct(times[n]!, 0.5)]));
for (const n of names)
  process.stdout.write(`${n.padEnd(4)} p50 ${pct(times[n]!, 0.5).toFixed(2)} ms, p95 ${pct(times[n]!, 0.95).toFixed(2)} ms\n`);
process.stdout.write(
  `This thread: E+L − E = ${(p50['E+L']! - p50.E!).toFixed(2)} ms of L's ${p50.L!.toFixed(2)} ms added; ` +
    `worker: W+L − W = ${(p50['W+L']! - p50.W!).toFixed(2)} ms (${times.E!.length} questions each)\n`,
);
