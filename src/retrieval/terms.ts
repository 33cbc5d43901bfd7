/**
 * Query terms for the lexical half and for evidence-coverage checks, built on the shared
 * word, stop-word and stem helpers so retrieval and answering agree on what a "term" is.
 */
import { stemSet } from '../util/stems.js';
import { isStopWord, splitWords, stem } from '../util/text.js';

export { stem, stemSet };

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

// Words that ask rather than name a topic ("how many people died?"), and time words, which
// retrieval reads as dates: neither says what a question is about.
const ASKING_WORDS = new Set(
  (
    'many much people person happened happen happening name named called yet still ever finally eventually actually ' +
    'really anyone anybody someone something anything thing things going go went end ended kind sort way make made take took exactly'
  ).split(' '),
);
const TIME_WORDS = new Set('week weekend month year today yesterday tonight recently lately latest newest days ago morning'.split(' '));

/** True for a word that names no topic of its own: an asking word ("many", "happened") or a time word ("week"). */
export function isAskingWord(word: string): boolean {
  const w = word.toLowerCase();
  return ASKING_WORDS.has(w) || TIME_WORDS.has(w);
}

/** The terms that say what a question is about: content terms minus asking and time words. */
export function topicTerms(terms: readonly string[]): string[] {
  return terms.filter((t) => !isAskingWord(t));
}

/** An FTS5 MATCH expression that ORs the quoted terms (quoting makes any user text safe for FTS5 syntax). */
export function ftsQuery(terms: string[]): string {
  return terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(' OR ');
}
