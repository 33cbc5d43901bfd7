/**
 * Which embedding model the benchmark measures with.
 *
 * Normally the configured one. Offline, `--model-shape bge-small` stands in a random-weight BERT
 * with the real model's exact shape (written by the shared `make_bert.py`), loaded through the
 * same transformers.js path: its vectors mean nothing, but its compute and memory cost are the
 * real model's, which is all a performance benchmark needs from it. Like the published model it
 * comes as fp32 and int8 (`quantize_stand_in.py`), and EMBEDDING_QUANTIZED picks one as usual.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/index.js';
import { createEmbedder } from '../embedding/index.js';
import type { Embedder } from '../types.js';
import type { Logger } from '../util/log.js';

/** Layer sizes of a BERT encoder, as `make_bert.py` takes them. */
export interface ModelShape {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  /** The real model this shape copies; also the name the stand-in is loaded under, so its model-card profile (pooling, query instruction) applies. */
  like: string;
}

/** Shapes `--model-shape` accepts. */
export const MODEL_SHAPES: Record<string, ModelShape> = {
  'bge-small': { layers: 12, hidden: 384, heads: 12, intermediate: 1536, like: 'bge-small-en-v1.5' },
  'minilm-l6': { layers: 6, hidden: 384, heads: 12, intermediate: 1536, like: 'all-MiniLM-L6-v2' },
};

/** The embedder the benchmark uses, and how to describe it next to the numbers. */
export interface BenchEmbedder {
  embedder: Embedder | null;
  /** Settings that load the same model in a child process (null when there is no model). */
  settings: Config['embedding'] | null;
  kind: 'configured' | 'shape' | 'none';
  /** Shown with every result, e.g. "bge-small-en-v1.5 shape, random weights, real shape (fp32)". */
  label: string;
  /** Why the model is not the configured one or why there is none. */
  notes: string[];
  loadSeconds: number | null;
}

/** Where to find things the shape model needs. */
export interface ShapeModelOptions {
  shape: string;
  /** Folder the stand-in models are cached in (`.cache/bench-models`). */
  cacheDir: string;
  /** Text whose words make up the tokenizer vocabulary, so token counts resemble the real model's. */
  vocabFrom: string;
  makeBert: string;
  python: string;
}

const SHAPE_OWNER = 'bench-shape';
const STAMP = 'bench-stamp.json';
// Bump when the files written for a stand-in change, so cached ones are rebuilt.
const STAND_IN_VERSION = 2;
const QUANTIZE_SCRIPT = fileURLToPath(new URL('./quantize_stand_in.py', import.meta.url));

/** Loads the configured embedder, or the shape stand-in when `shape` options are given. Never throws for a missing model. */
export async function chooseEmbedder(config: Config, logger: Logger, shape: ShapeModelOptions | null): Promise<BenchEmbedder> {
  if (shape) {
    const made = ensureShapeModel(shape);
    if ('problem' in made) {
      return {
        embedder: null,
        settings: null,
        kind: 'none',
        label: 'none (lexical-only)',
        notes: [`${made.problem}; falling back to lexical-only.`],
        loadSeconds: null,
      };
    }
    // The int8 file is what the product loads by default; fp32 only when quantization was turned off or failed.
    const quantized = config.embedding.quantized && made.quantized;
    const settings: Config['embedding'] = {
      ...config.embedding,
      provider: 'transformers',
      model: made.modelId,
      pooling: 'cls',
      quantized,
      localModelDir: shape.cacheDir,
      allowRemoteModels: false,
    };
    const started = performance.now();
    const { embedder, warning } = await createEmbedder(settings, config.llm, logger);
    const loadSeconds = (performance.now() - started) / 1000;
    const s = MODEL_SHAPES[shape.shape]!;
    if (!embedder) {
      return {
        embedder: null,
        settings: null,
        kind: 'none',
        label: 'none (lexical-only)',
        notes: [`The ${shape.shape} stand-in did not load: ${warning ?? 'unknown reason'}`],
        loadSeconds: null,
      };
    }
    const notes = [
      "Random weights, real shape: embedding cost and memory are the real model's, the vectors mean nothing (retrieval quality is not measured here).",
    ];
    if (!quantized) {
      notes.push(
        made.quantized
          ? 'EMBEDDING_QUANTIZED=false: measured with the fp32 file.'
          : `The int8 file could not be made (${made.quantizeProblem ?? 'unknown reason'}), so this is fp32; the product's default int8 model is faster and smaller.`,
      );
    }
    return {
      embedder,
      settings,
      kind: 'shape',
      label: `${s.like} shape (${s.layers}×${s.hidden}, ${s.heads} heads, ${s.intermediate} FFN), random weights, real shape, ${quantized ? 'int8 like the default model_quantized.onnx' : 'fp32'}`,
      notes,
      loadSeconds,
    };
  }
  const started = performance.now();
  const { embedder, warning } = await createEmbedder(config.embedding, config.llm, logger);
  const loadSeconds = (performance.now() - started) / 1000;
  if (!embedder) {
    return {
      embedder: null,
      settings: null,
      kind: 'none',
      label: 'none (lexical-only)',
      notes: [
        warning ?? 'Embeddings are turned off (EMBEDDING_PROVIDER=none).',
        'Offline, `--model-shape bge-small` measures with a random-weight model of the real shape.',
      ],
      loadSeconds: null,
    };
  }
  return { embedder, settings: config.embedding, kind: 'configured', label: `${embedder.id} (configured)`, notes: [], loadSeconds };
}

/**
 * Writes the stand-in model (fp32, and int8 when it can) into the cache unless an identical one is
 * there; returns its model id and whether the int8 file exists.
 */
function ensureShapeModel(o: ShapeModelOptions): { modelId: string; quantized: boolean; quantizeProblem?: string } | { problem: string } {
  const shape = MODEL_SHAPES[o.shape];
  if (!shape) return { problem: `Unknown --model-shape "${o.shape}" (known: ${Object.keys(MODEL_SHAPES).join(', ')})` };
  const modelId = `${SHAPE_OWNER}/${shape.like}`;
  const target = path.join(o.cacheDir, SHAPE_OWNER, shape.like);
  const stamp = JSON.stringify({ version: STAND_IN_VERSION, ...shape, vocabFrom: path.resolve(o.vocabFrom) });
  const quantizedFile = (dir: string) => fs.existsSync(path.join(dir, 'onnx', 'model_quantized.onnx'));
  if (readStamp(target) === stamp && fs.existsSync(path.join(target, 'onnx', 'model.onnx')))
    return { modelId, quantized: quantizedFile(target) };

  if (!fs.existsSync(o.makeBert))
    return { problem: `Cannot make the ${o.shape} stand-in: ${o.makeBert} not found (pass --make-bert FILE)` };
  const probe = spawnSync(o.python, ['-c', 'import onnx, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return {
      problem: `Cannot make the ${o.shape} stand-in: ${o.python} cannot import onnx and numpy (apt-get install -y python3-onnx python3-numpy)`,
    };
  }
  // Written beside the target and renamed in, so an interrupted run never leaves half a model behind.
  const tmp = `${target}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const args = [
    o.makeBert,
    tmp,
    String(shape.layers),
    String(shape.hidden),
    String(shape.heads),
    String(shape.intermediate),
    '--vocab-from',
    o.vocabFrom,
  ];
  const made = spawnSync(o.python, args, { encoding: 'utf8' });
  if (made.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    return { problem: `make_bert.py failed: ${lastLine(made.stderr || made.stdout || String(made.error ?? ''))}` };
  }
  const q = spawnSync(o.python, [QUANTIZE_SCRIPT, tmp], { encoding: 'utf8' });
  // Without the int8 file the stand-in still works in fp32; the caller says so next to the numbers.
  const quantizeProblem =
    q.status === 0 ? undefined : `quantize_stand_in.py failed: ${lastLine(q.stderr || q.stdout || String(q.error ?? ''))}`;
  fs.writeFileSync(path.join(tmp, STAMP), stamp);
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(tmp, target);
  return { modelId, quantized: quantizedFile(target), ...(quantizeProblem ? { quantizeProblem } : {}) };
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? 'unknown error';
}

function readStamp(dir: string): string | null {
  try {
    return fs.readFileSync(path.join(dir, STAMP), 'utf8');
  } catch {
    return null;
  }
}
