/**
 * Gradient-boosted regression trees on the listwise softmax loss fit-extractive.ts fits weights
 * by: each tree fits the loss's gradient over every candidate sentence (second-order leaf
 * values), so the ranker can learn interactions of signals a weighted sum cannot. Written to
 * compare learners (`--trees`), not shipped: on the readers' set it ranks worse out of fold than
 * the weighted sum (docs/evaluation-answers.md).
 */
interface Ranked {
  features: number[][];
  gold: boolean[];
}
type Tree = number | { feature: number; at: number; low: Tree; high: Tree };

const MIN_LEAF = 20;
const RATE = 0.1;

export function fitBoostedTrees(examples: readonly Ranked[], options: { trees: number; depth: number }): (f: number[]) => number {
  const rows = examples.flatMap((e, q) => e.features.map((x, i) => ({ x, q, gold: e.gold[i]! })));
  const byQuestion = examples.map(() => [] as number[]);
  for (const [i, r] of rows.entries()) byQuestion[r.q]!.push(i);
  const score = rows.map(() => 0);
  const trees: Tree[] = [];
  for (let t = 0; t < options.trees; t++) {
    const g = rows.map(() => 0);
    const h = rows.map(() => 0);
    for (const at of byQuestion) {
      const max = Math.max(...at.map((i) => score[i]!));
      const exp = at.map((i) => Math.exp(score[i]! - max));
      const z = exp.reduce((a, b) => a + b, 0);
      const zGold = at.reduce((a, i, k) => a + (rows[i]!.gold ? exp[k]! : 0), 0);
      at.forEach((i, k) => {
        const p = exp[k]! / z;
        g[i] = (rows[i]!.gold ? exp[k]! / zGold : 0) - p;
        h[i] = Math.max(1e-3, p * (1 - p));
      });
    }
    const tree = grow(
      rows.map((_, i) => i),
      rows.map((r) => r.x),
      g,
      h,
      options.depth,
    );
    trees.push(tree);
    rows.forEach((r, i) => {
      score[i]! += RATE * evaluate(tree, r.x);
    });
  }
  return (x) => trees.reduce<number>((s, tree) => s + RATE * evaluate(tree, x), 0);
}

function evaluate(tree: Tree, x: number[]): number {
  return typeof tree === 'number' ? tree : evaluate(x[tree.feature]! <= tree.at ? tree.low : tree.high, x);
}

/** One regression tree on gradients g and curvatures h: the split with the best gain at each node. */
function grow(rows: number[], x: number[][], g: number[], h: number[], depth: number): Tree {
  const sum = (a: number[]) => rows.reduce((s, i) => s + a[i]!, 0);
  const G = sum(g);
  const H = sum(h);
  if (depth === 0 || rows.length < 2 * MIN_LEAF) return G / (H + 1);
  let best = { gain: 1e-6, feature: -1, at: 0 };
  for (let f = 0; f < x[0]!.length; f++) {
    const sorted = [...rows].sort((a, b) => x[a]![f]! - x[b]![f]!);
    let gl = 0;
    let hl = 0;
    for (let k = 0; k < sorted.length - 1; k++) {
      const i = sorted[k]!;
      gl += g[i]!;
      hl += h[i]!;
      const v = x[i]![f]!;
      const next = x[sorted[k + 1]!]![f]!;
      if (v === next || k + 1 < MIN_LEAF || sorted.length - k - 1 < MIN_LEAF) continue;
      const gain = (gl * gl) / (hl + 1) + (G - gl) ** 2 / (H - hl + 1) - (G * G) / (H + 1);
      if (gain > best.gain) best = { gain, feature: f, at: (v + next) / 2 };
    }
  }
  if (best.feature < 0) return G / (H + 1);
  const { feature, at } = best;
  return {
    feature,
    at,
    low: grow(
      rows.filter((i) => x[i]![feature]! <= at),
      x,
      g,
      h,
      depth - 1,
    ),
    high: grow(
      rows.filter((i) => x[i]![feature]! > at),
      x,
      g,
      h,
      depth - 1,
    ),
  };
}
