import { describe, expect, it } from 'vitest';
import { recallAtK, summarize } from '../../src/bench/stats.js';
import { mean, percentile } from '../../src/util/stats.js';

describe('percentile', () => {
  it('interpolates between the closest ranks', () => {
    // rank = p/100 · (n − 1) over [1, 2, 3, 4]: p50 → rank 1.5 → 2.5; p95 → rank 2.85 → 3.85.
    expect(percentile([4, 1, 3, 2], 50)).toBeCloseTo(2.5, 10);
    expect(percentile([4, 1, 3, 2], 95)).toBeCloseTo(3.85, 10);
    expect(percentile([4, 1, 3, 2], 0)).toBe(1);
    expect(percentile([4, 1, 3, 2], 100)).toBe(4);
  });

  it('hits exact samples when the rank is whole', () => {
    // 11 values 0..100: rank for p90 = 9 exactly.
    const values = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    expect(percentile(values, 90)).toBe(90);
    expect(percentile(values, 50)).toBe(50);
  });

  it('handles one value, ties and unsorted input without changing it', () => {
    expect(percentile([7], 99)).toBe(7);
    const input = [5, 5, 5, 1];
    expect(percentile(input, 50)).toBe(5); // sorted [1,5,5,5], rank 1.5 → 5
    expect(input).toEqual([5, 5, 5, 1]);
  });

  it('is NaN for no values and rejects p outside 0–100', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('reports count, mean, extremes and percentiles', () => {
    // 1..100: p50 rank 49.5 → 50.5; p95 rank 94.05 → 95.05; p99 rank 98.01 → 99.01.
    const s = summarize(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(s.n).toBe(100);
    expect(s.mean).toBeCloseTo(50.5, 10);
    expect(s.min).toBe(1);
    expect(s.max).toBe(100);
    expect(s.p50).toBeCloseTo(50.5, 10);
    expect(s.p95).toBeCloseTo(95.05, 10);
    expect(s.p99).toBeCloseTo(99.01, 10);
  });

  it('has nulls, not NaN, when nothing was measured (so the JSON stays valid)', () => {
    expect(summarize([])).toEqual({ n: 0, mean: null, min: null, p50: null, p95: null, p99: null, max: null });
  });
});

describe('recallAtK', () => {
  const exact = [
    { label: 1, score: 0.9 },
    { label: 2, score: 0.8 },
    { label: 3, score: 0.7 },
    { label: 4, score: 0.6 },
  ];

  it('is the share of the true top k that was found', () => {
    expect(recallAtK(exact, exact, 4)).toBe(1);
    // Found 1, 2 and 4 of the true top 4 {1, 2, 3, 4}; label 9 (0.5 < the 4th score 0.6) is a miss.
    expect(
      recallAtK(
        [
          { label: 1, score: 0.9 },
          { label: 2, score: 0.8 },
          { label: 9, score: 0.5 },
          { label: 4, score: 0.6 },
        ],
        exact,
        4,
      ),
    ).toBe(0.75);
    expect(recallAtK([{ label: 9, score: 0.1 }], exact, 2)).toBe(0);
  });

  it('only looks at the first k of each list', () => {
    // True top 2 is {1, 2}; the approximate top 2 is {1, 3}.
    expect(
      recallAtK(
        [
          { label: 1, score: 0.9 },
          { label: 3, score: 0.7 },
          { label: 2, score: 0.8 },
        ],
        exact,
        2,
      ),
    ).toBe(0.5);
  });

  it('counts a point tied with the k-th true neighbour as found', () => {
    const tied = [
      { label: 1, score: 0.9 },
      { label: 2, score: 0.5 },
      { label: 3, score: 0.5 },
    ];
    // Exact search kept label 2 at the boundary; the index returned label 3 with the same score.
    expect(
      recallAtK(
        [
          { label: 1, score: 0.9 },
          { label: 3, score: 0.5 },
        ],
        tied,
        2,
      ),
    ).toBe(1);
    // A slightly worse point is not a tie.
    expect(
      recallAtK(
        [
          { label: 1, score: 0.9 },
          { label: 7, score: 0.49 },
        ],
        tied,
        2,
      ),
    ).toBe(0.5);
  });

  it('does not count a label twice, and shrinks the denominator for tiny indexes', () => {
    expect(
      recallAtK(
        [
          { label: 1, score: 0.9 },
          { label: 1, score: 0.9 },
        ],
        exact.slice(0, 2),
        2,
      ),
    ).toBe(0.5);
    // Only 2 points exist: finding both is full recall at k = 10.
    expect(recallAtK(exact.slice(0, 2), exact.slice(0, 2), 10)).toBe(1);
    expect(recallAtK([], [], 10)).toBe(1);
    expect(() => recallAtK([], [], 0)).toThrow(RangeError);
  });
});

describe('mean', () => {
  it('averages, NaN for nothing', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(mean([])).toBeNaN();
  });
});
