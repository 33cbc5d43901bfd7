/**
 * Small text helpers shared by quote selection, extractive answers, condensing, title guessing
 * and chunking: sentence and word segmentation (Intl.Segmenter, so non-Latin scripts are
 * handled by ICU rather than by hand-written rules, plus one fix-up for title abbreviations)
 * and the stemmer (Porter for English words).
 */
import { stemmer as porterStem } from 'stemmer';

const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' });
const wordSegmenter = new Intl.Segmenter('en', { granularity: 'word' });

// Node's ICU build ignores the "ss=standard" suppressions, so Intl.Segmenter ends a sentence
// after "Mr." or "Dr."; these title abbreviations (almost always followed by a name) are re-joined.
const TITLE_ABBREVIATIONS = new Set('mr mrs ms dr prof gen lt col maj capt sgt sen rep gov pres rev hon adm cmdr'.split(' '));

/**
 * Sentence spans of `text`: offsets [start, end) with surrounding whitespace excluded and
 * empty sentences skipped. Intl.Segmenter boundaries, except that a break right after a title
 * abbreviation ("Mr.", "Dr.") is dropped so the title stays with the name that follows it.
 * This is the one sentence rule: splitSentences, title guessing and chunking all use it.
 */
export function sentenceSpans(text: string): { start: number; end: number }[] {
  if (text.length <= SEGMENT_WINDOW) return sentenceSpansOf(text);
  // Intl.Segmenter's sentence mode is superlinear on long runs of text (0.6 s for 400 KB,
  // minutes for a large PDF without paragraph breaks), so long text is segmented in windows
  // cut after a sentence end.
  const out: { start: number; end: number }[] = [];
  let offset = 0;
  while (offset < text.length) {
    const end = offset + SEGMENT_WINDOW >= text.length ? text.length : windowCut(text, offset, offset + SEGMENT_WINDOW);
    for (const s of sentenceSpansOf(text.slice(offset, end))) out.push({ start: s.start + offset, end: s.end + offset });
    offset = end;
  }
  return out;
}

const SEGMENT_WINDOW = 20_000;

/** Where to end a window: after the last sentence end (not a title abbreviation), else the last space. */
function windowCut(text: string, from: number, to: number): number {
  let space = -1;
  for (let i = to - 1; i > from + SEGMENT_WINDOW / 2; i--) {
    if (!isWhitespace(text.charCodeAt(i))) continue;
    if (space < 0) space = i + 1;
    const before = text.charAt(i - 1);
    if ((before === '.' || before === '!' || before === '?') && !endsWithTitleAbbreviation(text.slice(Math.max(from, i - 12), i)))
      return i + 1;
  }
  return space > 0 ? space : to;
}

function sentenceSpansOf(text: string): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  // Start of a sentence held open because it ended in a title abbreviation, and its end so far.
  let carryStart = -1;
  let carryEnd = -1;
  let carryInitial = false;
  for (const { segment, index } of sentenceSegmenter.segment(text)) {
    let start = index;
    let end = index + segment.length;
    while (start < end && isWhitespace(text.charCodeAt(start))) start++;
    while (end > start && isWhitespace(text.charCodeAt(end - 1))) end--;
    if (start === end) continue;
    // A middle initial ("John R.") ends a sentence when what follows opens like one ("He", "The").
    if (carryStart >= 0 && carryInitial && opensWithStopWord(text.slice(start, end))) {
      out.push({ start: carryStart, end: carryEnd });
      carryStart = -1;
    }
    // Only this segment is looked at: the abbreviation or initial, if any, is its last word.
    const segmentText = text.slice(start, end);
    const initial = endsWithMiddleInitial(segmentText);
    const held = initial || endsWithTitleAbbreviation(segmentText);
    carryInitial = initial;
    if (carryStart >= 0) start = carryStart;
    if (held) {
      carryStart = start;
      carryEnd = end;
      continue;
    }
    out.push({ start, end });
    carryStart = -1;
  }
  if (carryStart >= 0) out.push({ start: carryStart, end: carryEnd });
  return out;
}

/** Splits text into trimmed, non-empty sentences (the spans of sentenceSpans). */
export function splitSentences(text: string): string[] {
  return sentenceSpans(text).map(({ start, end }) => text.slice(start, end));
}

// The whitespace String.prototype.trim removes (/\s/ is defined as the same set).
const WHITESPACE = /\s/;
const isWhitespace = (code: number): boolean => WHITESPACE.test(String.fromCharCode(code));

/** True when trimmed `sentence` ends with a title abbreviation and its period ("… met Mr."). */
function endsWithTitleAbbreviation(sentence: string): boolean {
  if (!sentence.endsWith('.')) return false;
  // Word segments never span whitespace, so the last word lies in the last whitespace-free run;
  // looking only there keeps the cost independent of the sentence's length.
  let from = sentence.length - 1;
  while (from > 0 && !isWhitespace(sentence.charCodeAt(from - 1))) from--;
  const tail = sentence.slice(from);
  const words = splitWords(tail);
  const last = words[words.length - 1];
  return last !== undefined && TITLE_ABBREVIATIONS.has(last.toLowerCase()) && tail.endsWith(last + '.');
}

/**
 * True when trimmed `sentence` ends with a middle initial after a capitalised name ("national
 * security advisor John R.", "George W."): the name goes on in the next segment ("Bolton's").
 */
function endsWithMiddleInitial(sentence: string): boolean {
  return /(^|\s)\p{Lu}[\p{L}'\u2019-]*\s\p{Lu}\.$/u.test(sentence.slice(-40));
}

/** True when the segment's first word is a function word ("He", "The"): a new sentence, not a surname. */
function opensWithStopWord(segment: string): boolean {
  const first = splitWords(segment.slice(0, 40))[0];
  return first !== undefined && STOP_WORDS.has(first.toLowerCase());
}

/** Splits text into word-like tokens (any script), keeping their original case. */
export function splitWords(text: string): string[] {
  const out: string[] = [];
  for (const seg of wordSegmenter.segment(text)) if (seg.isWordLike) out.push(seg.segment);
  return out;
}

// Function words that carry no topic; matching on them would make every sentence look relevant.
const STOP_WORDS = new Set(
  (
    'a about above after again against all also am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing done down during each else ever few for from further had has have having he her here hers herself ' +
    'him himself his how i if in into is it its itself just let me more most my myself no nor not now of off on once only or other ' +
    'our ours ourselves out over own same she should so some such than that the their theirs them themselves then there these they ' +
    'this those through to too under until up very was we were what when where which while who whom whose why will with would you ' +
    'your yours yourself yourselves tell said says say according did does get got one two may might must shall us like know ' +
    'please thanks thank hi hello okay ok yes yeah there\u2019s what\u2019s it\u2019s that\u2019s ' +
    // A few Russian function words: Telegram audiences often ask in Russian.
    'и в во не что он она оно они на я с со как а то все так его но да ты к у же вы за бы по ее её мне было вот от меня еще ещё нет о из ему ' +
    'когда даже ну ли если уже или ни быть был него до вас нибудь опять уж вам ведь там потом себя ничего ей может тут где есть надо ней для ' +
    'мы тебя их чем была сам чтоб без будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом ' +
    'почему это эта эти об'
  ).split(/\s+/),
);

/** True for words that carry no topic (case-insensitive). */
export function isStopWord(word: string): boolean {
  return STOP_WORDS.has(word.toLowerCase());
}

// Stems already computed: whole articles are stemmed on every query (coverage), and news words repeat.
const stems = new Map<string, string>();
const MAX_CACHED_STEMS = 50_000;

/**
 * Reduces a word to its stem so "asked"/"ask", "died"/"dies" and "knifed"/"knife" match: the
 * Porter algorithm (the `stemmer` package) for plain English words, the same rules FTS5's porter
 * tokenizer searched with, so "does the article hold this term" agrees with what search matched.
 * Other words (accents, other scripts, digits) keep a light plural and -ed/-ing rule.
 */
export function stem(word: string): string {
  const w = word.toLowerCase().replace(/[\u2019']s$/, '');
  let s = stems.get(w);
  if (s === undefined) {
    if (stems.size >= MAX_CACHED_STEMS) stems.clear();
    s = /^[a-z]+$/.test(w) ? porterStem(w) : lightStem(w);
    stems.set(w, s);
  }
  return s;
}

function lightStem(word: string): string {
  let w = word;
  if (w.length > 4 && w.endsWith('ies')) return w.slice(0, -3) + 'y';
  // Plurals first, so "meetings" and "meeting" end up the same after the -ing rule.
  if (w.length > 4 && (w.endsWith('ches') || w.endsWith('shes') || w.endsWith('sses') || w.endsWith('xes'))) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) w = w.slice(0, -1);
  if (w.length > 5 && w.endsWith('ing')) return w.slice(0, -3);
  if (w.length > 4 && w.endsWith('ied')) return w.slice(0, -3) + 'y';
  if (w.length > 4 && w.endsWith('ed')) return w.slice(0, -2);
  return w;
}

/** The distinct topical stems of a text (stop words and 1-letter tokens dropped). */
export function contentStems(text: string): Set<string> {
  const out = new Set<string>();
  for (const w of splitWords(text)) {
    if (w.length < 2 && !/\d/.test(w)) continue;
    if (isStopWord(w)) continue;
    out.add(stem(w));
  }
  return out;
}

/** Cuts text to at most `max` characters at a word boundary, adding an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  const t = text.trim();
  if (t.length <= max) return t;
  const cut = t.slice(0, Math.max(1, max - 1));
  const space = cut.lastIndexOf(' ');
  const head = space > max * 0.6 ? cut.slice(0, space) : cut;
  return head.trimEnd() + '\u2026';
}

/** `s` with every regular-expression metacharacter escaped, for building a RegExp from literal text. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The name in `known` that `name` is a likely misspelling of (case aside: at most two edits, fewer
 * for short names, or the same letters in another order), or null.
 */
export function likelyMeant(name: string, known: readonly string[]): string | null {
  const lower = name.toLowerCase();
  const sorted = (s: string) => [...s].sort().join('');
  for (const k of known) {
    if (lower === k || sorted(lower) === sorted(k) || editDistance(lower, k) <= Math.min(2, k.length - 2)) return k;
  }
  return null;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
