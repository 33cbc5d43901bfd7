/**
 * Query terms for the lexical half and for evidence-coverage checks, built on the shared
 * word, stop-word and stem helpers so retrieval and answering agree on what a "term" is.
 */
import { isStopWord, splitWords, stem } from '../util/text.js';

export { stem };

/** All word-like tokens of `text`, lower-cased, possessive 's removed, in order. */
export function wordsOf(text: string): string[] {
  return splitWords(text.normalize('NFKC')).map((w) => w.toLowerCase().replace(/[\u2019']s$/, ''));
}

/** Distinct content words of a query (stop words and one-letter tokens removed). */
export function contentTerms(text: string): string[] {
  const seen = new Set<string>();
  for (const w of wordsOf(text)) {
    if (w.length < 2 && !/\d/.test(w)) continue;
    if (isStopWord(w)) continue;
    seen.add(w);
  }
  return [...seen];
}

/** An FTS5 MATCH expression that ORs the quoted terms (quoting makes any user text safe for FTS5 syntax). */
export function ftsQuery(terms: string[]): string {
  return terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(' OR ');
}
