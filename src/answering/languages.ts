/**
 * Questions in another language than the articles': which language a question is in, the
 * language of the query sent to retrieval, and the replies for a reader whose question nothing
 * can translate (no answer model, no multilingual embedding model).
 */
import { detectLanguage, languageName } from '../language/index.js';
import { hasCyrillic, transliterateCyrillic } from '../language/transliterate.js';
import type { Passage, Retriever } from '../types.js';
import type { Logger } from '../util/log.js';
import { articleList, type BuiltAnswer, closestArticles } from './extractive.js';
import { lineLanguage, readerLine } from './reader-lines.js';

/** What the answerer knows about languages. */
export interface AnswerLanguages {
  /** The articles' languages, most articles first (asked per question: the index may change). */
  collection(): readonly string[];
  /** True when the embedding model matches a question to articles in another language by itself. */
  multilingualRetrieval: boolean;
  /** Detects a text's language (ISO 639-1), null when unsure; default `detectLanguage`. */
  detect?(text: string): Promise<string | null>;
}

/** How a question's language relates to the articles'. */
export interface AskedLanguage {
  /** The question's language, null when unsure (then it is treated as the articles'). */
  question: string | null;
  /** The articles' main language: the one a translated query is written in. */
  collection: string;
  /** True when the question is in a language the articles are not in. */
  foreign: boolean;
  /** The language the answerer's own lines are written in for this reader. */
  lines: string;
  /** The question's language by name, for the model to answer in, when it is not the articles'. */
  answerIn?: string;
}

/**
 * The question's language against the articles'; `readerLanguage` is what the reader's client
 * reports, `answerLanguage` the language the reader chose to be answered in (it wins).
 */
export async function askedLanguage(
  languages: AnswerLanguages,
  question: string,
  readerLanguage?: string,
  answerLanguage?: string,
): Promise<AskedLanguage> {
  const collection = languages.collection();
  const detected = await (languages.detect ?? detectLanguage)(question);
  const foreign = detected !== null && !collection.includes(detected);
  // The reader's Telegram language wins unless it is the articles' (an English client asking in
  // Russian reads Russian); it also settles what the detector confuses (Russian and Ukrainian).
  const hint = readerLanguage && !collection.includes(readerLanguage) ? readerLanguage : null;
  // A chosen language the articles are written in needs saying only when the question is not.
  const chosen = answerLanguage && (foreign || !collection.includes(answerLanguage)) ? answerLanguage : null;
  const answerIn = chosen ?? (foreign && !answerLanguage ? detected : null);
  return {
    question: detected,
    collection: collection[0] ?? 'en',
    foreign,
    lines: lineLanguage(answerLanguage, hint, detected, readerLanguage),
    ...(answerIn ? { answerIn: languageName(answerIn) } : {}),
  };
}

/** The answer's language fields, logged with the query retrieval gets (`answer.query`). */
export async function queryLanguageFields(
  languages: AnswerLanguages,
  asked: AskedLanguage,
  query: string,
  translated: boolean,
  logger: Logger,
): Promise<{ questionLanguage: string | null; queryLanguage: string | null }> {
  const detected = await (languages.detect ?? detectLanguage)(query);
  const queryLanguage = detected ?? (translated ? asked.collection : asked.question);
  logger.info('answer.query', { query, query_lang: queryLanguage, question_lang: asked.question, translated });
  return { questionLanguage: asked.question, queryLanguage };
}

/**
 * The articles to offer a reader whose question nothing can translate: those retrieval found,
 * else, for a Cyrillic question, those its names find spelled in Latin letters (Колокольцев
 * is Kolokoltsev in English news). Offered as the closest, never quoted as an answer.
 */
export async function closestAcrossScripts(
  retriever: Retriever,
  question: string,
  passages: Passage[],
  logger: Logger,
): Promise<Passage[]> {
  if (passages.length > 0 || !hasCyrillic(question)) return passages;
  const latin = transliterateCyrillic(question);
  logger.info('answer.transliterated_search', { query: latin });
  return (await retriever.retrieve(latin)).passages;
}

/**
 * A reply without an answer to a question in another language, in the reader's: `needsModel`
 * when nothing can translate the question (what would), else `notCovered`; then the closest articles.
 */
export function readerLanguageReply(opening: 'needsModel' | 'notCovered', passages: readonly Passage[], asked: AskedLanguage): BuiltAnswer {
  const line = (key: Parameters<typeof readerLine>[0]) => readerLine(key, asked.lines, asked.collection);
  const closest = closestArticles(passages);
  const text =
    closest.length > 0 ? `${line(opening)}\n\n${line('closest')}\n${articleList(closest)}` : `${line(opening)}\n\n${line('noneClose')}`;
  return { text, citations: [], passages: [...passages] };
}

/** The line opening an extractive answer to a question in another language: the quotes are not translated. */
export function untranslatedNote(asked: AskedLanguage): string {
  return readerLine('untranslated', asked.lines, asked.collection);
}
