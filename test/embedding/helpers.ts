/** Shared helpers for the embedding tests. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AutoModel, AutoTokenizer, env } from '@xenova/transformers';
import { ensureFixtureModel, FIXTURE_MODEL_ID, FIXTURE_MODELS_DIR } from '../support/fixture-model.js';

/** Dot product (= cosine for unit vectors). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Euclidean norm. */
export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** Largest absolute element-wise difference. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) m = Math.max(m, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)));
  return m;
}

/** Copies the fixture model into `<tmp>/<modelId>/` so it loads under a real model's id (and its table entry). */
export async function fixtureAs(modelId: string): Promise<string> {
  const source = await ensureFixtureModel();
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'embedding-test-'));
  await fs.cp(source, path.join(root, ...modelId.split('/')), { recursive: true });
  return root;
}

/** Last-layer token vectors and token ids of one input. */
export interface RawHidden {
  /** Token vectors of the last layer, one row per token (no padding: single input). */
  rows: Float32Array[];
  ids: number[];
}

/**
 * Runs the fixture model's tokenizer and ONNX graph directly, without our embedder or the
 * pipeline's pooling, so pooling can be checked against an independent computation.
 */
export async function rawHiddenStates(text: string, modelId = FIXTURE_MODEL_ID, modelsDir = FIXTURE_MODELS_DIR): Promise<RawHidden> {
  env.localModelPath = modelsDir + '/';
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  const tokenizer = await AutoTokenizer.from_pretrained(modelId, { local_files_only: true });
  const model = await AutoModel.from_pretrained(modelId, { local_files_only: true, quantized: true });
  const inputs = tokenizer(text) as { input_ids: { data: BigInt64Array } };
  const output = (await model(inputs)) as { last_hidden_state: { dims: number[]; data: Float32Array } };
  const [, seq, dim] = output.last_hidden_state.dims as [number, number, number];
  const rows = Array.from({ length: seq }, (_, i) => output.last_hidden_state.data.slice(i * dim, (i + 1) * dim));
  return { rows, ids: Array.from(inputs.input_ids.data, Number) };
}

/** Scales a vector to unit length. */
export function unit(v: ArrayLike<number>): Float32Array {
  const n = norm(v);
  return Float32Array.from(v, (x) => x / n);
}

/** Element-wise mean of rows. */
export function meanRows(rows: Float32Array[]): Float32Array {
  const out = new Float32Array(rows[0]!.length);
  for (const r of rows) for (const [i, x] of r.entries()) out[i] = out[i]! + x / rows.length;
  return out;
}
