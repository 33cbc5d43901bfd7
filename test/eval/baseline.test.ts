import { describe, expect, it } from 'vitest';
import { createBaseline } from '../../src/eval/baseline.js';

describe('the baseline (plain whole-article BM25)', () => {
  it('ranks whole articles by the question words spread over title and text, with porter stemming', () => {
    const baseline = createBaseline([
      { id: 'storm', title: 'Storm hits the coast', text: 'Winds of 150 km/h were measured. Thousands were evacuated from the islands.' },
      { id: 'court', title: 'Court rules on the suspension', text: 'The judges ruled the suspension of parliament unlawful.' },
      { id: 'other', title: 'Market news', text: 'Shares rose on Monday.' },
    ]);
    try {
      // "evacuating" meets "evacuated" through stemming; "storm" is in the title, "islands" deep in the text.
      expect(baseline.search('Were people evacuating the islands during the storm?', 10)[0]).toBe('storm');
      expect(baseline.search('what did the judges rule', 10)[0]).toBe('court');
      expect(baseline.search('"; DROP TABLE docs; --', 10)).toEqual([]);
      expect(baseline.search('', 10)).toEqual([]);
      expect(baseline.search('the', 1)).toHaveLength(1);
    } finally {
      baseline.close();
    }
  });
});
