import { describe, expect, it } from 'vitest';
import { sentenceSpans } from '../../src/util/text.js';

describe('sentence spans on very long paragraphs', () => {
  it('are segmented in windows without moving, losing or splitting any sentence', () => {
    // 150 KB without a paragraph break (as PDF extraction often yields); windows are 20 KB.
    const sentences: string[] = [];
    for (let i = 0; sentences.join(' ').length < 150_000; i++) {
      sentences.push(
        i % 7 === 0
          ? `Talks ${i} were held with Mr. Lacroix in New York.`
          : `The council met for session ${i} and discussed the Elm river bridge budget.`,
      );
    }
    const text = sentences.join(' ');
    const spans = sentenceSpans(text);
    expect(spans.map((s) => text.slice(s.start, s.end))).toEqual(sentences);
  });
});
