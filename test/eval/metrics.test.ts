import { describe, expect, it } from 'vitest';
import {
  binaryRelevances,
  containsAnswer,
  containsNormalised,
  firstRelevantRank,
  hitAtK,
  mrrAtK,
  ndcgAtK,
  normaliseWhitespace,
  recallAtK,
  share,
} from '../../src/eval/metrics.js';
import { mean, percentile } from '../../src/util/stats.js';

describe('hitAtK', () => {
  const ranks = [1, 3, null, 6];

  it('counts first-relevant ranks at or above the cutoff', () => {
    expect(hitAtK(ranks, 1)).toBe(0.25);
    expect(hitAtK(ranks, 3)).toBe(0.5);
    expect(hitAtK(ranks, 5)).toBe(0.5);
    expect(hitAtK(ranks, 6)).toBe(0.75);
    expect(hitAtK(ranks, 10)).toBe(0.75);
  });

  it('never counts a miss, whatever k', () => {
    expect(hitAtK([null, null], 1000)).toBe(0);
  });

  it('is 0 for no queries rather than NaN', () => {
    expect(hitAtK([], 5)).toBe(0);
  });
});

describe('mrrAtK', () => {
  it('averages reciprocal ranks, counting ranks past k as misses', () => {
    // (1 + 1/3 + 0 + 0) / 4 at k=5; rank 6 only counts from k=6.
    expect(mrrAtK([1, 3, null, 6], 5)).toBeCloseTo(1 / 3, 10);
    expect(mrrAtK([1, 3, null, 6], 10)).toBeCloseTo((1 + 1 / 3 + 1 / 6) / 4, 10);
  });

  it('is 1 only when every query has its answer first', () => {
    expect(mrrAtK([1, 1, 1], 10)).toBe(1);
    expect(mrrAtK([1, 2], 10)).toBe(0.75);
  });

  it('is 0 for no queries', () => {
    expect(mrrAtK([], 10)).toBe(0);
  });
});

describe('ndcgAtK', () => {
  it('matches the textbook graded example (3,2,3,0,1,2 → 0.961)', () => {
    // DCG = 3 + 2/log2(3) + 3/2 + 0 + 1/log2(6) + 2/log2(7) = 6.861; IDCG (3,3,2,2,1,0) = 7.141.
    expect(ndcgAtK([3, 2, 3, 0, 1, 2], 6)).toBeCloseTo(6.861 / 7.141, 3);
  });

  it('scores a relevant item at rank 2 and 3 against the ideal ranks 1 and 2', () => {
    const dcg = 1 / Math.log2(3) + 1 / Math.log2(4);
    const idcg = 1 + 1 / Math.log2(3);
    expect(ndcgAtK([0, 1, 1], 3)).toBeCloseTo(dcg / idcg, 10);
  });

  it('penalises relevant items the list missed when the ideal says they exist', () => {
    expect(ndcgAtK([1, 0], 10)).toBe(1);
    expect(ndcgAtK([1, 0], 10, [1, 1])).toBeCloseTo(1 / (1 + 1 / Math.log2(3)), 10);
  });

  it('ignores items past k', () => {
    expect(ndcgAtK([0, 0, 1], 2, [1])).toBe(0);
    expect(ndcgAtK([0, 0, 1], 3, [1])).toBeCloseTo(0.5, 10);
  });

  it('is unaffected by the order of tied relevances in the ideal list', () => {
    expect(ndcgAtK([2, 1, 1, 0], 4, [1, 0, 2, 1])).toBe(ndcgAtK([2, 1, 1, 0], 4, [2, 1, 1, 0]));
    expect(ndcgAtK([2, 1, 1, 0], 4)).toBe(1);
  });

  it('is 0 when nothing is relevant or the list is empty', () => {
    expect(ndcgAtK([0, 0, 0], 3)).toBe(0);
    expect(ndcgAtK([], 10)).toBe(0);
  });
});

describe('ranks over result lists', () => {
  it('ranks among distinct ids, so an article listed twice takes one place', () => {
    expect(firstRelevantRank(['a', 'a', 'b', 'a', 'c'], ['c'])).toBe(3);
  });

  it('takes the first of several relevant ids', () => {
    expect(firstRelevantRank(['x', 'b', 'a'], ['a', 'b'])).toBe(2);
  });

  it('returns null when no relevant id was retrieved, and for an empty list', () => {
    expect(firstRelevantRank(['x', 'y'], ['a'])).toBeNull();
    expect(firstRelevantRank([], ['a'])).toBeNull();
  });

  it('keeps list order for ties: equal-score items are never reordered', () => {
    // Two runs that returned the same order must give the same rank.
    const ranked = ['p', 'q', 'r'];
    expect(firstRelevantRank(ranked, ['q'])).toBe(2);
    expect(firstRelevantRank([...ranked], ['q'])).toBe(2);
  });

  it('gives binary relevances for distinct ids', () => {
    expect(binaryRelevances(['a', 'b', 'a', 'c'], ['a', 'c'])).toEqual([1, 0, 1]);
  });

  it('computes recall@k over distinct ids', () => {
    expect(recallAtK(['a', 'a', 'b', 'c'], ['b', 'c', 'd'], 2)).toBeCloseTo(1 / 3, 10);
    expect(recallAtK(['a', 'b', 'c'], ['b', 'c'], 3)).toBe(1);
    expect(recallAtK(['a'], [], 3)).toBe(0);
  });
});

describe('rates and summaries', () => {
  it('shares are 0 for no values, and so are means and percentiles when the evaluation asks for 0', () => {
    expect(share([])).toBe(0);
    expect(mean([], 0)).toBe(0);
    expect(percentile([], 50, 0)).toBe(0);
  });

  it('computes a share of true flags and a mean', () => {
    expect(share([true, false, true, true])).toBe(0.75);
    expect(mean([1, 2, 6])).toBe(3);
  });

  it('takes linearly interpolated percentiles (util/stats)', () => {
    const v = [5, 1, 4, 2, 3];
    expect(percentile(v, 50)).toBe(3);
    // rank 0.95 · 4 = 3.8 → 4 + 0.8 · (5 − 4); was 5 with the old nearest-rank quantile.
    expect(percentile(v, 95)).toBeCloseTo(4.8, 10);
    expect(percentile(v, 0)).toBe(1);
  });
});

describe('text matching', () => {
  it('matches quotes regardless of line breaks and repeated spaces', () => {
    expect(normaliseWhitespace('  a\n\n b\tc ')).toBe('a b c');
    expect(containsNormalised('The quick\nbrown   fox jumps', 'quick brown fox')).toBe(true);
    expect(containsNormalised('The quick brown fox', 'quick red fox')).toBe(false);
  });

  it('never matches an empty quote', () => {
    expect(containsNormalised('anything', '   ')).toBe(false);
  });

  it('matches gold answers ignoring case, accents, typographic apostrophes and thousands separators', () => {
    expect(containsAnswer('He was taken to Charite in Berlin.', 'Charité')).toBe(true);
    expect(containsAnswer('WHO reported 1051635 confirmed cases', '1,051,635')).toBe(true);
    expect(containsAnswer('Kolokoltsev is not on the US Treasury’s list', "not on the US Treasury's list")).toBe(true);
    expect(containsAnswer('The deal is to cost $11.5bn.', '$11.5bn')).toBe(true);
    expect(containsAnswer('completing the race in 2:14:04.', '2:14:04')).toBe(true);
  });

  it('matches whole words only, and keeps decimals and times intact', () => {
    expect(containsAnswer('the withdrawal of the bill', 'withdraw')).toBe(false);
    expect(containsAnswer('they will withdraw the bill', 'withdraw')).toBe(true);
    expect(containsAnswer('a time of 40.2 seconds', '40')).toBe(false);
    expect(containsAnswer('about 171%', '71%')).toBe(false);
  });

  it('finds an amount or a share whatever currency or per cent sign the text puts on it', () => {
    expect(containsAnswer('business between Brazil and Korea in 2004 will be US$3 billion.', '3 billion')).toBe(true);
    expect(containsAnswer('Gusenbauer received 88.93% of the vote', '88.93')).toBe(true);
    expect(containsAnswer('The event raised nearly CDN$11,000 for Pet Patrol', '11,000')).toBe(true);
    expect(containsAnswer('a pledge of US$350 million', '$350 million')).toBe(true);
    expect(containsAnswer('a pledge of US$350 million', '$35 million')).toBe(false);
    expect(containsAnswer('a rise of 46 percent', '46%')).toBe(false);
  });

  it('finds a name the text puts in the possessive', () => {
    expect(containsAnswer("Professor David Livermore of the University of East Anglia's medical school", 'University of East Anglia')).toBe(
      true,
    );
    expect(containsAnswer('Zelensky declined Prime Minister Oleksiy Honcharuk’s offer to resign', 'Oleksiy Honcharuk')).toBe(true);
    expect(containsAnswer("he had Parkinson's disease", "Parkinson's disease")).toBe(true);
    expect(containsAnswer('the Honcharuks left', 'Honcharuk')).toBe(false);
  });

  it('never matches an empty gold answer', () => {
    expect(containsAnswer('anything at all', ' ... ')).toBe(false);
  });
});
