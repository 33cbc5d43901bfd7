/**
 * Citation checking: the model's [n] markers are only trusted when n names a passage
 * that was actually given, and every kept citation carries the passage sentence(s)
 * that best support the answer sentence citing it, so a reader can verify the claim.
 */
import type { Citation, Passage } from '../types.js';
import { contentStems, splitSentences, truncate } from '../util/text.js';

/** Upper bound on a citation quote, in characters. */
export const MAX_QUOTE_CHARS = 300;

// A run of bracket groups such as "[1]", "[1, 2]", "[1][2]", "[1-3]", "[ 2 ]", with the
// horizontal space before it (so a removed marker does not leave "claim ." behind).
const MARKER_RUN = /[ \t]*((?:\[\s*\d{1,4}(?:\s*[,;\-\u2013\u2014]\s*\d{1,4})*\s*\])+)/g;
const GROUP = /\[([^\]]*)\]/g;
// Wide ranges such as "[1-2024]" are not citations, they are text.
const MAX_RANGE = 20;

/** The numbers named by one bracket group's inside ("1, 2-4"), and whether it holds a range wider than MAX_RANGE. */
function parseGroup(inner: string): { numbers: number[]; wide: boolean } {
  const numbers: number[] = [];
  let wide = false;
  for (const part of inner.split(/[,;]/)) {
    const range = part.split(/[-\u2013\u2014]/).map((s) => Number(s.trim()));
    const [lo, hi] = range;
    if (range.length === 2 && lo !== undefined && hi !== undefined && hi >= lo && hi - lo <= MAX_RANGE) {
      for (let n = lo; n <= hi; n++) numbers.push(n);
    } else {
      if (range.length === 2 && lo !== undefined && hi !== undefined && hi - lo > MAX_RANGE) wide = true;
      for (const n of range) if (Number.isInteger(n)) numbers.push(n);
    }
  }
  return { numbers, wide };
}

/** The numbers named by one marker run, in order, ranges expanded, duplicates kept. */
export function parseMarkerNumbers(run: string): number[] {
  const out: number[] = [];
  for (const group of run.matchAll(GROUP)) out.push(...parseGroup(group[1] ?? '').numbers);
  return out;
}

/**
 * Removes every citation-marker run ("[1]", "[1, 2]", "[1][2]", "[1-3]", "[ 2 ]") together
 * with the horizontal space before it. Used where the numbers no longer name anything
 * (old turns, source text); it does not judge whether a bracketed number is a citation.
 */
export function stripCitationMarkers(text: string): string {
  return text.replace(MARKER_RUN, '');
}

/** Result of `normaliseCitationMarkers`. */
export interface NormalisedMarkers {
  /** The text with every marker in `[n]` form, renumbered, invalid ones removed. */
  text: string;
  /** `order[i]` is the original (1-based) passage number now called `i + 1`. */
  order: number[];
}

/**
 * Rewrites citation markers to `[a][b]` form, drops small numbers outside 1..passageCount
 * (hallucinated citations), and renumbers the rest 1..m in order of first appearance.
 * A bracket group that is clearly not a citation is left exactly as written: one holding a
 * range wider than MAX_RANGE ("[1990-2024]", "[1-30]"), or one whose every number is 0 or
 * above passageCount + MAX_RANGE ("a[0]", "[2019]", "[1939-1945]").
 */
export function normaliseCitationMarkers(text: string, passageCount: number): NormalisedMarkers {
  const order: number[] = [];
  const renumber = new Map<number, number>();
  const notCitation = (n: number): boolean => n < 1 || n > passageCount + MAX_RANGE;
  const out = text.replace(MARKER_RUN, (whole: string, run: string) => {
    const lead = whole.slice(0, whole.length - run.length);
    const kept: number[] = [];
    let body = '';
    for (const group of run.matchAll(GROUP)) {
      const { numbers, wide } = parseGroup(group[1] ?? '');
      if (wide || numbers.every(notCitation)) {
        body += group[0];
        continue;
      }
      for (const n of numbers) {
        if (n < 1 || n > passageCount) continue;
        let m = renumber.get(n);
        if (m === undefined) {
          order.push(n);
          m = order.length;
          renumber.set(n, m);
        }
        if (!kept.includes(m)) {
          kept.push(m);
          body += `[${m}]`;
        }
      }
    }
    return body ? lead + body : '';
  });
  // The marker's leading space goes with it, so removal cannot leave "claim ." behind;
  // nothing else is touched (French puts a space before "?" on purpose).
  return { text: out.trim(), order };
}

/**
 * Maps each `[n]` in already-normalised text to the answer sentences that cite it.
 * A marker that opens a sentence belongs to the previous one ("Claim. [1] Next").
 */
export function citingSentences(text: string): Map<number, string[]> {
  const byN = new Map<number, string[]>();
  let previous = '';
  for (const sentence of splitSentences(text)) {
    const bare = stripCitationMarkers(sentence).replace(/\s+/g, ' ').trim();
    let leading = true;
    for (const m of sentence.matchAll(/\[(\d+)\]|([^\s[\]])/g)) {
      if (m[2] !== undefined) {
        leading = false;
        continue;
      }
      const n = Number(m[1]);
      const claim = leading && previous ? previous : bare;
      const list = byN.get(n) ?? [];
      if (claim && !list.includes(claim)) list.push(claim);
      byN.set(n, list);
    }
    if (bare) previous = bare;
  }
  return byN;
}

/** Lexical support of `claim` by `sentence`: shared topical stems, normalised by sentence length. */
function supportScore(claimStems: Set<string>, sentence: string): number {
  const stems = contentStems(sentence);
  if (stems.size === 0) return 0;
  let shared = 0;
  for (const s of stems) if (claimStems.has(s)) shared++;
  return shared / Math.sqrt(stems.size);
}

/**
 * Picks the 1–2 sentences of `passageText` that best support `claims`, in passage order,
 * cut to `maxChars`. Falls back to the passage's opening when nothing overlaps.
 */
export function selectQuote(passageText: string, claims: string[], maxChars = MAX_QUOTE_CHARS): string {
  const sentences = splitSentences(passageText);
  if (sentences.length === 0) return truncate(passageText, maxChars);
  const claimStems = new Set<string>();
  for (const c of claims) for (const s of contentStems(c)) claimStems.add(s);
  const scored = sentences
    .map((sentence, index) => ({ sentence, index, score: supportScore(claimStems, sentence) }))
    .sort((a, b) => b.score - a.score || a.index - b.index);
  const best = scored[0];
  if (!best || best.score === 0) return truncate(sentences[0] ?? passageText, maxChars);
  const picked = [best];
  const second = scored[1];
  if (second && second.score > 0 && best.sentence.length + second.sentence.length + 1 <= maxChars) {
    // Only add a second sentence when it supports something the first does not.
    const firstStems = contentStems(best.sentence);
    const adds = [...contentStems(second.sentence)].some((s) => claimStems.has(s) && !firstStems.has(s));
    if (adds) picked.push(second);
  }
  picked.sort((a, b) => a.index - b.index);
  // Sentences that are not next to each other in the passage are marked as an elision, so a
  // quote never reads as one continuous statement the article did not make.
  const [a, b] = picked;
  const joined = b ? `${a!.sentence}${b.index === a!.index + 1 ? ' ' : ' … '}${b.sentence}` : a!.sentence;
  return truncate(joined, maxChars);
}

/** Result of `checkCitations`. */
export interface CheckedCitations {
  text: string;
  citations: Citation[];
  /** The given passages reordered so that citation n is `passages[n - 1]`; uncited ones follow in their original order. */
  passages: Passage[];
}

/**
 * Validates and renumbers the [n] markers of a generated answer against the passages it
 * was given and attaches, for each cited passage, the quote that supports the claim.
 */
export function checkCitations(answer: string, passages: Passage[]): CheckedCitations {
  const { text, order } = normaliseCitationMarkers(answer, passages.length);
  const claims = citingSentences(text);
  const citations: Citation[] = order.map((original, i) => {
    const p = passages[original - 1] as Passage;
    const n = i + 1;
    return {
      n,
      articleId: p.articleId,
      title: p.title,
      date: p.date,
      url: p.url,
      quote: selectQuote(p.text, claims.get(n) ?? []),
    };
  });
  const cited = order.map((original) => passages[original - 1] as Passage);
  const rest = passages.filter((_, i) => !order.includes(i + 1));
  return { text, citations, passages: [...cited, ...rest] };
}
