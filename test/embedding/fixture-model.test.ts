import fs from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTransformersEmbedder } from '../../src/embedding/transformers.js';
import type { Embedder } from '../../src/types.js';
import {
  buildFixtureModelFiles,
  ensureFixtureModel,
  FIXTURE_DIMENSION,
  FIXTURE_MODEL_ID,
  FIXTURE_MODELS_DIR,
} from '../support/fixture-model.js';
import { dot } from './helpers.js';

describe('fixture model files', () => {
  it('lives where transformers.js looks for it, with every file it loads', async () => {
    const dir = await ensureFixtureModel();
    expect(dir).toBe(path.join(FIXTURE_MODELS_DIR, 'fixture', 'tiny-bert'));
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx']) {
      await expect(fs.stat(path.join(dir, file))).resolves.toBeTruthy();
    }
    const config = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'));
    expect(config.model_type).toBe('bert');
    expect(config.hidden_size).toBe(FIXTURE_DIMENSION);
    const { size } = await fs.stat(path.join(dir, 'onnx', 'model.onnx'));
    // 128 dimensions: at 32 random word vectors correlate by chance (~0.18) and drown the signal.
    expect(size).toBeLessThan(2_000_000);
  });

  it('is reused, not rebuilt, when it is already up to date', async () => {
    const dir = await ensureFixtureModel();
    const before = (await fs.stat(path.join(dir, 'onnx', 'model.onnx'))).mtimeMs;
    const started = Date.now();
    await ensureFixtureModel();
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await fs.stat(path.join(dir, 'onnx', 'model.onnx'))).mtimeMs).toBe(before);
  });

  it('is byte-for-byte deterministic and draws its vocabulary from the given texts', () => {
    const texts = ['Zorblax zorblax quintessential', 'quintessential news'];
    const a = buildFixtureModelFiles(texts);
    const b = buildFixtureModelFiles(texts);
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    for (const name of Object.keys(a)) expect(Buffer.compare(Buffer.from(a[name]!), Buffer.from(b[name]!))).toBe(0);

    const vocab = JSON.parse(new TextDecoder().decode(a['tokenizer.json'])).model.vocab as Record<string, number>;
    expect(vocab['[PAD]']).toBe(0);
    expect(['[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((t) => vocab[t])).toEqual([1, 2, 3, 4]);
    expect(vocab.zorblax).toBeTypeOf('number');
    expect(vocab.quintessential).toBeTypeOf('number');
    expect(vocab['##q']).toBeTypeOf('number');
    const without = JSON.parse(new TextDecoder().decode(buildFixtureModelFiles([])['tokenizer.json'])).model.vocab;
    expect(without.zorblax).toBeUndefined();
    expect(Object.keys(vocab).length).toBeLessThanOrEqual(5000);
  });
});

describe('fixture model as a retrieval model', () => {
  let embedder: Embedder;
  beforeAll(async () => {
    await ensureFixtureModel();
    embedder = await createTransformersEmbedder({ model: FIXTURE_MODEL_ID, localModelDir: FIXTURE_MODELS_DIR, allowRemoteModels: false });
  });

  const articles = [
    'Police arrested two men after a night of crime in the city, the court heard.',
    'Heavy storm and flood water hit the river towns; climate scientists warn of more.',
    'The football team won the championship final after a long season.',
    'Investors sold shares as inflation and interest rates rose, hitting the stock market.',
    'Parliament voted on the budget and a new tax plan from the prime minister.',
    'The hospital said the vaccine study found the virus spread less among students.',
  ];
  const queries: [string, number][] = [
    ['Who did police arrest after the crime?', 0],
    ['storm flood river', 1],
    ['which team won the football championship', 2],
    ['Why did investors sell shares?', 3],
    ['What was in the budget tax plan?', 4],
    ['vaccine study virus', 5],
  ];

  it('ranks the article that shares words with the query first, by a clear margin', async () => {
    const docs = await embedder.embedDocuments(articles);
    for (const [query, expected] of queries) {
      const q = await embedder.embedQuery(query);
      const scores = docs.map((d) => dot(q, d));
      const best = scores[expected]!;
      const others = scores.filter((_, i) => i !== expected);
      expect(scores.indexOf(Math.max(...scores)), query).toBe(expected);
      expect(best - Math.max(...others), query).toBeGreaterThan(0.15);
    }
  });

  it('scores paraphrases sharing words well above unrelated pairs', async () => {
    const [a, b, c] = await embedder.embedDocuments([
      'Workers at the union went on strike over jobs and pay.',
      'The union strike by workers over jobs continues.',
      'A new film festival opened at the museum of art.',
    ]);
    expect(dot(a!, b!)).toBeGreaterThan(0.6);
    expect(dot(a!, c!)).toBeLessThan(0.35);
  });
});
