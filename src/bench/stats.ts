/**
 * The small amount of statistics the benchmark reports: percentiles of latency samples and
 * recall of approximate nearest-neighbour results against exact ones. Means and percentiles
 * come from `util/stats.ts` (linear interpolation between closest ranks).
 */
import { percentile } from '../util/stats.js';

/** Latency distribution of one measured step, in milliseconds (null when nothing was measured). */
export interface Summary {
  n: number;
  mean: number | null;
  min: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/** Count, mean, min, p50, p95, p99 and max of `values`. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { n: 0, mean: null, min: null, p50: null, p95: null, p99: null, max: null };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return {
    n: values.length,
    mean: sum / values.length,
    min,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max,
  };
}

/** A search result as the index returns it: a chunk label and its similarity (higher is better). */
export interface ScoredLabel {
  label: number;
  score: number;
}

/**
 * Recall@k of `approx` against `exact` (both best first): the share of the true top k that the
 * approximate search found. A returned point whose score ties the k-th exact score counts as a
 * hit even when the exact search happened to break the tie the other way, because both are
 * equally correct answers. When the index holds fewer than k points the denominator shrinks.
 */
export function recallAtK(approx: readonly ScoredLabel[], exact: readonly ScoredLabel[], k: number, epsilon = 1e-6): number {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  const truth = exact.slice(0, k);
  if (truth.length === 0) return 1;
  const kth = truth[truth.length - 1]!.score;
  const labels = new Set(truth.map((h) => h.label));
  const seen = new Set<number>();
  let hits = 0;
  for (const h of approx.slice(0, k)) {
    if (seen.has(h.label)) continue;
    seen.add(h.label);
    if (labels.has(h.label) || h.score >= kth - epsilon) hits++;
  }
  return Math.min(1, hits / truth.length);
}
