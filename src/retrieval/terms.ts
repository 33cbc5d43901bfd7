/**
 * Query terms for the lexical half and for evidence-coverage checks. Words come from
 * Intl.Segmenter (so any script works); English function words are dropped.
 */

// Function words and question words: they carry no topic, and matching them would let any
// article "cover" any question.
const STOP = new Set(
  `a about above after again against all also am an and any are aren't as at be because been before being below between both but by
can can't cannot could couldn't did didn't do does doesn't doing don't down during each few for from further had hadn't has hasn't
have haven't having he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't
it it's its itself let's me more most mustn't my myself no nor not of off on once only or other ought our ours ourselves out over own
same shan't she she'd she'll she's should shouldn't so some such than that that's the their theirs them themselves then there there's
these they they'd they'll they're they've this those through to too under until up very was wasn't we we'd we'll we're we've were
weren't what what's when when's where where's which while who who's whom why why's with won't would wouldn't you you'd you'll you're
you've your yours yourself yourselves tell know said say says please does did anything something thing things any many much
just like get got also ask asked`
    .split(/\s+/)
    .filter(Boolean),
);

const words = new Intl.Segmenter('en', { granularity: 'word' });

/** All word-like tokens of `text`, lower-cased, in order. */
export function wordsOf(text: string): string[] {
  const out: string[] = [];
  for (const s of words.segment(text.normalize('NFKC'))) {
    if (s.isWordLike) out.push(s.segment.toLowerCase().replace(/[’']s$/, ''));
  }
  return out;
}

/** Distinct content words of a query (stop words and one-letter tokens removed). */
export function contentTerms(text: string): string[] {
  const seen = new Set<string>();
  for (const w of wordsOf(text)) {
    if (w.length < 2 && !/\d/.test(w)) continue;
    if (STOP.has(w)) continue;
    seen.add(w);
  }
  return [...seen];
}

/** True when `w` is a stop word. */
export function isStopWord(w: string): boolean {
  return STOP.has(w.toLowerCase());
}

/** An FTS5 MATCH expression that ORs the quoted terms (quoting makes any user text safe for FTS5 syntax). */
export function ftsQuery(terms: string[]): string {
  return terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(' OR ');
}

/** Crude stem for coverage checks: enough to match "meeting"/"meetings"/"meet". */
export function stem(w: string): string {
  const s = w.toLowerCase();
  if (s.length <= 4) return s;
  return s.replace(/(ing|ed|es|s|ly)$/, '').slice(0, 7);
}
