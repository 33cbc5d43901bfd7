/**
 * Embedding batches of similar length. A transformer pads every input of a batch to the batch's
 * longest, so chunks taken in reading order (a 40-token last chunk next to full 256-token ones)
 * spend a fifth of the model's work on padding. Sorting by length inside a window of batches makes
 * each batch pad only to its own longest; the window keeps the order roughly that of the input, so
 * progress still moves through the articles.
 */

/**
 * Texts per run of a local (transformers.js) model: it runs each batch in pieces of this many. On
 * the bge-small-shaped stand-in (int8 and fp32, onnxruntime-node 1.14, this 2-core machine) a run
 * of 4 cost about 13 % less CPU per chunk than a run of 16 and 25 % less than 32
 * (docs/performance.md); batches arrive sorted by length, so each piece pads only to its own longest.
 */
export const MODEL_RUN_SIZE = 4;

/** Batches of batches per sorted window. */
const WINDOW_BATCHES = 32;

/**
 * Indices into `lengths`, grouped into batches of at most `batchSize`, each window of
 * `batchSize × 32` items sorted longest first (ties in input order). Every index appears once.
 */
export function lengthSortedBatches(lengths: readonly number[], batchSize: number): number[][] {
  const size = Math.max(1, Math.floor(batchSize));
  const window = size * WINDOW_BATCHES;
  const batches: number[][] = [];
  for (let from = 0; from < lengths.length; from += window) {
    const order = Array.from({ length: Math.min(window, lengths.length - from) }, (_, i) => from + i);
    order.sort((a, b) => lengths[b]! - lengths[a]! || a - b);
    for (let i = 0; i < order.length; i += size) batches.push(order.slice(i, i + size));
  }
  return batches;
}

/**
 * Token positions a padded batch computes: its size times its longest input. Summed over batches
 * and set against the real tokens, it says how much of the model's work was padding.
 */
export function paddedTokens(lengths: readonly number[], batches: readonly (readonly number[])[]): number {
  return batches.reduce((n, b) => n + b.length * Math.max(0, ...b.map((i) => lengths[i]!)), 0);
}
