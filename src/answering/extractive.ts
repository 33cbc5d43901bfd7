/**
 * Answers that need no model: quoting the most relevant passage sentences (when no LLM
 * is configured or it failed) and the "not covered" reply. Both are deterministic and
 * say plainly what they are, so a quote is never mistaken for a summary.
 */
import type { Citation, Passage } from '../types.js';
import { checkCitations, stripCitationMarkers } from './citations.js';
import { isAskingWord } from '../retrieval/terms.js';
import { contentStems, isStopWord, splitSentences, splitWords, truncate } from '../util/text.js';

/** First line of every extractive answer; front ends may show it as a badge too. */
export const EXTRACTIVE_LABEL = 'Extracted from the articles (no AI summary):';
/** Why an answer is extractive when no LLM is configured. */
export const NOTE_NO_LLM = 'No answer model is configured, so here are the most relevant passages quoted directly.';
/** Why an answer is extractive when the LLM failed. */
export const NOTE_LLM_UNAVAILABLE = 'The answer service is unavailable right now, so here are the most relevant passages quoted directly.';
/** Opening of the reply when retrieval found nothing relevant. */
export const NOT_COVERED_TEXT = "The articles I have don't cover this.";

const MAX_SENTENCES = 3;
const MAX_SENTENCE_CHARS = 400;
// Headlines, bylines and fragments are poor quotes.
const MIN_SENTENCE_CHARS = 25;
// Sentences far weaker than the best one add noise rather than evidence.
const RELATIVE_FLOOR = 0.5;
// Only articles ranked nearly as high as the best are quoted: a weaker article matched on a
// word or two ("years old") is padding, not an answer.
const PASSAGE_FLOOR = 0.8;
const MAX_QUOTED_PASSAGES = 3;
// A sentence holding what the question asks for (a number for "how many") counts this much more.
const ANSWER_TYPE_BONUS = 1.5;
const MAX_CLOSEST_ARTICLES = 3;
// Weight of a word a follow-up only carries from an earlier question, against the follow-up's own.
const CARRIED_WEIGHT = 0.5;
// Share of the better neighbour's overlap a sentence gains: news states a topic, then its detail
// in the next sentence ("US helicopters began dropping food in Aceh. About 12 are involved.").
const NEIGHBOUR_WEIGHT = 0.5;
// A sentence whose own words score below this share of the best sentence's own is padding,
// whatever its neighbours ("Who is Kolokoltsev meeting?" must not quote his sanctions).
const OWN_FLOOR = 0.3;

/** What kind of thing a question asks for, when its wording says so. */
export type AnswerType = 'number' | 'name' | 'time' | null;

const NUMBER_WORDS =
  'one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|hundreds|thousand|thousands|million|millions|billion|dozen|dozens|half|twice';
const MONTHS = 'january|february|march|april|may|june|july|august|september|october|november|december';
const DAYS =
  'monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|tomorrow|tonight|morning|evening|night|week|month|year';

/** The answer type of a question: "how many/much" → number, "who"/"where"/"which city" → name, "when" → time. */
export function answerTypeOf(question: string): AnswerType {
  const q = question.toLowerCase();
  if (/\bhow (many|much|old|long|far|big|high|large|tall)\b|\bwhat (percentage|share|number|age)\b/.test(q)) return 'number';
  if (/\bwhen\b|\bwhat (date|day|year|time|month)\b|\bwhich (date|day|year|month)\b/.test(q)) return 'time';
  if (
    /^\s*(and\s+)?(who|whom|whose|where)\b|\b(who|where)\b.*\?\s*$|\bwhich (country|countries|city|town|state|nation|company|team|party|person|man|woman|player|leader|group|island|province|region|airline|band|club)\b/.test(
      q,
    )
  )
    return 'name';
  return null;
}

/** True when the sentence holds something of the asked type that the question does not already say. */
function hasAnswerType(type: AnswerType, sentence: string, question: string): boolean {
  if (type === null) return true;
  if (type === 'number') return /\d/.test(sentence) || new RegExp(`\\b(${NUMBER_WORDS})\\b`, 'i').test(sentence);
  if (type === 'time') return /\b(1[89]|20)\d\d\b/.test(sentence) || new RegExp(`\\b(${MONTHS}|${DAYS})\\b`, 'i').test(sentence);
  const asked = new Set(splitWords(question).map((w) => w.toLowerCase()));
  // A capitalised word that is not the sentence's first and not already in the question.
  return splitWords(sentence)
    .slice(1)
    .some((w) => /^\p{Lu}/u.test(w) && !asked.has(w.toLowerCase()) && !isStopWord(w));
}

/** One sentence chosen for an extractive answer. */
export interface ExtractedSentence {
  /** 1-based index of the passage it comes from. */
  n: number;
  sentence: string;
  score: number;
}

/**
 * Picks up to three sentences that answer the question: from the articles ranked nearly as high
 * as the best, by overlap with the query's topical words (weighted by how rare each word is
 * among the candidate sentences; in a follow-up, words carried from the earlier question count
 * half) plus half the overlap of the better adjacent sentence, preferring sentences that hold
 * what the question asks for (a number for "how many"), best first; ties go to the better-ranked
 * passage. A sentence is quoted only when its own overlap is at least 0.3 of the best one's and
 * its score at least half the best score. Empty when no sentence shares a topical word with the
 * question: then nothing answers it.
 */
export function selectExtractiveSentences(query: string, passages: readonly Passage[], question = query): ExtractedSentence[] {
  const queryStems = new Set([...contentStems(query)].filter((s) => !isAskingWord(s)));
  // A follow-up's own words say what it asks; the words carried from earlier questions only say what about.
  const own = contentStems(question);
  const type = answerTypeOf(query);
  const candidates: { n: number; index: number; sentence: string; stems: Set<string> }[] = [];
  const seen = new Set<string>();
  const topScore = passages[0]?.score ?? 0;
  passages.forEach((p, i) => {
    if (i >= MAX_QUOTED_PASSAGES || (i > 0 && p.score < PASSAGE_FLOOR * topScore)) return;
    splitSentences(p.text).forEach((raw, index) => {
      const sentence = stripCitationMarkers(raw).replace(/\s+/g, ' ').trim();
      const key = sentence.toLowerCase();
      if (sentence.length < MIN_SENTENCE_CHARS || seen.has(key)) return;
      seen.add(key);
      candidates.push({ n: i + 1, index, sentence, stems: contentStems(sentence) });
    });
  });
  const df = new Map<string, number>();
  for (const c of candidates) for (const s of c.stems) if (queryStems.has(s)) df.set(s, (df.get(s) ?? 0) + 1);
  const overlap = candidates.map((c) => {
    let score = 0;
    for (const s of c.stems) {
      const d = df.get(s);
      if (d) score += Math.log(1 + candidates.length / d) * (own.has(s) || question === query ? 1 : CARRIED_WEIGHT);
    }
    return score;
  });
  const at = new Map(candidates.map((c, i) => [`${c.n}:${c.index}`, overlap[i]!]));
  const scored = candidates.map((c, i) => {
    const bonus = type !== null && hasAnswerType(type, c.sentence, query) ? ANSWER_TYPE_BONUS : 1;
    const near = Math.max(at.get(`${c.n}:${c.index - 1}`) ?? 0, at.get(`${c.n}:${c.index + 1}`) ?? 0);
    // A neighbour lifts a sentence, but only its own words can make it worth quoting: one that
    // merely names the topic is padding, however close to the answer.
    return { ...c, own: overlap[i]! * bonus, score: (overlap[i]! + NEIGHBOUR_WEIGHT * near) * bonus };
  });
  const top = Math.max(0, ...scored.map((c) => c.own));
  const best = Math.max(0, ...scored.map((c) => c.score));
  const picked = scored
    .filter((c) => c.own > 0 && c.own >= top * OWN_FLOOR && c.score >= best * RELATIVE_FLOOR)
    .sort((a, b) => b.score - a.score || a.n - b.n || a.index - b.index)
    .slice(0, MAX_SENTENCES);
  return picked.map((c) => ({ n: c.n, sentence: truncate(c.sentence, MAX_SENTENCE_CHARS), score: c.score }));
}

/** Result of the model-free answer builders. */
export interface BuiltAnswer {
  text: string;
  citations: Citation[];
  passages: Passage[];
}

/**
 * Builds the labelled extractive answer: quoted sentences, each followed by its renumbered [n];
 * null when no sentence of the passages speaks to the question (the caller says "not covered").
 */
export function extractiveAnswer(query: string, passages: readonly Passage[], question = query): BuiltAnswer | null {
  const picked = selectExtractiveSentences(query, passages, question);
  if (picked.length === 0) return null;
  const lines = picked.map((p) => `\u201C${p.sentence}\u201D [${p.n}]`);
  const draft = [EXTRACTIVE_LABEL, ...lines].join('\n\n');
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
