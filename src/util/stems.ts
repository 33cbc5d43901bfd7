/**
 * The stems of a text as a set, and the compact form an index stores them in. Retrieval asks
 * "does this article (or chunk) contain the question's terms?" for every candidate of every
 * query; stemming whole articles for that cost most of a query's time, so the index stores each
 * article's and chunk's stems when it is written and queries only look them up.
 */
import { stem } from './text.js';

/**
 * The stems of every word in a long text (a whole article), for "does the text contain this
 * term" checks. A plain letter/digit-run split instead of the word segmenter: on whole articles
 * the segmenter costs milliseconds, and for membership the two agree.
 */
export function stemSet(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text
    .normalize('NFKC')
    .toLowerCase()
    .matchAll(/[\p{L}\p{N}]+(?:['\u2019][\p{L}]+)*/gu)) {
    out.add(stem(m[0].replace(/['\u2019]s$/, '')));
  }
  return out;
}

// Stems never hold a space: they are runs of letters and digits (with inner apostrophes).
const SEPARATOR = ' ';

/** `stemSet(text)` in the form the index stores: the distinct stems joined by spaces. */
export function encodeStems(text: string): string {
  return [...stemSet(text)].join(SEPARATOR);
}

/**
 * How many of `want` (stems) an `encodeStems` string holds. A substring search per wanted stem:
 * a query has a handful, an article hundreds, so building the article's set would cost more.
 */
export function countStoredStems(stored: string, want: readonly string[]): number {
  const padded = SEPARATOR + stored + SEPARATOR;
  let n = 0;
  for (const s of want) if (s.length > 0 && padded.includes(SEPARATOR + s + SEPARATOR)) n++;
  return n;
}
