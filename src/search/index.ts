/**
 * Article search for inline mode (`@botname words` in any chat): the questions' retriever, hybrid
 * when a model is loaded but never the cross-encoder and never an LLM, so it answers within
 * Telegram's few seconds. Each hit is one article with a one-line snippet.
 */
import type { HybridRetriever } from '../retrieval/index.js';
import { splitSentences } from '../util/text.js';

/** One article found. */
export interface SearchHit {
  articleId: string;
  title: string;
  date: string | null;
  url: string | null;
  /** The first sentence of the article's best passage, cut to one line. */
  snippet: string;
}

/** Words → matching articles, best first. */
export type ArticleSearch = (query: string, limit: number) => Promise<SearchHit[]>;

/** Longest snippet, in characters: one line in Telegram's result list. */
export const SNIPPET_CHARS = 140;

/** Builds the search over the app's retriever. */
export function createArticleSearch(retriever: HybridRetriever): ArticleSearch {
  return async (query, limit) => {
    const found = await retriever.retrieveDetailed(query, { k: limit, mode: 'hybrid' });
    // Weak matches are still listed: the reader picks from the list, nothing is claimed about them.
    return found.passages.map((p) => ({ articleId: p.articleId, title: p.title, date: p.date, url: p.url, snippet: snippetOf(p.text) }));
  };
}

/** The first full sentence of a passage (not a `[…]` gap), at most `SNIPPET_CHARS` characters, cut at a word. */
export function snippetOf(text: string): string {
  const first = splitSentences(text).find((s) => s.trim().length > 0 && s.trim() !== '[…]') ?? text;
  const line = first.replace(/\s+/g, ' ').trim();
  return line.length <= SNIPPET_CHARS ? line : `${line.slice(0, SNIPPET_CHARS - 1).replace(/\s+\S*$/, '')}…`;
}
