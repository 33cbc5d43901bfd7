/**
 * Groups questions into topics of similar questions, for /gaps and `npm run gaps`.
 *
 * Lexical similarity on stems (src/util/text): each question becomes its content stems. Readers
 * misspell, so a word whose stem no other question uses, within one edit (two for long words) of
 * a word whose stem others use ("electon", "stike"), takes that word's stem. Two questions'
 * similarity is the share of stems they have in common (Dice). Weighting stems by rarity was
 * tried and grouped worse on the eval (rare typos and names got the most weight). When the embedding model is loaded its cosine similarity is a second
 * opinion: a pair counts as similar as the higher of the two says. Topics are then built by
 * average-link agglomerative clustering: the two most similar groups merge until no two groups are
 * similar on average by at least the threshold.
 *
 * `npm run eval:gaps` (scripts/gaps-eval.ts) measures purity and recall on eval/gaps/questions.jsonl
 * against the baseline below (questions sharing any stem end up together).
 */
import { contentStems, isStopWord, splitWords, stem } from '../util/text.js';

/** How grouping decides. */
export interface GroupingOptions {
  /** Least average similarity of two groups that merge (0–1). */
  threshold: number;
  /** One L2-normalised vector per question (the embedding model's), when it is loaded. */
  vectors?: readonly Float32Array[];
  /** Cosine at or below which the model sees no likeness; above it, rescaled to 0–1. */
  denseFloor: number;
  /** The plain variant the eval compares with: exact stems, typos not corrected. */
  plain?: boolean;
}

/**
 * Defaults: the threshold chosen on the even-numbered half of eval/gaps (see docs/editors-desk.md).
 * The dense floor is high on purpose: BGE-family models (the default EMBEDDING_MODEL) give even
 * unrelated sentences cosines around 0.6-0.75, so only clearly close pairs may add a link. Not
 * measured (no real model offline here).
 */
export const DEFAULT_GROUPING: GroupingOptions = { threshold: 0.15, denseFloor: 0.8 };

/** Groups of question indexes, biggest first (ties: earliest question first). */
export function groupQuestions(texts: readonly string[], options: Partial<GroupingOptions> = {}): number[][] {
  const o = { ...DEFAULT_GROUPING, ...options };
  const n = texts.length;
  if (n === 0) return [];
  const sim = similarityMatrix(texts, o);
  return averageLink(n, sim, o.threshold);
}

/** The baseline grouping: questions sharing any exact stem are linked, and linked questions form one group. */
export function baselineGroups(texts: readonly string[]): number[][] {
  const parent = texts.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i]!;
    return i;
  };
  const firstWith = new Map<string, number>();
  for (const [i, t] of texts.entries()) {
    for (const s of contentStems(t)) {
      const j = firstWith.get(s);
      if (j === undefined) firstWith.set(s, i);
      else parent[find(i)] = find(j);
    }
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < texts.length; i++) groups.set(find(i), [...(groups.get(find(i)) ?? []), i]);
  return sortGroups([...groups.values()]);
}

/** Pairwise similarity (a flat n×n array). */
function similarityMatrix(texts: readonly string[], o: GroupingOptions): Float32Array {
  const n = texts.length;
  const bags = o.plain ? texts.map(contentStems) : stemBags(texts);
  const totals = bags.map((bag) => bag.size);
  const sim = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let shared = 0;
      const [small, big] = bags[i]!.size <= bags[j]!.size ? [bags[i]!, bags[j]!] : [bags[j]!, bags[i]!];
      for (const s of small) if (big.has(s)) shared++;
      const denom = totals[i]! + totals[j]!;
      let v = denom > 0 ? (2 * shared) / denom : 0;
      if (o.vectors) v = Math.max(v, (dot(o.vectors[i]!, o.vectors[j]!) - o.denseFloor) / (1 - o.denseFloor));
      sim[i * n + j] = sim[j * n + i] = v;
    }
  }
  return sim;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Each question's content stems, misspellings mapped to the stem of the more common word they are close to. */
function stemBags(texts: readonly string[]): Set<string>[] {
  const wordsOf = texts.map((t) => splitWords(t.toLowerCase()).filter((w) => (w.length >= 2 || /\d/.test(w)) && !isStopWord(w)));
  const count = new Map<string, number>();
  for (const words of wordsOf) for (const w of new Set(words)) count.set(w, (count.get(w) ?? 0) + 1);
  const stemCount = new Map<string, number>();
  for (const [w, c] of count) stemCount.set(stem(w), (stemCount.get(stem(w)) ?? 0) + c);
  // Only words whose stem is rare are suspected typos; the vocabulary to correct to is the common ones.
  const common = [...count.keys()].filter((w) => (stemCount.get(stem(w)) ?? 0) >= 2 && w.length >= 4);
  const corrected = new Map<string, string>();
  const canonical = (w: string): string => {
    const s = stem(w);
    if ((stemCount.get(s) ?? 0) >= 2 || w.length < 4) return s;
    let fixed = corrected.get(w);
    if (fixed === undefined) {
      fixed = s;
      let best = Infinity;
      const allowed = w.length >= 8 ? 2 : 1;
      for (const c of common) {
        if (Math.abs(c.length - w.length) > allowed) continue;
        const d = editDistance(w, c, allowed);
        if (d <= allowed && (d < best || (d === best && (stemCount.get(stem(c)) ?? 0) > (stemCount.get(fixed) ?? 0)))) {
          best = d;
          fixed = stem(c);
        }
      }
      corrected.set(w, fixed);
    }
    return fixed;
  };
  return wordsOf.map((words) => new Set(words.map(canonical)));
}

/** Optimal-string-alignment distance (a swap of two letters is one edit), or max + 1 once it exceeds `max`. */
export function editDistance(a: string, b: string, max: number): number {
  const m = a.length;
  const n = b.length;
  if (Math.abs(m - n) > max) return max + 1;
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = new Array<number>(n + 1);
    cur[0] = i;
    let rowMin = cur[0];
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > max) return max + 1;
    prev2 = prev;
    prev = cur;
  }
  return prev[n]!;
}

/**
 * Average-link clustering over `sim`: merges the most similar pair of groups while it is similar
 * by at least `threshold`. Group similarity is kept as sums (Lance–Williams), so a merge costs O(n).
 */
function averageLink(n: number, sim: Float32Array, threshold: number): number[][] {
  const members: (number[] | null)[] = Array.from({ length: n }, (_, i) => [i]);
  // sum[i*n+j]: the sum of pairwise similarities between groups i and j.
  const sum = Float64Array.from(sim);
  const avg = (i: number, j: number) => sum[i * n + j]! / (members[i]!.length * members[j]!.length);
  const best = new Int32Array(n).fill(-1);
  const bestOf = (i: number) => {
    let b = -1;
    let bv = -Infinity;
    for (let j = 0; j < n; j++) {
      if (j === i || !members[j]) continue;
      const v = avg(i, j);
      if (v > bv) {
        bv = v;
        b = j;
      }
    }
    best[i] = b;
  };
  for (let i = 0; i < n; i++) bestOf(i);
  for (;;) {
    let a = -1;
    let av = -Infinity;
    for (let i = 0; i < n; i++) {
      if (!members[i] || best[i]! < 0) continue;
      const v = avg(i, best[i]!);
      if (v > av) {
        av = v;
        a = i;
      }
    }
    if (a < 0 || av < threshold) break;
    const b = best[a]!;
    for (let k = 0; k < n; k++) {
      if (!members[k] || k === a || k === b) continue;
      const v = sum[a * n + k]! + sum[b * n + k]!;
      sum[a * n + k] = sum[k * n + a] = v;
    }
    members[a] = [...members[a]!, ...members[b]!];
    members[b] = null;
    for (let k = 0; k < n; k++) if (members[k] && (k === a || best[k] === a || best[k] === b)) bestOf(k);
  }
  return sortGroups(members.filter((m): m is number[] => m !== null));
}

function sortGroups(groups: number[][]): number[][] {
  for (const g of groups) g.sort((x, y) => x - y);
  return groups.sort((x, y) => y.length - x.length || x[0]! - y[0]!);
}
