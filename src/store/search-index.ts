/**
 * What the rest of the program needs from an index generation, whichever store holds it: the
 * embedded one (`IndexReader`: SQLite + hnswlib files) or PostgreSQL (`src/store/pg`). Searches
 * and bulk text may be asynchronous (a database round trip); the per-article catalogue (titles,
 * dates, paths, counts) is answered synchronously, from memory in the PostgreSQL store.
 */
import type { ArticleInfo } from '../types.js';
import type { Manifest } from './manifest.js';

/** A chunk row as stored. */
export interface StoredChunk {
  label: number;
  id: string;
  articleId: string;
  ordinal: number;
  start: number;
  end: number;
  text: string;
  /** The chunk's distinct stems (`encodeStems` of its text) when the store keeps them; null or absent: stem the text. */
  stems?: string | null;
}

/**
 * A chunk's place in its article and how many of a query's stems it holds (null when the store
 * keeps no stems for it): what the passage picker scores, without the chunk's text.
 */
export interface ChunkMatch {
  label: number;
  id: string;
  articleId: string;
  ordinal: number;
  start: number;
  end: number;
  found: number | null;
}

/** Article metadata as stored. */
export interface StoredArticle {
  id: string;
  title: string;
  date: string | null;
  url: string | null;
  source: string | null;
  path: string;
}

/** A search hit: chunk label and score (higher is better). */
export interface Hit {
  label: number;
  score: number;
}

/** A whole-article search hit: article id, its date and score (higher is better). */
export interface ArticleHit {
  articleId: string;
  date: string | null;
  score: number;
}

/** Column weights of the whole-article BM25: the title is short and says what the story is. */
export interface ArticleFieldWeights {
  title: number;
  text: number;
}

/** Inclusive ISO date range. */
export interface DateRange {
  from: string;
  to: string;
}

/** Why a published generation could not be opened: there is none yet, or it is damaged. */
export type OpenFailure = { kind: 'missing' | 'damaged'; message: string };

/** A value now or later: retrieval awaits both. */
export type Awaitable<T> = T | Promise<T>;

/** What a generation was built with and holds (the manifest without the embedded store's file list). */
export type IndexInfo = Omit<Manifest, 'formatVersion' | 'files'>;

/** The searches and reads retrieval runs against one generation. */
export interface SearchIndex {
  readonly manifest: IndexInfo;
  /** True when the generation has vectors for dense search. */
  readonly dense: boolean;
  /** Chunk BM25; `match` is an OR of quoted terms as `ftsQuery` builds it. */
  lexical(match: string, limit: number, range?: DateRange): Awaitable<Hit[]>;
  /** Whole-article BM25 over title and text, weighted per field. */
  articleLexical(match: string, limit: number, options?: { range?: DateRange; weights?: ArticleFieldWeights }): Awaitable<ArticleHit[]>;
  /** Chunk BM25 restricted to the given articles. */
  lexicalIn(match: string, articleIds: readonly string[], limit: number): Awaitable<Hit[]>;
  /** Nearest chunks by inner product (cosine: vectors are normalised). */
  denseSearch(query: Float32Array, limit: number, range?: DateRange): Awaitable<Hit[]>;
  /** The article of each chunk label (labels no longer stored are left out). */
  articlesOfChunks(labels: readonly number[]): Awaitable<Map<number, string>>;
  /** An article's chunks in reading order. */
  chunksOf(articleId: string): Awaitable<StoredChunk[]>;
  /** Full text of an article. */
  articleText(id: string): Awaitable<string | undefined>;
  /**
   * Optional: an article's chunks in reading order without their text, each with how many of
   * `stems` its stored stems hold (`countStoredStems`), counted where the rows are.
   */
  chunkMatches?(articleId: string, stems: readonly string[]): Awaitable<ChunkMatch[]>;
  /** Optional, with `chunkMatches`: the text of these chunks by label. */
  chunkTexts?(labels: readonly number[]): Awaitable<Map<number, string>>;
  /**
   * Optional: the stored stems (`encodeStems` of title and text) of these articles, in one call;
   * articles the store keeps none for are left out (the caller stems their text).
   */
  articleStems?(ids: readonly string[]): Awaitable<Map<string, string>>;
  article(id: string): StoredArticle | undefined;
  countInRange(range: DateRange): number;
  dateRange(): { first: string | null; last: string | null };
  /**
   * Optional: fetch the texts and chunks of these articles in one go, before `articleText` and
   * `chunksOf` ask for them one by one (a store behind a network round trip implements it).
   */
  prefetch?(articleIds: readonly string[]): Promise<void>;
  /** Marks one search in progress (the owner must not close the index under it); pair with `release`. */
  retain(): void;
  release(): void;
}

/** A generation as the library serves it: searches plus the catalogue and lifecycle. */
export interface IndexView extends SearchIndex {
  listArticles(offset: number, limit: number): { total: number; items: ArticleInfo[] };
  articlesInFile(relPath: string): ArticleInfo[];
  /** Bytes the generation takes in its store. */
  sizeBytes(): number;
  /** Closes now if no search uses it, else after the last one releases it. */
  retire(): void;
  close(): void;
}
