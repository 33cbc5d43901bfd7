import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as onnxNode from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTransformersEmbedder,
  ModelLoadError,
  type ModelLoadProgress,
  type SessionOptions,
  withSessionOptions,
} from '../../src/embedding/transformers.js';
import type { Embedder } from '../../src/types.js';
import {
  ensureFixtureModel,
  FIXTURE_DIMENSION,
  FIXTURE_MAX_TOKENS,
  FIXTURE_MODEL_ID,
  FIXTURE_MODELS_DIR,
} from '../support/fixture-model.js';
import { dot, fixtureAs, maxAbsDiff, meanRows, norm, rawHiddenStates, unit } from './helpers.js';

const BGE_PREFIX = 'Represent this sentence for searching relevant passages: ';
const TEXTS = [
  'Police arrested two men after the crime.',
  'Short.',
  'The football team won the championship final after a long and difficult season of many games.',
  '',
  'Investors sold shares as inflation rose.',
  'Storm, flood and fire: the climate report.',
  'The union strike by workers over jobs continues into a second week.',
];

const fixture = (extra: Partial<Parameters<typeof createTransformersEmbedder>[0]> = {}) =>
  createTransformersEmbedder({ model: FIXTURE_MODEL_ID, localModelDir: FIXTURE_MODELS_DIR, allowRemoteModels: false, ...extra });

const tempDirs: string[] = [];
afterAll(async () => {
  for (const dir of tempDirs) await fs.rm(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  await ensureFixtureModel();
});

describe('transformers embedder on the fixture model', () => {
  let embedder: Embedder;
  beforeAll(async () => {
    embedder = await fixture({ batchSize: 3 });
  });

  it('describes itself from the model files', () => {
    expect(embedder.id).toBe(`transformers:${FIXTURE_MODEL_ID}`);
    expect(embedder.tokenizer.id).toBe(`transformers:${FIXTURE_MODEL_ID}`);
    expect(embedder.dimension).toBe(FIXTURE_DIMENSION);
    expect(embedder.maxTokens).toBe(FIXTURE_MAX_TOKENS);
  });

  it('returns one unit vector of the model dimension per text', async () => {
    const vectors = await embedder.embedDocuments(TEXTS);
    expect(vectors).toHaveLength(TEXTS.length);
    for (const v of vectors) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v).toHaveLength(FIXTURE_DIMENSION);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    expect(await embedder.embedDocuments([])).toEqual([]);
  });

  it('gives the same vectors batched (with padding) as one by one', async () => {
    const batched = await embedder.embedDocuments(TEXTS);
    const single = await fixture({ batchSize: 1 });
    const oneByOne = await single.embedDocuments(TEXTS);
    for (let i = 0; i < TEXTS.length; i++) expect(maxAbsDiff(batched[i]!, oneByOne[i]!)).toBeLessThan(1e-5);
    // Padding must not leak in: the short text alone and inside a batch with long texts agree.
    const [alone] = await single.embedDocuments(['Short.']);
    expect(maxAbsDiff(alone!, batched[1]!)).toBeLessThan(1e-5);
  });

  it('scores texts that share words above unrelated texts', async () => {
    const [a, b, c] = await embedder.embedDocuments([
      'Police arrested two men after the crime in the city.',
      'Two men arrested by police over a city crime.',
      'The football team won the championship final.',
    ]);
    expect(dot(a!, b!)).toBeGreaterThan(dot(a!, c!) + 0.3);
  });

  it('counts tokens exactly as the model tokenizer does, [CLS] and [SEP] included', async () => {
    for (const text of TEXTS) {
      const { ids } = await rawHiddenStates(text);
      expect(embedder.tokenizer.count(text)).toBe(ids.length);
    }
    expect(embedder.tokenizer.count('')).toBe(2);
    expect(embedder.tokenizer.count('the police')).toBe(4);
  });

  it('truncates an over-long text instead of crashing', async () => {
    const long = Array.from({ length: 800 }, (_, i) => `police crime court ${i}`).join(' ');
    expect(embedder.tokenizer.count(long)).toBeGreaterThan(FIXTURE_MAX_TOKENS);
    const [v] = await embedder.embedDocuments([long]);
    expect(norm(v!)).toBeCloseTo(1, 5);
    expect(Number.isFinite(v![0]!)).toBe(true);
    // Truncation keeps the first tokens: appending more text past the limit changes nothing.
    const [w] = await embedder.embedDocuments([long + ' football championship']);
    expect(maxAbsDiff(v!, w!)).toBeLessThan(1e-5);
  });
});

describe('pooling', () => {
  const text = 'The football team won the championship final.';

  it('CLS pooling returns the normalised first-token state, mean pooling the normalised token mean, and they differ', async () => {
    const { rows } = await rawHiddenStates(text);
    const expectedCls = unit(rows[0]!);
    const expectedMean = unit(meanRows(rows));

    const cls = await fixture({ pooling: 'cls' });
    const mean = await fixture({ pooling: 'mean' });
    const [clsVector] = await cls.embedDocuments([text]);
    const [meanVector] = await mean.embedDocuments([text]);

    expect(maxAbsDiff(clsVector!, expectedCls)).toBeLessThan(1e-5);
    expect(maxAbsDiff(meanVector!, expectedMean)).toBeLessThan(1e-5);
    // Large enough that a swapped pooling would fail the two checks above.
    expect(maxAbsDiff(expectedCls, expectedMean)).toBeGreaterThan(1e-2);
  });

  it('puts an overridden pooling in the embedder id, so an index built otherwise is not reused', async () => {
    expect((await fixture({ pooling: 'cls' })).id).toBe(`transformers:${FIXTURE_MODEL_ID}?pooling=cls`);
    expect((await fixture({ pooling: 'mean' })).id).toBe(`transformers:${FIXTURE_MODEL_ID}`);
    expect((await fixture({ pooling: 'auto', quantized: false })).id).toBe(`transformers:${FIXTURE_MODEL_ID}?fp32`);
  });
});

describe('model card profiles applied end to end', () => {
  it('a bge model id gets CLS pooling, and only queries get the instruction', async () => {
    const dir = await fixtureAs('Xenova/bge-small-en-v1.5');
    tempDirs.push(dir);
    const bge = await createTransformersEmbedder({ model: 'Xenova/bge-small-en-v1.5', localModelDir: dir, allowRemoteModels: false });
    expect(bge.id).toBe('transformers:Xenova/bge-small-en-v1.5');

    const text = 'Why did investors sell shares?';
    const [doc] = await bge.embedDocuments([text]);
    const query = await bge.embedQuery(text);
    expect(maxAbsDiff(doc!, unit((await rawHiddenStates(text, 'Xenova/bge-small-en-v1.5', dir)).rows[0]!))).toBeLessThan(1e-5);
    expect(maxAbsDiff(query, unit((await rawHiddenStates(BGE_PREFIX + text, 'Xenova/bge-small-en-v1.5', dir)).rows[0]!))).toBeLessThan(
      1e-5,
    );
    expect(maxAbsDiff(query, doc!)).toBeGreaterThan(1e-2);
    // No passage prefix: the whole model length is available to chunks.
    expect(bge.maxTokens).toBe(FIXTURE_MAX_TOKENS);
  });

  it('an e5 model id gets mean pooling and passage:/query: prefixes, and reserves room for the passage prefix', async () => {
    const dir = await fixtureAs('Xenova/e5-small-v2');
    tempDirs.push(dir);
    const e5 = await createTransformersEmbedder({ model: 'Xenova/e5-small-v2', localModelDir: dir, allowRemoteModels: false });
    const text = 'Storm and flood warnings';
    const [doc] = await e5.embedDocuments([text]);
    const query = await e5.embedQuery(text);
    expect(maxAbsDiff(doc!, unit(meanRows((await rawHiddenStates('passage: ' + text, 'Xenova/e5-small-v2', dir)).rows)))).toBeLessThan(
      1e-5,
    );
    expect(maxAbsDiff(query, unit(meanRows((await rawHiddenStates('query: ' + text, 'Xenova/e5-small-v2', dir)).rows)))).toBeLessThan(1e-5);
    expect(e5.maxTokens).toBe(FIXTURE_MAX_TOKENS - (e5.tokenizer.count('passage: ') - 2));
    expect(e5.maxTokens).toBeLessThan(FIXTURE_MAX_TOKENS);
  });

  it('a configured query prefix replaces the card one', async () => {
    const plain = await fixture();
    const prefixed = await fixture({ queryPrefix: BGE_PREFIX });
    const text = 'vaccine study virus';
    expect(maxAbsDiff(await plain.embedQuery(text), (await plain.embedDocuments([text]))[0]!)).toBeLessThan(1e-6);
    expect(maxAbsDiff(await prefixed.embedQuery(text), (await plain.embedDocuments([BGE_PREFIX + text]))[0]!)).toBeLessThan(1e-5);
  });
});

describe('loading', () => {
  it('reports file progress while loading', async () => {
    const events: ModelLoadProgress[] = [];
    await fixture({ onProgress: (p) => events.push(p) });
    expect(events.some((e) => e.file === 'onnx/model_quantized.onnx' && e.status === 'done')).toBe(true);
    expect(events.some((e) => e.status === 'progress' && e.total > 0 && e.loaded <= e.total)).toBe(true);
  });

  it('fails with a short ModelLoadError for a model that is not available locally', async () => {
    const err = await createTransformersEmbedder({
      model: 'fixture/missing-model',
      localModelDir: FIXTURE_MODELS_DIR,
      allowRemoteModels: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as ModelLoadError).reason).toBe('not found locally and remote downloads are disabled');
    expect((err as Error).message).not.toContain('\n');
  });

  it('keeps concurrent loads with different settings apart (transformers.js settings are global)', async () => {
    const [ok, missing] = await Promise.allSettled([
      fixture(),
      createTransformersEmbedder({ model: FIXTURE_MODEL_ID, localModelDir: '/nonexistent-models-dir', allowRemoteModels: false }),
    ]);
    expect(ok.status).toBe('fulfilled');
    expect(missing.status).toBe('rejected');
  });
});

describe('withSessionOptions', () => {
  it('keeps overlapping calls apart: each load gets its own options, and InferenceSession.create is put back', async () => {
    // The module transformers.js creates its sessions with (its `default`).
    const ort = ((onnxNode as { default?: unknown }).default ?? onnxNode) as typeof onnxNode;
    const original = ort.InferenceSession.create;
    const model = new Uint8Array(await fs.readFile(path.join(FIXTURE_MODELS_DIR, FIXTURE_MODEL_ID, 'onnx', 'model.onnx')));
    // A session as transformers.js asks for one (bytes); what it was given shows in whether it is refused.
    const session = () =>
      ort.InferenceSession.create(model, { executionProviders: ['cpu'] }).then(
        () => 'created',
        (err: Error) => `refused: ${err.message}`,
      );
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let firstLoaded!: () => void;
    const firstDone = new Promise<void>((resolve) => (firstLoaded = resolve));
    // The second call starts while the first load waits, and its load ends after the first's.
    const first = withSessionOptions({ intraOpNumThreads: 1 }, async () => {
      await gate;
      const created = await session();
      firstLoaded();
      return created;
    });
    // onnxruntime refuses a non-number thread count (given with a path, as withSessionOptions does).
    const second = withSessionOptions({ intraOpNumThreads: 'abc' } as unknown as SessionOptions, async () => {
      const created = await session();
      await firstDone;
      return created;
    });
    release();
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBe('created');
    expect(b).toMatch(/^refused: .*intraOpNumThreads/);
    expect(ort.InferenceSession.create).toBe(original);
  });
});

describe('withSessionOptions scratch copies', () => {
  it('copies the model into the given folder, leaves nothing there, and removes copies a killed process left', async () => {
    const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'onnx-scratch-'));
    tempDirs.push(scratch);
    // A process that has exited: what it left behind is nobody's.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    await fs.mkdir(path.join(scratch, `newsdesk-onnx-${gone}-abc123`));
    await fs.writeFile(path.join(scratch, `newsdesk-onnx-${gone}-abc123`, 'model.onnx'), 'left by a killed load');
    // Left an hour ago; a dead process's copy from a minute ago could be a live one's in another pid namespace.
    const hourAgo = new Date(Date.now() - 3_600_000);
    await fs.utimes(path.join(scratch, `newsdesk-onnx-${gone}-abc123`), hourAgo, hourAgo);
    await fs.mkdir(path.join(scratch, `newsdesk-onnx-${gone}-recent`));
    await fs.mkdir(path.join(scratch, `newsdesk-onnx-${process.pid}-live01`));
    await fs.mkdir(path.join(scratch, 'unrelated'));
    const ort = ((onnxNode as { default?: unknown }).default ?? onnxNode) as typeof onnxNode;
    const model = new Uint8Array(await fs.readFile(path.join(FIXTURE_MODELS_DIR, FIXTURE_MODEL_ID, 'onnx', 'model.onnx')));
    // What onnxruntime is handed (and whether that file exists then), seen from under the swap.
    const original = ort.InferenceSession.create;
    const seen: string[] = [];
    ort.InferenceSession.create = (async (given: unknown, options: unknown) => {
      if (typeof given === 'string') seen.push(`${given} ${(await fs.stat(given)).size}`);
      return (original as (m: unknown, o: unknown) => Promise<unknown>).call(ort.InferenceSession, given, options);
    }) as typeof original;
    let created: string;
    try {
      created = await withSessionOptions(
        { intraOpNumThreads: 1 },
        async () => {
          await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
          return 'created';
        },
        scratch,
      );
    } finally {
      ort.InferenceSession.create = original;
    }
    expect(created).toBe('created');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(new RegExp(`^${scratch}/newsdesk-onnx-${process.pid}-\\w+/model\\.onnx ${model.byteLength}$`));
    expect((await fs.readdir(scratch)).sort()).toEqual(
      [`newsdesk-onnx-${gone}-recent`, `newsdesk-onnx-${process.pid}-live01`, 'unrelated'].sort(),
    );
  });

  it('never creates the scratch folder: a load that ends after its owner removed the folder does not bring it back', async () => {
    const owner = await fs.mkdtemp(path.join(os.tmpdir(), 'onnx-owner-'));
    tempDirs.push(owner);
    const cache = path.join(owner, 'cache');
    await fs.rm(owner, { recursive: true });
    const model = new Uint8Array(await fs.readFile(path.join(FIXTURE_MODELS_DIR, FIXTURE_MODEL_ID, 'onnx', 'model.onnx')));
    const ort = ((onnxNode as { default?: unknown }).default ?? onnxNode) as typeof onnxNode;
    const created = await withSessionOptions(
      { intraOpNumThreads: 1 },
      () => ort.InferenceSession.create(model, { executionProviders: ['cpu'] }).then(() => 'created'),
      cache,
    );
    expect(created).toBe('created');
    await expect(fs.stat(owner)).rejects.toThrow(/ENOENT/);
  });
});
