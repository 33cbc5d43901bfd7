/**
 * Answers that need no model: quoting the most relevant passage sentences (when no LLM
 * is configured or it failed) and the "not covered" reply. Both are deterministic and
 * say plainly what they are, so a quote is never mistaken for a summary.
 */
import type { Citation, Passage } from '../types.js';
import { checkCitations, stripCitationMarkers } from './citations.js';
import { isAskingWord } from '../retrieval/terms.js';
import { contentStems, isStopWord, splitSentences, splitWords, stem, truncate } from '../util/text.js';
import { ANSWER_TYPES, answerTypeOf, answerTypePositions, novelPositions, paraphrases, tokenize, type Token } from './answer-type.js';

export { answerTypeOf, type AnswerType } from './answer-type.js';

/** What an extractive answer is, said once: in its note, after the quotes, never as their first line. */
export const EXTRACTIVE_LABEL = 'Extracted from the articles (no AI summary)';
/** Why an answer is extractive when no LLM is configured. */
export const NOTE_NO_LLM = `${EXTRACTIVE_LABEL}: no answer model is configured, so these are the sentences that answer best, quoted directly.`;
/** Why an answer is extractive when the LLM failed. */
export const NOTE_LLM_UNAVAILABLE = `${EXTRACTIVE_LABEL}: the answer service is unavailable right now, so these are the sentences that answer best, quoted directly.`;
/** Opening of the reply when retrieval found nothing relevant. */
export const NOT_COVERED_TEXT = "The articles I have don't cover this.";

// At most the answer and two supporting sentences (see docs/evaluation-answers.md for what each adds).
const MAX_SENTENCES = 3;
const MAX_SENTENCE_CHARS = 400;
// Headlines, bylines and fragments are poor quotes.
const MIN_SENTENCE_CHARS = 25;
const MIN_CONTINUATION_CHARS = 10;
// Only articles ranked nearly as high as the best are quoted: a weaker article matched on a
// word or two ("years old") is padding, not an answer.
const PASSAGE_FLOOR = 0.8;
const MAX_QUOTED_PASSAGES = 3;
const MAX_CLOSEST_ARTICLES = 3;
// Weight of a word a follow-up only carries from an earlier question, against the follow-up's own.
const CARRIED_WEIGHT = 0.5;
// Weight of a question word matched only in other words ("cost" by "price", "chair" by "chairman").
const PARAPHRASE_WEIGHT = 0.5;
// A further sentence is quoted only when it scores within this of the first (in SENTENCE_WEIGHTS units).
// 2.5 rather than 3 since the asking-clause signals: the readers' median reply stays at 53 words.
const SCORE_MARGIN = 2.5;
// A further sentence whose question words weigh less than this share of the best sentence's is padding.
const OWN_FLOOR = 0.3;
// Words this close to a matched question word belong to the same statement.
const NEAR_WORDS = 4;
// Matches within this many consecutive words sit in one clause.
const WINDOW = 8;

/** One sentence chosen for an extractive answer. */
export interface ExtractedSentence {
  /** 1-based index of the passage it comes from. */
  n: number;
  sentence: string;
  score: number;
}

/** The signals a candidate sentence is ranked by, in the order of `SENTENCE_WEIGHTS`. */
export const SENTENCE_FEATURES = [
  'overlap',
  'paraphrase',
  'focus',
  'neighbour',
  'type:number',
  'type:name',
  'type:place',
  'type:time',
  'type:cause',
  'typeNearMatch',
  'lead',
  'topPassage',
  'length',
  'phrase',
  'carried',
  'coverage',
  'window',
  'newWords',
  'clause',
  'clauseNear',
] as const;

/** Weights of `SENTENCE_FEATURES`, fitted on the readers' set by scripts/fit-extractive.ts. */
export const SENTENCE_WEIGHTS: readonly number[] = [
  1.5, 1.52, 1.11, 0.66, 2.81, 0.33, 0.47, 1.22, -0.59, 0.66, -0.45, 1.04, -0.23, -0.43, -1.97, 0.35, 1.09, 0.31, 0.84, 0.78,
];

/** A candidate sentence with its signals. */
export interface ScoredSentence {
  n: number;
  index: number;
  sentence: string;
  features: number[];
  score: number;
  /** Question stems it matches (exactly or in other words). */
  matched: Set<string>;
  /** Overlap through the question's own words only (not those a follow-up carries). */
  ownOverlap: number;
}

// With fewer topical words than this after the asking word, the clause takes up to CLAUSE_BEFORE words before it.
const CLAUSE_MIN_AFTER = 2;
const CLAUSE_BEFORE = 4;
const ASKING = /^(which|what|who|whom|whose|where|when|why|how)$/;

/**
 * The words of the part of the question that asks: from the asking word to the next comma, dash
 * or question mark ("kmart's buying sears, announced this week - *what's the merged company going
 * to be called*?"). Readers put the story's description around it; the answer matches what is asked.
 */
function askingClauseStems(question: string): Set<string> {
  for (const part of question.split(/[,;:?!()]|\s[-\u2013\u2014]+\s/)) {
    const words = splitWords(part.toLowerCase()).map((w) => w.replace(/['\u2019]s$/, ''));
    const at = words.findIndex((w) => ASKING.test(w));
    if (at < 0) continue;
    const topical = (w: string) => !isStopWord(w) && !isAskingWord(w);
    const after = words.slice(at + 1).filter(topical);
    // An asking word at the clause's end ("… is known for setting up which group?") asks about the words before it.
    const before = after.length < CLAUSE_MIN_AFTER ? words.slice(0, at).filter(topical).slice(-CLAUSE_BEFORE) : [];
    return new Set([...before, ...after].map((w) => stem(w)));
  }
  return new Set();
}

// The words a number's unit is said in, for "how old/long/far".
const HOW_UNITS: Record<string, string[]> = {
  old: ['old', 'year', 'years', 'age', 'aged'],
  long: ['year', 'years', 'month', 'months', 'week', 'weeks', 'day', 'days', 'hour', 'hours', 'minute', 'minutes', 'long'],
  far: ['kilometre', 'kilometres', 'km', 'mile', 'miles', 'metre', 'metres', 'far'],
};

// Words that, right after the asking word, say the question's subject comes next and its verb last.
const AUXILIARIES = new Set('did does do was were is are has have had will would can could should'.split(' '));

/**
 * What the question is about: the first two topical words after the asking word ("which Arizona
 * senator"). When a verb comes next, its verb: right after it for "who will chair the firm?",
 * where "who" is the subject; else last, after the subject ("how much did the bridge cost?").
 */
function focusStems(question: string): Set<string> {
  const words = splitWords(question.toLowerCase()).map((w) => w.replace(/['\u2019]s$/, ''));
  let at = words.findIndex((w) => ASKING.test(w));
  // "how old / long / far": the number's unit is the focus ("89-year-old", "aged 89", "for 18 months").
  const units = words[at] === 'how' ? HOW_UNITS[words[at + 1] ?? ''] : undefined;
  if (units) return new Set(units.map((w) => stem(w)));
  if (words[at] === 'how' && /^(many|much|old|long|far|big)$/.test(words[at + 1] ?? '')) at++;
  const topical = (w: string) => !isStopWord(w) && !isAskingWord(w);
  const after = words.slice(at + 1).filter(topical);
  if (AUXILIARIES.has(words[at + 1] ?? '')) {
    const verb = words[at] === 'who' ? after[0] : after.at(-1);
    return new Set(verb ? [stem(verb)] : []);
  }
  return new Set(after.slice(0, 2).map((w) => stem(w)));
}

interface Candidate {
  n: number;
  index: number;
  sentence: string;
  tokens: Token[];
  stems: Set<string>;
  /** The article's first sentence. */
  lead: boolean;
}

/** The sentences that may be quoted: from the first passages, those ranked nearly as high as the best, without repeats or fragments. */
function quotableSentences(passages: readonly Passage[]): Candidate[] {
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  const topScore = passages[0]?.score ?? 0;
  passages.forEach((p, i) => {
    // A weaker passage of the best article is the same story; a weaker article is not.
    const sameStory = p.articleId === passages[0]?.articleId;
    if (i >= MAX_QUOTED_PASSAGES || (i > 0 && p.score < PASSAGE_FLOOR * topScore && !sameStory)) return;
    splitSentences(p.text).forEach((raw, index) => {
      const sentence = stripCitationMarkers(raw).replace(/\s+/g, ' ').trim();
      const key = sentence.toLowerCase();
      // A short line is a headline or a fragment, unless it ends like a sentence inside the story ("Conway was 82 years old.").
      const short =
        sentence.length < MIN_SENTENCE_CHARS &&
        !(index > 0 && sentence.length >= MIN_CONTINUATION_CHARS && /[.!?]["\u201D]?$/.test(sentence));
      if (short || seen.has(key)) return;
      seen.add(key);
      const tokens = tokenize(sentence);
      const stems = new Set(tokens.map((t) => t.stem).filter((s) => s.length > 1 || /\d/.test(s)));
      candidates.push({ n: i + 1, index, sentence, tokens, stems, lead: p.start === 0 && index === 0 });
    });
  });
  return candidates;
}

/** What scoring reads from the question: its words, the part that asks, and what it asks for. */
interface QuestionView {
  queryStems: Set<string>;
  focus: Set<string>;
  clause: Set<string>;
  type: ReturnType<typeof answerTypeOf>;
  asked: Set<string>;
  /** Question word pairs, in their order ("bilateral meetings"). */
  pairs: Set<string>;
  idf: (stem: string) => number;
  /** 1 for the question's own words, CARRIED_WEIGHT for those a follow-up carries. */
  carriedShare: (stem: string) => number;
}

/** One candidate's raw signals, before they are scaled against the other candidates. */
function candidateSignals(c: Candidate, v: QuestionView) {
  let exact = 0;
  let other = 0;
  let carried = 0;
  let ownOverlap = 0;
  let focusHits = 0;
  let clauseHits = 0;
  const matched = new Set<string>();
  for (const q of v.queryStems) {
    const w = v.idf(q) * v.carriedShare(q);
    if (c.stems.has(q)) {
      exact += w;
      if (v.carriedShare(q) < 1) carried += w;
      else ownOverlap += w;
    } else if ([...c.stems].some((s) => paraphrases(q, s))) other += w * PARAPHRASE_WEIGHT;
    else continue;
    matched.add(q);
    if (v.focus.has(q)) focusHits++;
    if (v.clause.has(q)) clauseHits += v.idf(q);
  }
  let phrase = 0;
  for (let i = 1; i < c.tokens.length; i++) if (v.pairs.has(`${c.tokens[i - 1]!.stem} ${c.tokens[i]!.stem}`)) phrase++;
  const positions = answerTypePositions(v.type, c.sentence, c.tokens, v.asked);
  const hits = c.tokens.flatMap((t, i) => (matched.has(t.stem) ? [i] : []));
  const near = (from: number[], to: number[]) => from.some((a) => to.some((b) => Math.abs(a - b) <= NEAR_WORDS));
  // The most question weight within any WINDOW consecutive words: matches gathered in one clause.
  let window = 0;
  for (const h of hits) {
    const inside = new Set(hits.filter((x) => x >= h && x < h + WINDOW).map((x) => c.tokens[x]!.stem));
    let sum = 0;
    for (const q of inside) sum += v.idf(q) * v.carriedShare(q);
    window = Math.max(window, sum);
  }
  // Something a reply could be made of (a new name or number, or the asked type) next to a word of the asking clause.
  const novel = novelPositions(c.tokens, v.asked, v.queryStems);
  const clauseAt = hits.filter((i) => v.clause.has(c.tokens[i]!.stem));
  return {
    c,
    exact,
    other,
    carried,
    ownOverlap,
    focusHits,
    clauseHits,
    matched,
    phrase,
    hasType: positions.length > 0,
    typeNear: near(positions, hits),
    clauseNear: near(clauseAt, [...novel.names, ...novel.numbers, ...positions]),
    window,
    newWords: c.tokens.filter((t) => t.stem !== '' && !v.queryStems.has(t.stem)).length,
  };
}

/**
 * Every sentence of the quotable passages that shares a question word, with its signals and
 * score: from the articles ranked nearly as high as the best, overlap with the query's topical
 * words (weighted by how rare each is among the candidates; in a follow-up, words carried from
 * the earlier question count half), words said otherwise (a small lexicon and shared stem
 * starts), the words right after the asking word and the rest of the asking clause, the better
 * neighbour's overlap, and whether it holds what the question asks for (a number for "how
 * many", a cause for "why") near the words it matches. Best first; ties go to the
 * better-ranked passage.
 */
export function scoreSentences(
  query: string,
  passages: readonly Passage[],
  question = query,
  weights: readonly number[] = SENTENCE_WEIGHTS,
): ScoredSentence[] {
  const queryStems = new Set([...contentStems(query)].filter((s) => !isAskingWord(s)));
  // A follow-up's own words say what it asks; the words carried from earlier questions only say what about.
  const own = contentStems(question);
  const followUp = question !== query;
  const clause = askingClauseStems(question);
  const queryOrder = tokenize(query).map((t) => t.stem);
  const pairs = new Set<string>();
  for (let i = 1; i < queryOrder.length; i++)
    if (queryStems.has(queryOrder[i - 1]!) && queryStems.has(queryOrder[i]!)) pairs.add(`${queryOrder[i - 1]} ${queryOrder[i]}`);

  const candidates = quotableSentences(passages);
  const df = new Map<string, number>();
  for (const c of candidates) for (const s of c.stems) if (queryStems.has(s)) df.set(s, (df.get(s) ?? 0) + 1);
  const idf = (q: string) => Math.log(1 + candidates.length / Math.max(1, df.get(q) ?? 0));
  const carriedShare = (q: string) => (own.has(q) || !followUp ? 1 : CARRIED_WEIGHT);
  const focus = focusStems(question);
  const type = answerTypeOf(question);
  const asked = new Set(splitWords(query).map((w) => w.toLowerCase()));
  const view: QuestionView = { queryStems, focus, clause, type, asked, pairs, idf, carriedShare };
  let queryWeight = 0;
  for (const q of queryStems) queryWeight += idf(q) * carriedShare(q);
  let clauseWeight = 0;
  for (const q of clause) if (queryStems.has(q)) clauseWeight += idf(q);

  const raw = candidates.map((c) => candidateSignals(c, view));
  const maxOverlap = Math.max(1e-9, ...raw.map((r) => r.exact + r.other));
  const at = new Map(raw.map((r) => [`${r.c.n}:${r.c.index}`, r.exact + r.other]));
  const avgWords = candidates.reduce((a, c) => a + c.tokens.length, 0) / Math.max(1, candidates.length);

  const scored: ScoredSentence[] = [];
  for (const r of raw) {
    const total = r.exact + r.other;
    const near = Math.max(at.get(`${r.c.n}:${r.c.index - 1}`) ?? 0, at.get(`${r.c.n}:${r.c.index + 1}`) ?? 0);
    // A sentence sharing no question word is never quoted, whatever its neighbours.
    if (total <= 0) continue;
    const features = [
      r.exact / maxOverlap,
      r.other / maxOverlap,
      focus.size > 0 ? r.focusHits / focus.size : 0,
      near / maxOverlap,
      ...ANSWER_TYPES.map((t) => (t === type && r.hasType ? 1 : 0)),
      r.typeNear ? 1 : 0,
      r.c.lead ? 1 : 0,
      r.c.n === 1 ? 1 : 0,
      r.c.tokens.length / avgWords,
      Math.min(2, r.phrase) / 2,
      total > 0 ? r.carried / total : 0,
      queryWeight > 0 ? total / queryWeight : 0,
      r.window / maxOverlap,
      Math.min(1, r.newWords / 20),
      clauseWeight > 0 ? r.clauseHits / clauseWeight : 0,
      r.clauseNear ? 1 : 0,
    ];
    const score = features.reduce((sum, f, i) => sum + f * (weights[i] ?? 0), 0);
    scored.push({ n: r.c.n, index: r.c.index, sentence: r.c.sentence, features, score, matched: r.matched, ownOverlap: r.ownOverlap });
  }
  return scored.sort((a, b) => b.score - a.score || a.n - b.n || a.index - b.index);
}

/**
 * Picks the sentences that answer the question, best first: the best-scored sentence, then at
 * most two more, each only when it scores within SCORE_MARGIN of the first and adds something
 * the quotes so far lack: a question word, or what the question asks for (a number for "how
 * many"). A sentence the previous reply already quoted (found in `previous`) is left out unless
 * it is the one that matches the follow-up's own words best: then it is the answer. Empty when
 * no sentence shares a topical word with the question.
 */
export function selectExtractiveSentences(
  query: string,
  passages: readonly Passage[],
  question = query,
  previous = '',
): ExtractedSentence[] {
  let ranked = scoreSentences(query, passages, question);
  if (previous) {
    const said = normaliseQuote(previous);
    const answer = ranked.reduce<ScoredSentence | null>((best, c) => (best === null || c.ownOverlap > best.ownOverlap ? c : best), null);
    ranked = ranked.filter((c) => c === answer || !said.includes(normaliseQuote(truncate(c.sentence, MAX_SENTENCE_CHARS))));
  }
  const first = ranked[0];
  if (!first) return [];
  const picked = [first];
  const covered = new Set(first.matched);
  for (const c of ranked.slice(1)) {
    if (picked.length >= MAX_SENTENCES || c.score < first.score - SCORE_MARGIN) break;
    // Its own words must speak to the question: sharing only the topic's name is padding
    // ("Who is Kolokoltsev meeting?" must not quote his sanctions).
    if ((c.features[OVERLAP] ?? 0) + (c.features[PARAPHRASE] ?? 0) < OWN_FLOOR) continue;
    // It must add something the quotes so far lack: a question word, or what the question asks for.
    const adds = [...c.matched].some((s) => !covered.has(s)) || holdsAskedType(c);
    if (!adds) continue;
    picked.push(c);
    for (const s of c.matched) covered.add(s);
  }
  return picked.map((c) => ({ n: c.n, sentence: truncate(c.sentence, MAX_SENTENCE_CHARS), score: c.score }));
}

const OVERLAP = SENTENCE_FEATURES.indexOf('overlap');
const PARAPHRASE = SENTENCE_FEATURES.indexOf('paraphrase');
const TYPE_FEATURES = [...ANSWER_TYPES.map((t) => `type:${t}`), 'typeNearMatch'].map((f) => SENTENCE_FEATURES.indexOf(f as never));

/** True when the sentence holds what the question asks for (any answer-type signal is on). */
function holdsAskedType(c: ScoredSentence): boolean {
  return TYPE_FEATURES.some((i) => (c.features[i] ?? 0) > 0);
}

/** Lower case, single spaces, no quote marks: how a sentence is found again in an earlier reply. */
function normaliseQuote(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\u201C\u201D"]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Result of the model-free answer builders. */
export interface BuiltAnswer {
  text: string;
  citations: Citation[];
  passages: Passage[];
}

/**
 * Builds the extractive answer: the answering sentence first, then any supporting ones, each
 * followed by its renumbered [n] (the label saying what it is travels in the answer's note);
 * null when no sentence of the passages speaks to the question (the caller says "not covered").
 * `previous`, the reply a follow-up follows, keeps its quotes from being repeated.
 */
export function extractiveAnswer(query: string, passages: readonly Passage[], question = query, previous = ''): BuiltAnswer | null {
  const picked = selectExtractiveSentences(query, passages, question, previous);
  if (picked.length === 0) return null;
  const draft = picked.map((p) => `\u201C${p.sentence}\u201D [${p.n}]`).join('\n\n');
  return checkCitations(draft, [...passages]);
}

/** The first passages of up to three different articles: what a reply offers as the closest. */
export function closestArticles(passages: readonly Passage[]): Passage[] {
  const closest: Passage[] = [];
  for (const p of passages) {
    if (closest.length >= MAX_CLOSEST_ARTICLES) break;
    if (!closest.some((c) => c.articleId === p.articleId)) closest.push(p);
  }
  return closest;
}

/** One bulleted line per article: title and date. */
export function articleList(passages: readonly Passage[]): string {
  return passages.map((p) => `\u2022 ${p.title} (${p.date ?? 'date unknown'})`).join('\n');
}

/** Builds the "not covered" reply naming the closest articles (title and date) as suggestions, without citations. */
export function notCoveredAnswer(passages: readonly Passage[]): BuiltAnswer {
  const closest = closestArticles(passages);
  const text =
    closest.length === 0
      ? `${NOT_COVERED_TEXT} Try asking about another topic or rephrasing the question.`
      : `${NOT_COVERED_TEXT} The closest articles are:\n${articleList(closest)}`;
  return { text, citations: [], passages: [...passages] };
}
