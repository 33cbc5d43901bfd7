/**
 * The answering stage: question + history → standalone query → passages → an `Answer`
 * whose every [n] names a passage that was given. With an LLM the answer is written by
 * the model; without one, or when it fails, the most relevant sentences are quoted.
 *
 * Numbering: after citation checking, citation n refers to `Answer.passages[n - 1]`.
 * `Answer.passages` holds exactly the passages retrieval returned, reordered so that
 * cited passages come first in citation order; uncited ones follow in retrieval order.
 */
import type { Answer, AnswerStream, AskOptions, Passage, PeriodNote, QuestionAnswerer, Retriever, Turn } from '../types.js';
import { languageName } from '../language/index.js';
import { silentLogger, type Logger } from '../util/log.js';
import { checkCitations } from './citations.js';
import { condenseDeterministic, needsContext, parseCondensedQuery } from './condense.js';
import { extractiveAnswer, NOTE_LLM_UNAVAILABLE, NOTE_NO_LLM, notCoveredAnswer } from './extractive.js';
import {
  type AskedLanguage,
  askedLanguage,
  closestAcrossScripts,
  type AnswerLanguages,
  readerLanguageReply,
  queryLanguageFields,
  untranslatedNote,
} from './languages.js';
import { createLlmClient, LlmUnavailableError, type LlmOptions } from './llm.js';
import { boundHistory, buildAnswerMessages, buildCondenseMessages, isNotCoveredReply, NOT_COVERED_REPLY } from './prompt.js';

export type { LlmOptions } from './llm.js';
export { createLlmClient, LlmUnavailableError, type LlmClient, type CallOptions } from './llm.js';
export {
  checkCitations,
  citingSentences,
  normaliseCitationMarkers,
  parseMarkerNumbers,
  selectQuote,
  stripCitationMarkers,
  MAX_QUOTE_CHARS,
} from './citations.js';
export { condenseDeterministic, keyTerms, needsContext, parseCondensedQuery } from './condense.js';
export {
  answerTypeOf,
  EXTRACTIVE_LABEL,
  scoreSentences,
  extractiveAnswer,
  NOT_COVERED_TEXT,
  NOTE_LLM_UNAVAILABLE,
  NOTE_NO_LLM,
  notCoveredAnswer,
  selectExtractiveSentences,
} from './extractive.js';
export {
  ANSWER_SYSTEM_PROMPT,
  boundHistory,
  buildAnswerMessages,
  buildCondenseMessages,
  CONDENSE_SYSTEM_PROMPT,
  formatSources,
  isNotCoveredReply,
  NOT_COVERED_REPLY,
  translatingCondensePrompt,
  type ChatMessage,
} from './prompt.js';
export { lineLanguage, READER_LINE_LANGUAGES, readerLine } from './reader-lines.js';
export type { AnswerLanguages } from './languages.js';
export { backoffDelayMs, classifyLlmError, parseRetryAfter } from './retry.js';
export { splitSentences } from '../util/text.js';

/**
 * The line that opens an answer when the question named a period the collection holds nothing
 * from ("this week" in a collection that ends in 2020): what it asked for, and the newest date there is.
 */
export function periodNotice(period: PeriodNote): string {
  const span = period.from === period.to ? period.from : `${period.from} to ${period.to}`;
  const newest = period.newest ? `the newest is from ${period.newest}` : 'none of them is dated';
  return `I have no articles from ${period.matched} (${span}); ${newest}.`;
}

/** Note attached when the model's answer carries no valid citation. */
export const NOTE_UNCITED = 'The answer could not be tied to a source.';

/**
 * Yielded on `AnswerStream.text` when a stream broke after some text and the answer
 * starts over (or falls back to quotes): front ends showing a live preview can clear
 * it; a terminal simply prints it. The final text is always `result.text`.
 */
export const STREAM_RESTART_MARKER = '\n\n(The connection was interrupted, starting again.)\n\n';

/** What `createAnswerer` needs. */
export interface AnswererOptions {
  retriever: Retriever;
  /** null: no model, answers are extractive. */
  llm: LlmOptions | null;
  /** How many history messages (user and assistant each count as one) reach the model. */
  historyTurns: number;
  /** Questions in another language than the articles' (absent: every question is taken as in theirs). */
  languages?: AnswerLanguages;
  logger?: Logger;
}

/** Builds the question-answering service used by both front ends. */
export function createAnswerer(options: AnswererOptions): QuestionAnswerer {
  const logger = options.logger ?? silentLogger;
  const llm = options.llm ? createLlmClient(options.llm, logger) : null;
  const { retriever, historyTurns, languages } = options;

  /** The query for retrieval, and whether the model wrote it in the articles' language. */
  async function condense(question: string, history: Turn[], asked: AskedLanguage | null): Promise<{ query: string; translated: boolean }> {
    const translate = asked?.foreign === true && llm !== null;
    if (!translate && (history.length === 0 || !needsContext(question))) return { query: question.trim(), translated: false };
    if (llm) {
      try {
        const target = translate ? languageName(asked!.collection) : undefined;
        const context = translate && !needsContext(question) ? [] : history;
        // A follow-up has a cheap fallback (carrying key terms), a question to translate has none worth having.
        const reply = await llm.complete(buildCondenseMessages(question, context, target), translate ? {} : { maxRetries: 0 });
        const query = parseCondensedQuery(reply);
        if (query) return { query, translated: translate };
        logger.warn('answer.condense_empty', {});
      } catch (err) {
        if (!(err instanceof LlmUnavailableError)) throw err;
        logger.warn('answer.condense_fallback', { error: err.message });
      }
    }
    return { query: condenseDeterministic(question, history), translated: false };
  }

  async function answer(question: string, rawHistory: Turn[], sink: DeltaSink | null, options: AskOptions = {}): Promise<Answer> {
    const started = Date.now();
    const history = boundHistory(rawHistory, historyTurns);
    const asked = languages ? await askedLanguage(languages, question, options.readerLanguage, options.answerLanguage) : null;
    const { query, translated } = await condense(question, history, asked);
    const languageFields = asked ? await queryLanguageFields(languages!, asked, query, translated, logger) : {};
    const retrieval = await retriever.retrieve(query, options.now ? { now: options.now } : {});
    const passages = retrieval.passages;
    const notice = retrieval.period ? periodNotice(retrieval.period) : null;
    if (notice) sink?.push(`${notice}\n\n`);

    const finish = (built: Answer): Answer => {
      const answer = { ...(notice ? { ...built, text: `${notice}\n\n${built.text}` } : built), ...languageFields };
      logger.info('answer.done', {
        mode: answer.mode,
        citations: answer.citations.length,
        passages: passages.length,
        note: answer.note,
        ms: Date.now() - started,
      });
      return answer;
    };
    const notCovered = (): Answer => {
      const built = asked?.foreign ? readerLanguageReply('notCovered', passages, asked) : notCoveredAnswer(passages);
      sink?.push(built.text);
      return finish({ ...built, mode: 'not-covered', query });
    };
    // A question in another language, with no model to translate it: saying "not covered" would
    // be wrong when the articles may well cover it; the reader learns what would make it work.
    const untranslatable = asked?.foreign === true && !llm && !languages?.multilingualRetrieval;
    const needsModel = async (): Promise<Answer> => {
      const built = readerLanguageReply('needsModel', await closestAcrossScripts(retriever, question, passages, logger), asked!);
      sink?.push(built.text);
      return finish({ ...built, mode: 'not-covered', query });
    };
    const quoted = async (note: string, llmFailure?: string): Promise<Answer> => {
      // A follow-up's quotes should not repeat the reply it follows (history carries that reply's text).
      const previous = query !== question.trim() ? (history.findLast((t) => t.role === 'assistant')?.content ?? '') : '';
      const built = extractiveAnswer(query, passages, question, previous);
      if (!built) return untranslatable ? needsModel() : notCovered();
      // Quotes stay in the articles' language; a reader who asked in another is told so first.
      const text = asked?.foreign ? `${untranslatedNote(asked)}\n\n${built.text}` : built.text;
      sink?.push(text);
      return finish({ ...built, text, mode: 'extractive', query, note, ...(llmFailure ? { llmFailure } : {}) });
    };

    if (retrieval.notCovered || passages.length === 0) return untranslatable ? needsModel() : notCovered();
    if (!llm) return quoted(NOTE_NO_LLM);

    const messages = buildAnswerMessages(question, passages, history, asked?.answerIn);
    let raw: string;
    // The model's "not covered" token is never shown: the reply is ours, with the closest articles.
    const gate = sink ? new RefusalGate(sink) : null;
    try {
      raw = gate
        ? await llm.stream(
            messages,
            (delta) => gate.push(delta),
            () => gate.restart(),
          )
        : await llm.complete(messages);
    } catch (err) {
      if (!(err instanceof LlmUnavailableError)) throw err;
      gate?.restart();
      return quoted(NOTE_LLM_UNAVAILABLE, err.reason);
    }
    if (isNotCoveredReply(raw)) return notCovered();
    gate?.flush();
    return finish(llmAnswer(raw, passages, query));
  }

  return {
    ask: (question, history, options) => answer(question, history, null, options),
    askStream: (question, history, options) => {
      const channel = new DeltaChannel();
      const result = answer(question, history, channel, options);
      result.then(
        () => channel.close(),
        (err: unknown) => channel.fail(err),
      );
      return { text: channel, result } satisfies AnswerStream;
    },
  };
}

/** Turns the model's raw text into an Answer, keeping only citations that name given passages. */
function llmAnswer(raw: string, passages: Passage[], query: string): Answer {
  const checked = checkCitations(raw, passages);
  const answer: Answer = { text: checked.text, citations: checked.citations, mode: 'llm', query, passages: checked.passages };
  // An uncited answer must not look cited: it keeps its text but says it is unsourced.
  if (checked.citations.length === 0) answer.note = NOTE_UNCITED;
  return answer;
}

interface DeltaSink {
  push(delta: string): void;
}

/**
 * Passes a streamed reply on, holding back its start while it could still be the model's "not
 * covered" token, so a reader never sees the token flash by. `restart` starts over (a broken
 * stream, or quotes instead): the restart marker is shown only when text was.
 */
class RefusalGate implements DeltaSink {
  private held = '';
  private open = false;

  constructor(private readonly sink: DeltaSink) {}

  push(delta: string): void {
    if (this.open) {
      this.sink.push(delta);
      return;
    }
    this.held += delta;
    const start = this.held.replace(/^[\s*_`"'([]+/, '').toUpperCase();
    if (start === '' || NOT_COVERED_REPLY.startsWith(start) || start.startsWith(NOT_COVERED_REPLY)) return;
    this.open = true;
    this.sink.push(this.held);
    this.held = '';
  }

  /** The stream ended and was not the token: shows what was held back. */
  flush(): void {
    if (!this.open && this.held !== '') this.sink.push(this.held);
    this.open = true;
    this.held = '';
  }

  restart(): void {
    if (this.open) this.sink.push(STREAM_RESTART_MARKER);
    this.open = false;
    this.held = '';
  }
}

/**
 * Buffers deltas so `result` can settle whether or not anyone reads `text`; every
 * iterator replays from the first delta, so a late reader misses nothing.
 */
class DeltaChannel implements DeltaSink, AsyncIterable<string> {
  private readonly items: string[] = [];
  private done = false;
  private error: { value: unknown } | null = null;
  private wake: (() => void) | null = null;

  push(delta: string): void {
    this.items.push(delta);
    this.notify();
  }

  close(): void {
    this.done = true;
    this.notify();
  }

  fail(err: unknown): void {
    this.error = { value: err };
    this.close();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    let i = 0;
    for (;;) {
      if (i < this.items.length) {
        yield this.items[i++] as string;
        continue;
      }
      if (this.done) {
        if (this.error) throw this.error.value;
        return;
      }
      await new Promise<void>((resolve) => {
        const previous = this.wake;
        this.wake = () => {
          previous?.();
          resolve();
        };
      });
    }
  }
}
