import { describe, expect, it } from 'vitest';
import { estimatedWordPieceCounter } from '../../src/embedding/index.js';

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
