/**
 * The listwise softmax the extractive ranking's weights are fitted with (scripts/fit-extractive.ts,
 * scripts/sentence-similarity.ts): the loss is −log of the probability that the top sentence is a
 * gold one, with a small L2 penalty.
 */

/** One question's candidate sentences: their signals and which of them hold the gold answer. */
export interface ListwiseExample {
  features: number[][];
  gold: boolean[];
}

export function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * (b[i] ?? 0);
  return s;
}

/** One gradient step on `w` (in place) over `train`; only the weights `free` says yes to move. */
export function descendListwise(
  w: number[],
  train: readonly ListwiseExample[],
  epoch: number,
  l2: number,
  free: (k: number) => boolean = () => true,
): void {
  const grad = w.map((x) => l2 * x);
  for (const e of train) {
    const scores = e.features.map((f) => dot(f, w));
    const max = Math.max(...scores);
    const exp = scores.map((s) => Math.exp(s - max));
    const z = exp.reduce((a, b) => a + b, 0);
    const zGold = exp.reduce((a, b, i) => a + (e.gold[i] ? b : 0), 0);
    // d/dw of −log(Σ_gold p): expected features under all minus under the gold ones.
    e.features.forEach((f, i) => {
      const p = exp[i]! / z - (e.gold[i] ? exp[i]! / zGold : 0);
      for (let k = 0; k < w.length; k++) grad[k]! += (p * f[k]!) / train.length;
    });
  }
  const rate = 2 / (1 + epoch / 100);
  for (let k = 0; k < w.length; k++) if (free(k)) w[k]! -= rate * grad[k]!;
}
