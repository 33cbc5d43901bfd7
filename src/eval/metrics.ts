/**
 * Ranking and matching metrics for the evaluation, as pure functions.
 *
 * Conventions:
 * - A rank is 1-based; `null` means the relevant item was not in the result list at all.
 * - Averages over an empty list are 0, never NaN, so a report stays valid JSON; callers
 *   always report the count next to the average, which tells "0 of 0" from "0 of 50".
 * - Ties: a result list's order is authoritative. Items with equal scores keep the order
 *   the retriever returned them in (it breaks score ties by chunk label, so reruns agree),
 *   and an id listed twice keeps its first position. Equal-relevance items in an ideal
 *   nDCG ordering are interchangeable, so their order cannot change the score.
 */

/** Share of queries whose first relevant item is at rank ≤ k (Hit@k, a.k.a. success@k). */
export function hitAtK(ranks: readonly (number | null)[], k: number): number {
  if (ranks.length === 0) return 0;
  return ranks.filter((r) => r !== null && r <= k).length / ranks.length;
}

/** Mean reciprocal rank with ranks beyond k counted as misses (MRR@k). */
export function mrrAtK(ranks: readonly (number | null)[], k: number): number {
  if (ranks.length === 0) return 0;
  let sum = 0;
  for (const r of ranks) if (r !== null && r <= k) sum += 1 / r;
  return sum / ranks.length;
}

/**
 * nDCG@k for one ranked list with graded relevances (linear gain `rel / log2(rank + 1)`).
 * `ideal` lists the relevances of every relevant item, including ones the list missed;
 * it defaults to the list's own relevances, which overstates the score when items were missed.
 */
export function ndcgAtK(relevances: readonly number[], k: number, ideal: readonly number[] = relevances): number {
  const dcg = (rels: readonly number[]) => rels.slice(0, k).reduce((sum, rel, i) => sum + rel / Math.log2(i + 2), 0);
  const best = dcg([...ideal].sort((a, b) => b - a));
  return best > 0 ? dcg(relevances) / best : 0;
}

/** Share of relevant ids found among the first k distinct ids of `ranked` (recall@k). */
export function recallAtK(ranked: readonly string[], relevant: readonly string[], k: number): number {
  const want = new Set(relevant);
  if (want.size === 0) return 0;
  const top = distinct(ranked).slice(0, k);
  return top.filter((id) => want.has(id)).length / want.size;
}

/** Share of `true` values: the rate of anything counted per question. */
export function share(flags: readonly boolean[]): number {
  return flags.length === 0 ? 0 : flags.filter(Boolean).length / flags.length;
}

/** `ids` without repeats, each at its first position. */
export function distinct(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

/** 1-based rank of the first relevant id among the distinct ids of `ranked`, or null. */
export function firstRelevantRank(ranked: readonly string[], relevant: readonly string[]): number | null {
  const want = new Set(relevant);
  const i = distinct(ranked).findIndex((id) => want.has(id));
  return i < 0 ? null : i + 1;
}

/** Binary relevances (1 relevant, 0 not) of the distinct ids of `ranked`, for nDCG. */
export function binaryRelevances(ranked: readonly string[], relevant: readonly string[]): number[] {
  const want = new Set(relevant);
  return distinct(ranked).map((id) => (want.has(id) ? 1 : 0));
}

/** Collapses every run of whitespace to one space and trims: layout never decides a match. */
export function normaliseWhitespace(text: string): string {
  return text.replace(/\s+/gu, ' ').trim();
}

/** True when `needle` occurs in `haystack` once whitespace is normalised (an empty needle never does). */
export function containsNormalised(haystack: string, needle: string): boolean {
  const n = normaliseWhitespace(needle);
  return n.length > 0 && normaliseWhitespace(haystack).includes(n);
}

/**
 * Loose form for answer matching: case, accents, typographic quotes and dashes, punctuation
 * and thousands separators do not matter ("Charité" = "charite", "1,051,635" = "1051635"), and
 * a currency sign or per cent sign is a word of its own, so "US$3 billion" holds "3 billion" and
 * "88.93%" holds "88.93" (other currency signs were always dropped: "€410" held "410"); a
 * possessive 's is dropped, so "the University of East Anglia's medical school" holds "University of East Anglia".
 */
function normaliseAnswer(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/(\d),(?=\d{3}\b)/g, '$1')
    .replace(/[\u2018\u2019\u02bc]/g, "'")
    .replace(/'s\b/g, '')
    .replace(/[^\p{L}\p{N}'$%.:]+/gu, ' ')
    .replace(/(?<!\d)[.:]|[.:](?!\d)/g, ' ')
    .replace(/[$%]/g, ' $& ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** True when the gold answer appears, whole-word, in the answer text after `normaliseAnswer`. */
export function containsAnswer(answerText: string, gold: string): boolean {
  const g = normaliseAnswer(gold);
  if (!g) return false;
  const text = ` ${normaliseAnswer(answerText)} `;
  return text.includes(` ${g} `);
}
