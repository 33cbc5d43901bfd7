/**
 * Local embeddings with transformers.js (ONNX Runtime on the CPU). The default back end:
 * no API key, and after the first download it works offline from the model cache.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { env, pipeline } from '@xenova/transformers';
import * as onnxNode from 'onnxruntime-node';
import type { Embedder, TokenCounter } from '../types.js';
import { errorMessage, ModelLoadError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import { isProcessAlive } from '../util/process.js';
import { Semaphore } from '../util/semaphore.js';
import { MODEL_RUN_SIZE } from './batches.js';
import { createEmbedPool, type EmbedPool } from './parallel.js';
import { resolveModelProfile, type Pooling } from './models.js';

/** Longest input we ever feed a BERT-style encoder: their position tables stop at 512. */
export const TOKEN_CAP = 512;

/** One file's loading progress, as reported while a model is downloaded or read. */
export interface ModelLoadProgress {
  /** File inside the model repository, e.g. `onnx/model_quantized.onnx`. */
  file: string;
  status: 'progress' | 'done';
  /** Bytes so far and in total (total is 0 when the server did not say). */
  loaded: number;
  total: number;
}

/** Options for `createTransformersEmbedder`. */
export interface TransformersEmbedderOptions {
  /** Hugging Face model id, e.g. `Xenova/bge-small-en-v1.5`. */
  model: string;
  /** 'auto' (default) follows the model card. */
  pooling?: 'auto' | Pooling;
  /** Replaces the model card's query instruction when given. */
  queryPrefix?: string | undefined;
  batchSize?: number;
  /** Load `onnx/model_quantized.onnx` (default) instead of `onnx/model.onnx`. */
  quantized?: boolean;
  /** The ONNX session's intra-op threads (EMBEDDING_THREADS); undefined: onnxruntime's default, one per core. */
  threads?: number | undefined;
  /**
   * One-thread sessions that embed documents side by side (parallel.ts): this thread's and
   * `parallel − 1` in worker threads. Above 1, this thread's session (queries too) has one thread
   * and `threads` is not used. Default 1.
   */
  parallel?: number | undefined;
  /** Where downloaded models are cached. */
  cacheDir?: string | undefined;
  /** A folder holding `<model id>/...` copies; checked before the cache and the hub. */
  localModelDir?: string | undefined;
  allowRemoteModels?: boolean;
  onProgress?: (progress: ModelLoadProgress) => void;
  logger?: Logger;
}

export { ModelLoadError } from '../util/errors.js';

interface FeatureTensor {
  dims: number[];
  data: Float32Array;
}
interface Extractor {
  (texts: string | string[], options: { pooling: Pooling; normalize: boolean }): Promise<FeatureTensor>;
  tokenizer: { model_max_length: number; encode(text: string): number[] };
  model: { config: { max_position_embeddings?: number } };
}

const envLock = new Semaphore(1);
// `withSessionOptions` swaps a static method of onnxruntime's for the length of a load; see there.
const sessionLock = new Semaphore(1);

/** Where transformers.js may look for a model's files. */
export interface ModelSource {
  /** Where downloaded models are cached. */
  cacheDir?: string | undefined;
  /** A folder holding `<model id>/...` copies; checked before the cache and the hub. */
  localModelDir?: string | undefined;
  /** Defaults to true. */
  allowRemoteModels?: boolean | undefined;
}

/** The `from_pretrained` / `pipeline` options that go with a `ModelSource`. */
export interface PretrainedSourceOptions {
  local_files_only: boolean;
  cache_dir?: string;
}

/**
 * Runs `load` with transformers.js's global `env` set up for `source`, serialised against every
 * other model load in this process. Whatever `load` throws is rethrown unchanged.
 */
export function withModelEnv<T>(source: ModelSource, load: (pretrained: PretrainedSourceOptions) => Promise<T>): Promise<T> {
  const allowRemote = source.allowRemoteModels ?? true;
  return envLock.run(() => {
    // Without a configured folder, skip local lookups entirely: the library's default local
    // path lies inside node_modules and a stale copy there would silently win over the cache.
    const local = source.localModelDir;
    env.allowLocalModels = local !== undefined;
    if (local !== undefined) env.localModelPath = ensureTrailingSlash(local);
    env.allowRemoteModels = allowRemote;
    if (source.cacheDir !== undefined) env.cacheDir = source.cacheDir;
    return load({ local_files_only: !allowRemote, ...(source.cacheDir !== undefined ? { cache_dir: source.cacheDir } : {}) });
  });
}

/** ONNX Runtime session options this project sets (the subset onnxruntime-node 1.14's binding reads that matters here). */
export interface SessionOptions {
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  executionMode?: 'sequential' | 'parallel';
  enableCpuMemArena?: boolean;
  enableMemPattern?: boolean;
}

interface SessionFactory {
  create: (model: unknown, options?: Record<string, unknown>) => Promise<unknown>;
}

/**
 * Runs `load` with `options` added to every ONNX session it creates. transformers.js 2.x passes
 * no session options of its own (only the execution providers) to `InferenceSession.create`, so
 * this wraps that static method for the duration of the load. Calls with options run one after
 * the other: overlapping, the later call's wrapper would wrap the earlier one's (whose options
 * then win), and if the earlier call ended first, the later one would put the earlier one's
 * wrapper back for good. Every session the process creates during the load gets `options`, so a
 * load without options belongs inside `withModelEnv` too (as `createTransformersEmbedder`'s are).
 *
 * transformers.js hands the model over as bytes, and onnxruntime-node 1.14 ignores every session
 * option given with bytes (it reads them only with a file path: `intraOpNumThreads: 'abc'` is
 * refused with a path and accepted with the same model's bytes). So the bytes go through a
 * temporary file in `scratchDir` (the embedder passes its model cache), removed once the session
 * has read it.
 */
export async function withSessionOptions<T>(options: SessionOptions, load: () => Promise<T>, scratchDir = os.tmpdir()): Promise<T> {
  if (Object.keys(options).length === 0) return load();
  return sessionLock.run(() => loadWithSessionOptions(options, load, scratchDir));
}

const SCRATCH_PREFIX = 'newsdesk-onnx-';
// A leftover copy is removed only when its process is gone and it is older than this: another pid
// namespace sharing the folder could hold a live process with the same pid, but not for this long.
const STALE_COPY_MS = 10 * 60_000;

/**
 * A folder for one temporary model copy, in `scratchDir` (the model cache, so a test's or an
 * installation's copies stay in its own folders) or, when that does not exist or cannot be
 * written, the system's. `scratchDir` is never created: a load finishing in a worker after its
 * owner removed the folder would bring the folder back.
 */
function scratchFolder(scratchDir: string): string {
  try {
    return copyFolderIn(scratchDir);
  } catch {
    return copyFolderIn(os.tmpdir());
  }
}

/** A new copy folder in `dir`, named with this process's pid, after removing copies killed processes left there. */
function copyFolderIn(dir: string): string {
  const now = Date.now();
  for (const name of fs.readdirSync(dir)) {
    const pid = name.startsWith(SCRATCH_PREFIX) ? Number(/^(\d+)-/.exec(name.slice(SCRATCH_PREFIX.length))?.[1]) : 0;
    if (!(pid > 0) || isProcessAlive(pid)) continue;
    try {
      const folder = path.join(dir, name);
      if (now - fs.statSync(folder).mtimeMs > STALE_COPY_MS) fs.rmSync(folder, { recursive: true, force: true });
    } catch {
      // Someone else's, or already gone: not ours to worry about.
    }
  }
  return fs.mkdtempSync(path.join(dir, `${SCRATCH_PREFIX}${process.pid}-`));
}

async function loadWithSessionOptions<T>(options: SessionOptions, load: () => Promise<T>, scratchDir: string): Promise<T> {
  // The module transformers.js runs on in Node (it takes `default` when there is one, as here).
  const onnx = ((onnxNode as { default?: unknown }).default ?? onnxNode) as { InferenceSession: SessionFactory };
  const factory = onnx.InferenceSession;
  const original = factory.create;
  factory.create = async (model, given) => {
    // transformers.js asks for ['cpu', 'wasm'] (and retries with ['wasm'] alone if that fails); the
    // Node binding, once it reads the options, refuses 'wasm', and takes 'cpu' first anyway.
    const providers = (given?.executionProviders as unknown[] | undefined) ?? ['cpu'];
    if (!providers.includes('cpu')) return original.call(factory, model, given);
    const merged = { ...given, ...options, executionProviders: ['cpu'] };
    if (!(model instanceof Uint8Array)) return original.call(factory, model, merged);
    const dir = scratchFolder(scratchDir);
    try {
      const file = path.join(dir, 'model.onnx');
      fs.writeFileSync(file, model);
      return await original.call(factory, file, merged);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    return await load();
  } finally {
    factory.create = original;
  }
}

/** Input length for a loaded model: the smallest of `TOKEN_CAP`, its position table and its tokenizer's limit. */
export function modelTokenLimit(tokenizerMaxLength: unknown, maxPositionEmbeddings: number | undefined): number {
  const modelMax = Number(tokenizerMaxLength);
  return Math.min(TOKEN_CAP, maxPositionEmbeddings ?? TOKEN_CAP, Number.isFinite(modelMax) && modelMax > 0 ? modelMax : TOKEN_CAP);
}

/** Loads a transformers.js feature-extraction model and wraps it as an `Embedder`. Throws `ModelLoadError`. */
export async function createTransformersEmbedder(options: TransformersEmbedderOptions): Promise<Embedder> {
  const { model } = options;
  const logger = options.logger ?? silentLogger;
  const profile = resolveModelProfile(model, { pooling: options.pooling, queryPrefix: options.queryPrefix });
  const quantized = options.quantized ?? true;
  const runSize = Math.min(Math.max(1, options.batchSize ?? 16), MODEL_RUN_SIZE);
  const allowRemote = options.allowRemoteModels ?? true;
  const started = Date.now();

  const parallel = Math.max(1, Math.floor(options.parallel ?? 1));
  // Side by side with workers, this session is one of the one-thread sessions (parallel.ts).
  const threads = parallel > 1 ? 1 : options.threads;
  const sessionOptions = threads === undefined ? {} : { intraOpNumThreads: threads };
  const extractor = await withModelEnv(options, async (pretrained) => {
    try {
      const loaded = await withSessionOptions(
        sessionOptions,
        () =>
          pipeline('feature-extraction', model, {
            quantized,
            ...pretrained,
            progress_callback: progressForwarder(options.onProgress),
          }),
        options.cacheDir,
      );
      return loaded as unknown as Extractor;
    } catch (err) {
      throw new ModelLoadError(model, describeLoadFailure(err, allowRemote));
    }
  });

  const limit = modelTokenLimit(extractor.tokenizer.model_max_length, extractor.model.config.max_position_embeddings);
  // The pipeline truncates to this, so an over-long input is cut instead of overflowing the position table.
  extractor.tokenizer.model_max_length = limit;

  const tokenizer: TokenCounter = {
    id: `transformers:${model}`,
    count: (text) => extractor.tokenizer.encode(text).length,
  };
  // A passage prefix is prepended after chunking, so reserve room for it.
  const passagePrefixTokens = profile.passagePrefix ? tokenizer.count(profile.passagePrefix) - tokenizer.count('') : 0;
  const maxTokens = limit - passagePrefixTokens;

  const run = async (texts: string[]): Promise<Float32Array[]> => {
    let tensor: FeatureTensor;
    try {
      // Always normalised: the index relies on inner product = cosine, even for models whose card does not normalise.
      tensor = await extractor(texts, { pooling: profile.pooling, normalize: true });
    } catch (err) {
      throw new Error(`Embedding with ${model} failed: ${firstLine(err)}`, { cause: err });
    }
    const dim = tensor.dims[tensor.dims.length - 1] ?? 0;
    return texts.map((_, i) => tensor.data.slice(i * dim, (i + 1) * dim));
  };

  const probe = await run(['dimension probe']).catch((err: unknown) => {
    throw new ModelLoadError(model, `the model failed its first run: ${firstLine(err)}`);
  });
  const dimension = probe[0]?.length ?? 0;

  const params: string[] = [];
  if (profile.poolingOverridden) params.push(`pooling=${profile.pooling}`);
  if (!quantized) params.push('fp32');
  // Threads change the speed, not the vectors: not part of the id (an index stays valid).
  const id = `transformers:${model}${params.length ? '?' + params.join('&') : ''}`;

  logger.info('embedding.loaded', {
    model,
    pooling: profile.pooling,
    known: profile.known,
    dimension,
    maxTokens,
    quantized,
    threads: threads ?? 'auto',
    parallel: options.parallel ?? 1,
    seconds: (Date.now() - started) / 1000,
  });

  const embedHere = (texts: string[]) => run(texts.map((t) => profile.passagePrefix + t));
  const { onProgress: _progress, logger: _logger, ...workerOptions } = options;
  const pool: EmbedPool | null =
    parallel > 1 ? createEmbedPool(parallel - 1, { ...workerOptions, allowRemoteModels: false }, dimension, embedHere, logger) : null;

  return {
    id,
    dimension,
    maxTokens,
    tokenizer,
    multilingual: profile.multilingual,
    async embedDocuments(texts) {
      const runs: string[][] = [];
      for (let i = 0; i < texts.length; i += runSize) runs.push(texts.slice(i, i + runSize));
      if (pool) return (await pool.embedRuns(runs)).flat();
      const out: Float32Array[] = [];
      for (const r of runs) out.push(...(await embedHere(r)));
      return out;
    },
    async embedQuery(text) {
      const [vector] = await run([profile.queryPrefix + text]);
      return vector!;
    },
  };
}

function ensureTrailingSlash(dir: string): string {
  // transformers.js joins paths by string concatenation rules of its own; a trailing separator is always safe.
  return dir.endsWith('/') || dir.endsWith(path.sep) ? dir : dir + '/';
}

/** Adapts transformers.js's loose progress events to `ModelLoadProgress` (undefined when nobody listens). */
export function progressForwarder(onProgress: ((progress: ModelLoadProgress) => void) | undefined): ((event: unknown) => void) | undefined {
  if (!onProgress) return undefined;
  return (event) => {
    if (typeof event !== 'object' || event === null) return;
    const e = event as { status?: string; file?: string; loaded?: number; total?: number };
    if ((e.status === 'progress' || e.status === 'done') && typeof e.file === 'string') {
      onProgress({ file: e.file, status: e.status, loaded: e.loaded ?? 0, total: e.total ?? 0 });
    }
  };
}

/** Turns whatever transformers.js / fetch threw into a short cause a user can act on. */
export function describeLoadFailure(err: unknown, allowRemote: boolean): string {
  const message = errorMessage(err);
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  if (/allowRemoteModels=false|local_files_only/.test(message) || (!allowRemote && /not found locally/.test(message))) {
    return 'not found locally and remote downloads are disabled';
  }
  if (
    message === 'fetch failed' ||
    /ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENETUNREACH/.test(message + (cause?.code ?? ''))
  ) {
    const host = safeHost(env.remoteHost);
    return `no connection to ${host}${cause?.code ? ` (${cause.code})` : ''} and no local copy`;
  }
  if (/Could not locate file|Unauthorized access|Forbidden access/.test(message)) {
    return 'not found on the Hugging Face hub; check the model id';
  }
  return firstLine(err);
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** The first line of an error's message, at most 200 characters: enough to act on, never a stack. */
export function firstLine(err: unknown): string {
  const text = errorMessage(err);
  const line = text.split('\n')[0] ?? '';
  return line.length > 200 ? line.slice(0, 197) + '...' : line;
}
