/**
 * Answers that need no model: quoting the most relevant passage sentences (when no LLM
 * is configured or it failed) and the "not covered" reply. Both are deterministic and
 * say plainly what they are, so a quote is never mistaken for a summary.
 */
import type { Citation, Passage } from '../types.js';
import { checkCitations, stripCitationMarkers } from './citations.js';
import { contentStems, splitSentences, truncate } from '../util/text.js';

/** First line of every extractive answer; front ends may show it as a badge too. */
export const EXTRACTIVE_LABEL = 'Extracted from the articles (no AI summary):';
/** Why an answer is extractive when no LLM is configured. */
export const NOTE_NO_LLM = 'No answer model is configured, so here are the most relevant passages quoted directly.';
/** Why an answer is extractive when the LLM failed. */
export const NOTE_LLM_UNAVAILABLE = 'The answer service is unavailable right now, so here are the most relevant passages quoted directly.';
/** Opening of the reply when retrieval found nothing relevant. */
export const NOT_COVERED_TEXT = "The articles I have don't cover this.";

const MIN_SENTENCES = 2;
const MAX_SENTENCES = 4;
const MAX_SENTENCE_CHARS = 400;
// Headlines, bylines and fragments are poor quotes.
const MIN_SENTENCE_CHARS = 25;
// Sentences far weaker than the best one add noise rather than evidence.
const RELATIVE_FLOOR = 0.3;
const MAX_CLOSEST_ARTICLES = 3;

/** One sentence chosen for an extractive answer. */
export interface ExtractedSentence {
  /** 1-based index of the passage it comes from. */
  n: number;
  sentence: string;
  score: number;
}

/**
 * Picks 2–4 passage sentences by overlap with the query's topical words (weighted by how
 * rare each word is among the candidate sentences), best first; ties go to the better-ranked passage.
 */
export function selectExtractiveSentences(query: string, passages: readonly Passage[]): ExtractedSentence[] {
  const queryStems = contentStems(query);
  const candidates: { n: number; index: number; sentence: string; stems: Set<string> }[] = [];
  const seen = new Set<string>();
  passages.forEach((p, i) => {
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
  const scored = candidates
    .map((c) => {
      let score = 0;
      for (const s of c.stems) {
        const d = df.get(s);
        if (d) score += Math.log(1 + candidates.length / d);
      }
      return { ...c, score };
    })
    .sort((a, b) => b.score - a.score || a.n - b.n || a.index - b.index);

  const top = scored[0]?.score ?? 0;
  const picked = scored.filter((c) => c.score > 0 && c.score >= top * RELATIVE_FLOOR).slice(0, MAX_SENTENCES);
  // Below the floor, weaker matches still beat nothing; with no overlap at all the sort
  // falls back to retrieval rank and position, i.e. the best passages' opening sentences.
  for (const c of scored) {
    if (picked.length >= MIN_SENTENCES) break;
    if (!picked.includes(c)) picked.push(c);
  }
  return picked.map((c) => ({ n: c.n, sentence: truncate(c.sentence, MAX_SENTENCE_CHARS), score: c.score }));
}

/** Result of the model-free answer builders. */
export interface BuiltAnswer {
  text: string;
  citations: Citation[];
  passages: Passage[];
}

/** Builds the labelled extractive answer: quoted sentences, each followed by its renumbered [n]. */
export function extractiveAnswer(query: string, passages: readonly Passage[]): BuiltAnswer {
  const picked = selectExtractiveSentences(query, passages);
  const lines = picked.map((p) => `\u201C${p.sentence}\u201D [${p.n}]`);
  const draft = [EXTRACTIVE_LABEL, ...lines].join('\n\n');
  return checkCitations(draft, [...passages]);
}

/** Builds the "not covered" reply naming the closest articles (title and date) as suggestions, without citations. */
export function notCoveredAnswer(passages: readonly Passage[]): BuiltAnswer {
  const closest: Passage[] = [];
  for (const p of passages) {
    if (closest.length >= MAX_CLOSEST_ARTICLES) break;
    if (!closest.some((c) => c.articleId === p.articleId)) closest.push(p);
  }
  const text =
    closest.length === 0
      ? `${NOT_COVERED_TEXT} Try asking about another topic or rephrasing the question.`
      : `${NOT_COVERED_TEXT} The closest articles are:\n${closest.map((p) => `\u2022 ${p.title} (${p.date ?? 'date unknown'})`).join('\n')}`;
  return { text, citations: [], passages: [...passages] };
}
