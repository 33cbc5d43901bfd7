import { beforeAll, describe, expect, it } from 'vitest';
import { estimatedWordPieceCounter } from '../../src/embedding/index.js';
import { createTransformersEmbedder } from '../../src/embedding/transformers.js';
import type { Embedder } from '../../src/types.js';
import { ensureFixtureModel, FIXTURE_MODEL_ID, FIXTURE_MODELS_DIR } from '../support/fixture-model.js';

describe('estimatedWordPieceCounter (chunk sizes without a model)', () => {
  it('counts BERT pre-tokenizer pieces (words and single punctuation marks), a tenth more for subwords, and the two special tokens', () => {
    // The U . S . president , 74 , said : ' no ' . → 15 pieces.
    expect(estimatedWordPieceCounter.count("The U.S. president, 74, said: 'no'.")).toBe(2 + Math.ceil(15 * 1.1));
    expect(estimatedWordPieceCounter.count('')).toBe(2);
    expect(estimatedWordPieceCounter.count('Привет, мир')).toBe(2 + Math.ceil(3 * 1.1));
  });

  it('is about 1.4 tokens per English word, as WordPiece gives on news, not the 3 of the old character estimate', () => {
    const text = 'The prime minister suspended parliament for five weeks, a move the court later called unlawful. '.repeat(20);
    const words = text.split(/\s+/).filter(Boolean).length;
    const perWord = estimatedWordPieceCounter.count(text) / words;
    expect(perWord).toBeGreaterThan(1.1);
    expect(perWord).toBeLessThan(1.6);
  });
});

describe('estimatedWordPieceCounter on scripts written without spaces', () => {
  let embedder: Embedder;
  beforeAll(async () => {
    await ensureFixtureModel();
    embedder = await createTransformersEmbedder({ model: FIXTURE_MODEL_ID, localModelDir: FIXTURE_MODELS_DIR, allowRemoteModels: false });
  });

  // BERT's normaliser puts every CJK ideograph on its own, so an unbroken sentence is one piece per
  // character, not one "word": counted as one, a chunk of Chinese would be many times the model's input.
  const texts = [
    '俄罗斯内务部长科洛科尔采夫将在联合国举行双边会谈。',
    '東京電力は福島第一原子力発電所の処理水を海に放出すると発表した。',
    '新型冠状病毒疫情在全球蔓延，世界卫生组织宣布大流行。' + 'The WHO said so.',
    '서울에서 대통령 선거가 열렸다',
  ];

  it('never counts fewer tokens than a BERT tokenizer gives for Chinese, Japanese and Korean text', () => {
    for (const text of texts) expect(estimatedWordPieceCounter.count(text)).toBeGreaterThanOrEqual(embedder.tokenizer.count(text));
  });

  it('counts an unbroken Chinese sentence one piece per character', () => {
    const text = '科洛科尔采夫将举行双边会谈';
    expect(estimatedWordPieceCounter.count(text)).toBeGreaterThanOrEqual(2 + [...text].length);
    // Mixed text: the English words still count as words.
    expect(estimatedWordPieceCounter.count('会谈 talks')).toBe(2 + Math.ceil(3 * 1.1));
  });
});
