/** Means and percentiles shared by the evaluation and the benchmark. */

/** Arithmetic mean of `values`; `empty` (NaN unless given) for no values. */
export function mean(values: readonly number[], empty = Number.NaN): number {
  if (values.length === 0) return empty;
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/**
 * The p-th percentile (0–100) of `values` by linear interpolation between the closest ranks:
 * on the ascending sort, rank = p/100 · (n − 1), and a fractional rank interpolates between the
 * two neighbouring values (numpy's default `linear` method and spreadsheets' PERCENTILE.INC).
 * So p0 is the minimum, p100 the maximum, and p95 of [1, 2, 3, 4] is 3.85.
 * `empty` (NaN unless given) for no values; a RangeError when p is outside 0–100.
 */
export function percentile(values: readonly number[], p: number, empty = Number.NaN): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be between 0 and 100, got ${p}`);
  if (values.length === 0) return empty;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (rank - lo);
}
