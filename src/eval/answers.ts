/**
 * Answer evaluation: every question goes through the real answerer (follow-ups with the
 * conversation so far), and the answers are checked for citation validity, correctness
 * against the gold answer, and whether "not covered" was said when, and only when, it should be.
 */
import { EXTRACTIVE_LABEL, LlmUnavailableError, type LlmClient } from '../answering/index.js';
import { splitSentences, splitWords } from '../util/text.js';
import type { Answer, AnswerMode, Citation, Passage, QuestionAnswerer } from '../types.js';
import { askedAt, historyFor, isAnswerable, type EvalQuestion } from './dataset.js';
import { percentile } from '../util/stats.js';
import { containsAnswer, containsNormalised, normaliseWhitespace, share } from './metrics.js';

/** What one question's answer got. */
export interface AnswerQuestionResult {
  id: string;
  /** The standalone query the answerer retrieved with (after its own condensing). */
  query: string;
  mode: AnswerMode;
  /** Gold answer found in the answer text; null when the question has no gold answer. */
  correct: boolean | null;
  /** Gold answer found in the answer's first sentence (its first quote); null when there is no gold answer. */
  first: boolean | null;
  /** Words in the answer text, not counting the extractive label. */
  words: number;
  /** The LLM judge's verdict; null when not judged (no judge, no gold answer, or the judge failed). */
  judged: boolean | null;
  citations: number;
  validCitations: number;
  verbatimCitations: number;
  /** Whether a citation points at a gold article; null for unanswerable questions. */
  goldCited: boolean | null;
  notCovered: boolean;
  ms: number;
}

/** Aggregate answer metrics. */
export interface AnswerMetrics {
  /** How answers were written: `llm` when a model is configured, else `extractive`. */
  answerMode: 'llm' | 'extractive';
  /** The answer model, when there is one. */
  model: string | null;
  questions: number;
  /** How many answers came out in each mode (an LLM failure falls back to extractive). */
  byMode: Record<AnswerMode, number>;
  /** Answerable questions with a gold answer (the denominator of `correct`). */
  withGoldAnswer: number;
  /** Share of those whose answer text contains the gold answer (normalised, whole words). */
  correct: number;
  /** Share of those whose first sentence (an extractive answer's first quote) contains the gold answer. */
  first: number;
  /** Median words of the answers to answerable questions that were not "not covered" (label not counted). */
  medianWords: number;
  /** Share judged correct by the LLM judge, over the questions it judged; null without a judge. */
  judgeCorrect: number | null;
  /** How many answers the judge gave a verdict on. */
  judged: number;
  /** All citations across all answers (the denominator of `citationValidity`). */
  citations: number;
  /** Share of citations whose quote is made of (at most three) fragments of the passage they cite. */
  citationValidity: number;
  /** Share of citations whose quote occurs in the cited passage as one contiguous string. */
  citationVerbatim: number;
  /** Share of answerable questions whose answer cites at least one gold article. */
  goldCited: number;
  unanswerable: number;
  /** Share of unanswerable questions answered "not covered" (higher is better). */
  unanswerableNotCovered: number;
  answerable: number;
  /** Share of answerable questions wrongly answered "not covered" (lower is better). */
  answerableNotCovered: number;
  /** Answer time per question; percentiles as `util/stats.ts` defines them, 0 when nothing ran. */
  latencyMs: { p50: number; p95: number };
}

/** Everything the answer run produced. */
export interface AnswerRun {
  metrics: AnswerMetrics;
  questions: AnswerQuestionResult[];
}

// A quote may join up to two passage sentences (answering picks 1–2); headline-like lines without
// final punctuation join without a visible boundary, so pieces are found by matching, not by splitting.
const MAX_PIECES_PER_SEGMENT = 3;
// Pieces shorter than this could be matched almost anywhere and prove nothing.
const MIN_PIECE_WORDS = 3;

/**
 * True when the citation's quote is in the passage it names: each part between ellipses must be
 * made of at most three contiguous passage fragments (sentences joined across a gap still count).
 */
export function citationIsValid(citation: Citation, answer: Pick<Answer, 'passages'>): boolean {
  const passage = citedPassage(citation, answer);
  if (!passage) return false;
  const text = normaliseWhitespace(passage.text);
  const segments = citation.quote
    .split(/\u2026|\.\.\./)
    .map((p) => normaliseWhitespace(p))
    .filter((p) => p.length > 0);
  return segments.length > 0 && segments.every((segment) => coverable(segment, text));
}

/** Greedy longest-match cover of `segment`'s words by substrings of `text`. */
function coverable(segment: string, text: string): boolean {
  if (text.includes(segment)) return true;
  const words = segment.split(' ');
  let i = 0;
  let pieces = 0;
  while (i < words.length) {
    let j = words.length;
    while (j > i && !text.includes(words.slice(i, j).join(' '))) j--;
    if (j === i || j - i < MIN_PIECE_WORDS) return false;
    pieces++;
    if (pieces > MAX_PIECES_PER_SEGMENT) return false;
    i = j;
  }
  return true;
}

/** True when the whole quote occurs in the cited passage as one contiguous (whitespace-normalised) string. */
export function citationIsVerbatim(citation: Citation, answer: Pick<Answer, 'passages'>): boolean {
  const passage = citedPassage(citation, answer);
  return passage !== null && containsNormalised(passage.text, citation.quote);
}

function citedPassage(citation: Citation, answer: Pick<Answer, 'passages'>): Passage | null {
  const passage = answer.passages[citation.n - 1];
  return passage && passage.articleId === citation.articleId ? passage : null;
}

/**
 * The sentence a reader reads first: an extractive answer's first quote, a model answer's first
 * sentence (after any notice paragraph); empty for "not covered".
 */
export function firstSentence(answer: Pick<Answer, 'text' | 'mode'>): string {
  if (answer.mode === 'not-covered') return '';
  if (answer.mode === 'extractive') return /\u201C([^\u201D]*)\u201D/.exec(answer.text)?.[1] ?? '';
  const body = answer.text.trim().split(/\n\s*\n/);
  // A period notice ("I have no articles from …") opens the text as its own paragraph.
  const paragraph = body.length > 1 && /^I have no articles from /.test(body[0]!) ? body[1]! : body[0]!;
  return splitSentences(paragraph)[0]?.trim() ?? '';
}

/** Words of the answer text, the extractive label aside. */
export function answerWords(text: string): number {
  return splitWords(text.replace(EXTRACTIVE_LABEL, '')).length;
}

/** Asks the judge whether `answer` agrees with `gold`; null when it gives no clear verdict or fails. */
export async function judgeAnswer(judge: LlmClient, question: string, gold: string, answer: string): Promise<boolean | null> {
  let reply: string;
  try {
    reply = await judge.complete([
      {
        role: 'system',
        content:
          'You grade answers to questions about news articles. Reply with one word: YES if the candidate answer ' +
          'states the gold answer (wording may differ), NO if it does not or contradicts it.',
      },
      {
        role: 'user',
        content: `Question: ${question}\nGold answer: ${gold}\nCandidate answer: ${answer}\nDoes the candidate state the gold answer?`,
      },
    ]);
  } catch (err) {
    if (err instanceof LlmUnavailableError) return null;
    throw err;
  }
  const verdict = /^\W*(yes|no)\b/i.exec(reply.trim())?.[1]?.toLowerCase();
  return verdict === undefined ? null : verdict === 'yes';
}

/** Runs every question through the answerer, in file order so follow-ups see earlier answers. */
export async function evaluateAnswers(options: {
  answerer: QuestionAnswerer;
  questions: readonly EvalQuestion[];
  gold: ReadonlyMap<string, string[]>;
  answerMode: 'llm' | 'extractive';
  model: string | null;
  judge: LlmClient | null;
  onProgress?: (done: number, total: number) => void;
}): Promise<AnswerRun> {
  const { answerer, questions, gold, judge } = options;
  const byId = new Map(questions.map((q) => [q.id, q]));
  const said = new Map<string, string>();
  const results: AnswerQuestionResult[] = [];
  const allCitations: boolean[] = [];
  const allVerbatim: boolean[] = [];
  let done = 0;
  for (const q of questions) {
    const started = performance.now();
    const now = askedAt(q, byId);
    const answer = await answerer.ask(q.question, historyFor(q, byId, said), now ? { now } : {});
    const ms = performance.now() - started;
    said.set(q.id, answer.text);
    const valid = answer.citations.map((c) => citationIsValid(c, answer));
    const verbatim = answer.citations.map((c) => citationIsVerbatim(c, answer));
    allCitations.push(...valid);
    allVerbatim.push(...verbatim);
    const goldIds = new Set(gold.get(q.id) ?? []);
    const answerable = isAnswerable(q);
    const gradable = answerable && q.answer !== undefined;
    results.push({
      id: q.id,
      query: answer.query,
      mode: answer.mode,
      correct: gradable ? containsAnswer(answer.text, q.answer!) : null,
      first: gradable ? containsAnswer(firstSentence(answer), q.answer!) : null,
      words: answerWords(answer.text),
      judged: gradable && judge ? await judgeAnswer(judge, q.question, q.answer!, answer.text) : null,
      citations: answer.citations.length,
      validCitations: valid.filter(Boolean).length,
      verbatimCitations: verbatim.filter(Boolean).length,
      goldCited: answerable ? answer.citations.some((c) => goldIds.has(c.articleId)) : null,
      notCovered: answer.mode === 'not-covered',
      ms,
    });
    options.onProgress?.(++done, questions.length);
  }
  const answerable = results.filter((r) => isAnswerable(byId.get(r.id)!));
  const unanswerable = results.filter((r) => !isAnswerable(byId.get(r.id)!));
  const graded = results.filter((r) => r.correct !== null);
  const judged = results.filter((r) => r.judged !== null);
  const byMode: Record<AnswerMode, number> = { llm: 0, extractive: 0, 'not-covered': 0 };
  for (const r of results) byMode[r.mode]++;
  const times = results.map((r) => r.ms);
  return {
    questions: results,
    metrics: {
      answerMode: options.answerMode,
      model: options.model,
      questions: results.length,
      byMode,
      withGoldAnswer: graded.length,
      correct: share(graded.map((r) => r.correct === true)),
      first: share(graded.map((r) => r.first === true)),
      medianWords: percentile(
        answerable.filter((r) => !r.notCovered).map((r) => r.words),
        50,
        0,
      ),
      judgeCorrect: judge ? share(judged.map((r) => r.judged === true)) : null,
      judged: judged.length,
      citations: allCitations.length,
      citationValidity: share(allCitations),
      citationVerbatim: share(allVerbatim),
      goldCited: share(answerable.map((r) => r.goldCited === true)),
      unanswerable: unanswerable.length,
      unanswerableNotCovered: share(unanswerable.map((r) => r.notCovered)),
      answerable: answerable.length,
      answerableNotCovered: share(answerable.map((r) => r.notCovered)),
      latencyMs: { p50: Math.round(percentile(times, 50, 0)), p95: Math.round(percentile(times, 95, 0)) },
    },
  };
}
