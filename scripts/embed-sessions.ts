/**
 * ONNX session settings for the local embedder, measured side by side in one process.
 *
 *   npx tsx scripts/embed-sessions.ts [--articles DIR] [--chunks 200] [--queries 100] [--only default,t1,...]
 *
 * Needs the int8 bge-small-shaped stand-in in .cache/bench-models (made by
 * `scripts/compare-langchain.ts` or `npm run bench -- --model-shape bge-small`). Every setting is a
 * session of its own, loaded through the project's transformers.js path with `withSessionOptions`
 * (options reach onnxruntime-node 1.14 only with a file path, see src/embedding/transformers.ts).
 * The chunks are the project's own (its chunker, 256 tokens) from the first articles of the
 * folder, sorted by length and embedded in runs of `MODEL_RUN_SIZE`, as an index build does; the
 * settings take turns per group of 8 runs, so a busy spell on a shared machine falls on all of
 * them. `workers2x1` is two worker threads with a one-thread session each, fed runs
 * concurrently. Queries: bge's query instruction + a readers' question, one at a time,
 * alternating settings per question. Prints chunks/s (wall), CPU ms per chunk (the whole process,
 * every thread), query p50/p95 and the load average.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { AutoTokenizer, env, pipeline } from '@xenova/transformers';
import { loadArticles } from '../src/articles/index.js';
import { chunkArticle } from '../src/chunking/index.js';
import { MODEL_RUN_SIZE } from '../src/embedding/batches.js';
import { type SessionOptions, withModelEnv, withSessionOptions } from '../src/embedding/transformers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MODEL_DIR = path.join(ROOT, '.cache', 'bench-models');
const MODEL = 'bench-shape/bge-small-en-v1.5';
const BGE_QUERY = 'Represent this sentence for searching relevant passages: ';

const SETTINGS: Record<string, SessionOptions | 'workers'> = {
  default: {},
  t1: { intraOpNumThreads: 1 },
  t2: { intraOpNumThreads: 2 },
  'graph-basic': { graphOptimizationLevel: 'basic' },
  'graph-extended': { graphOptimizationLevel: 'extended' },
  'exec-parallel': { executionMode: 'parallel', interOpNumThreads: 2 },
  'no-arena': { enableCpuMemArena: false },
  'no-mempattern': { enableMemPattern: false },
  workers2x1: 'workers',
};

type Embed = (texts: string[]) => Promise<unknown>;

// Runs inside each worker thread: one single-threaded session, one run per message.
const WORKER_SOURCE = `
  const { parentPort, workerData } = require('node:worker_threads');
  (async () => {
    const { register } = await import('tsx/esm/api');
    register();
    const { env, pipeline } = await import('@xenova/transformers');
    const { withSessionOptions } = await import(workerData.transformersModule);
    env.allowLocalModels = true; env.localModelPath = workerData.modelDir; env.allowRemoteModels = false;
    const pipe = await withSessionOptions({ intraOpNumThreads: 1 }, () => pipeline('feature-extraction', workerData.model, { quantized: true }));
    parentPort.on('message', async (m) => {
      const t = await pipe(m.texts, { pooling: 'cls', normalize: true });
      parentPort.postMessage({ id: m.id, data: t.data }, [t.data.buffer]);
    });
    parentPort.postMessage('ready');
  })();
`;

async function loadSession(options: SessionOptions): Promise<Embed> {
  const pipe = await withModelEnv({ localModelDir: MODEL_DIR, allowRemoteModels: false }, (pretrained) =>
    withSessionOptions(options, () => pipeline('feature-extraction', MODEL, { quantized: true, ...pretrained })),
  );
  return (texts) => (pipe as unknown as (t: string[], o: object) => Promise<unknown>)(texts, { pooling: 'cls', normalize: true });
}

/** Two one-thread sessions in worker threads; `embed` sends one run to the first idle worker. */
async function loadWorkers(count: number): Promise<{ embed: Embed; close: () => Promise<void> }> {
  const workerData = {
    model: MODEL,
    modelDir: MODEL_DIR + '/',
    transformersModule: new URL('../src/embedding/transformers.ts', import.meta.url).href,
  };
  const workers = await Promise.all(
    Array.from({ length: count }, async () => {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData });
      await new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      return w;
    }),
  );
  const idle = [...workers];
  const queue: (() => void)[] = [];
  let next = 0;
  const embed: Embed = async (texts) => {
    while (idle.length === 0) await new Promise<void>((r) => queue.push(r));
    const w = idle.pop()!;
    const id = next++;
    try {
      return await new Promise((resolve) => {
        const on = (m: { id: number; data: Float32Array }) => {
          if (m.id !== id) return;
          w.off('message', on);
          resolve(m.data);
        };
        w.on('message', on);
        w.postMessage({ id, texts });
      });
    } finally {
      idle.push(w);
      queue.shift()?.();
    }
  };
  return { embed, close: async () => void (await Promise.all(workers.map((w) => w.terminate()))) };
}

function loadavg(): string {
  return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      articles: { type: 'string', default: path.join(ROOT, '..', 'shared', 'corpora', 'wikinews-en') },
      chunks: { type: 'string', default: '200' },
      queries: { type: 'string', default: '100' },
      only: { type: 'string' },
    },
  });
  const names = values.only ? values.only.split(',') : Object.keys(SETTINGS);
  for (const n of names) if (!(n in SETTINGS)) throw new Error(`Unknown setting ${n}; known: ${Object.keys(SETTINGS).join(', ')}`);
  if (!fs.existsSync(path.join(MODEL_DIR, MODEL, 'onnx', 'model_quantized.onnx'))) {
    throw new Error(
      `No stand-in model in ${MODEL_DIR}: run scripts/compare-langchain.ts or npm run bench -- --model-shape bge-small first.`,
    );
  }
  env.allowLocalModels = true;
  const embeds: Record<string, Embed> = {};
  const closers: (() => Promise<void>)[] = [];
  for (const n of names) {
    const s = SETTINGS[n]!;
    if (s === 'workers') {
      const w = await loadWorkers(2);
      embeds[n] = w.embed;
      closers.push(w.close);
    } else embeds[n] = await loadSession(s);
  }
  const tok = await withModelEnv({ localModelDir: MODEL_DIR, allowRemoteModels: false }, (p) => AutoTokenizer.from_pretrained(MODEL, p));
  const counter = { id: 'bench', count: (t: string) => (tok as unknown as { encode(t: string): number[] }).encode(t).length };

  const loaded = await loadArticles(values.articles, { maxFileBytes: 20_000_000 });
  const texts: string[] = [];
  for (const a of loaded.articles) {
    texts.push(...chunkArticle(a, { maxTokens: 256, overlapSentences: 1, counter }).map((c) => c.embedText));
    if (texts.length >= Number(values.chunks)) break;
  }
  texts.length = Math.min(texts.length, Number(values.chunks));
  const lengths = texts.map((t) => counter.count(t));
  const order = texts.map((_, i) => i).sort((a, b) => lengths[b]! - lengths[a]!);
  const runs: string[][] = [];
  for (let i = 0; i < order.length; i += MODEL_RUN_SIZE) runs.push(order.slice(i, i + MODEL_RUN_SIZE).map((j) => texts[j]!));

  const startLoad = loadavg();
  for (const n of names) await embeds[n]!(runs[0]!); // warm-up
  const wall: Record<string, number> = {};
  const cpu: Record<string, number> = {};
  const GROUP = 8;
  for (let g = 0; g < runs.length; g += GROUP) {
    const turn = g / GROUP;
    for (let i = 0; i < names.length; i++) {
      const n = names[(i + turn) % names.length]!;
      const group = runs.slice(g, g + GROUP);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await Promise.all(group.map((r) => embeds[n]!(r))); // one session runs them one by one; workers two at a time
      wall[n] = (wall[n] ?? 0) + performance.now() - t0;
      const c = process.cpuUsage(c0);
      cpu[n] = (cpu[n] ?? 0) + (c.user + c.system) / 1000;
    }
  }
  const buildLoad = loadavg();

  const questions = readerQuestions(Number(values.queries));
  const q: Record<string, number[]> = {};
  for (let i = 0; i < questions.length; i++) {
    for (let j = 0; j < names.length; j++) {
      const n = names[(i + j) % names.length]!;
      const t0 = performance.now();
      await embeds[n]!([BGE_QUERY + questions[i]]);
      q[n] = [...(q[n] ?? []), performance.now() - t0];
    }
  }
  const meanTokens = lengths.reduce((a, b) => a + b, 0) / lengths.length;
  process.stdout.write(
    `${texts.length} chunks (mean ${meanTokens.toFixed(0)} tokens) in runs of ${MODEL_RUN_SIZE}, ${questions.length} queries; ` +
      `load average ${startLoad} at the start, ${buildLoad} after the chunks, ${loadavg()} at the end\n\n`,
  );
  process.stdout.write('| setting | chunks/s | CPU ms per chunk | query p50 / p95 ms |\n| --- | --- | --- | --- |\n');
  for (const n of names) {
    const sorted = [...q[n]!].sort((a, b) => a - b);
    process.stdout.write(
      `| ${n} | ${((1000 * texts.length) / wall[n]!).toFixed(1)} | ${(cpu[n]! / texts.length).toFixed(1)} | ${pct(sorted, 50).toFixed(1)} / ${pct(sorted, 95).toFixed(1)} |\n`,
    );
  }
  for (const close of closers) await close();
}

function readerQuestions(limit: number): string[] {
  return fs
    .readFileSync(path.join(ROOT, 'eval', 'readers', 'questions.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { question: string }).question)
    .slice(0, limit);
}

await main();
