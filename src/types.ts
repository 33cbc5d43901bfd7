/**
 * Domain types shared across pipeline stages. Each stage owns its own logic;
 * these are the typed boundaries between them (see docs/architecture.md).
 */

/** One news article as loaded from the articles folder. */
export interface Article {
  /** Stable id derived from the path relative to the articles folder (or the URL for records without a path). */
  id: string;
  title: string;
  /** Publication date as ISO `YYYY-MM-DD`, or null when unknown. */
  date: string | null;
  url: string | null;
  source: string | null;
  /** Clean article body (no front matter, no `date ...` prefix). */
  text: string;
  /** sha256 hex of the normalised title + date + url + text: changes whenever anything indexed changes. */
  hash: string;
  /** Path of the source file relative to the articles folder. */
  path: string;
}

/** A problem with one input file; never fatal to the run. */
export interface LoadIssue {
  file: string;
  reason: string;
}

/** What loading an articles folder produced. */
export interface LoadResult {
  articles: Article[];
  /** Files (or records) that were skipped, each with a one-line reason. */
  skipped: LoadIssue[];
  /** Non-fatal notes about files that were still loaded (for example an unparseable date). */
  warnings: LoadIssue[];
}

/** A piece of an article small enough to embed. */
export interface Chunk {
  /** `${articleId}#${ordinal}` */
  id: string;
  articleId: string;
  ordinal: number;
  /** Character offsets into `Article.text`: `article.text.slice(start, end) === text`. */
  start: number;
  end: number;
  /** The article text of this chunk (no header). */
  text: string;
  /** What gets embedded and lexically indexed: a short header (title, date) + text. */
  embedText: string;
  /** Token count of `embedText` according to the counter used for chunking. */
  tokens: number;
}

/** Counts tokens the way the embedding model will. */
export interface TokenCounter {
  /** Identifies the tokenizer, recorded in the manifest. */
  readonly id: string;
  count(text: string): number;
}

/** Turns text into vectors. Vectors are L2-normalised so inner product = cosine. */
export interface Embedder {
  /** e.g. `transformers:Xenova/bge-small-en-v1.5` or `openai:text-embedding-3-small`. */
  readonly id: string;
  readonly dimension: number;
  /** Maximum tokens per input, including special tokens. */
  readonly maxTokens: number;
  /** Counts tokens with the model's own tokenizer. */
  readonly tokenizer: TokenCounter;
  /** True when a question in one language finds passages in another (multilingual-e5, bge-m3, OpenAI's text-embedding-3). */
  readonly multilingual?: boolean;
  embedDocuments(texts: string[]): Promise<Float32Array[]>;
  embedQuery(text: string): Promise<Float32Array>;
}

/**
 * A ranked piece of evidence handed to the answerer: the retrieved chunks of one article.
 * Adjacent chunks form one excerpt; non-adjacent excerpts are joined with a `[…]` line.
 */
export interface Passage {
  articleId: string;
  title: string;
  date: string | null;
  url: string | null;
  source: string | null;
  chunkIds: string[];
  start: number;
  end: number;
  text: string;
  /** Ranking score, higher is better: the fused RRF score, or the cross-encoder's when reranked. */
  score: number;
  denseScore?: number;
  lexicalScore?: number;
}

/** One numbered source cited by an answer. */
export interface Citation {
  n: number;
  articleId: string;
  title: string;
  date: string | null;
  url: string | null;
  /** The passage sentence(s) that best support the claim. */
  quote: string;
}

export type AnswerMode = 'llm' | 'extractive' | 'not-covered';

/** A finished answer. */
export interface Answer {
  text: string;
  citations: Citation[];
  mode: AnswerMode;
  /** The standalone query used for retrieval (after follow-up condensing). */
  query: string;
  /** Why the answer is extractive, when it is (no LLM configured, LLM failed, ...). */
  note?: string;
  /** When the answer model failed: what went wrong, for whoever runs the bot (the CLI prints it; chats never see it). */
  llmFailure?: string;
  /** Passages that were given to the answerer, numbered from 1. */
  passages: Passage[];
  /** The question's detected language (ISO 639-1), null when the detector was unsure; absent when languages are not tracked. */
  questionLanguage?: string | null;
  /** The language of `query` (the articles' when the model translated the question), null when unsure. */
  queryLanguage?: string | null;
}

/** One turn of conversation history. */
export interface Turn {
  role: 'user' | 'assistant';
  content: string;
}

/** A period the question named ("this week", "in June 2024") from which the collection holds no article. */
export interface PeriodNote {
  /** The phrase as written. */
  matched: string;
  /** Inclusive ISO dates of the period. */
  from: string;
  to: string;
  /** The newest article date the collection has, or null when it has no dated article. */
  newest: string | null;
}

/** What retrieval found for one query. */
export interface RetrievalResult {
  /** Best passages first, at most k. */
  passages: Passage[];
  /** True when the best evidence is too weak to answer from; `passages` then holds the closest articles. */
  notCovered: boolean;
  /** Which halves of the index were used. */
  mode: 'hybrid' | 'lexical' | 'dense';
  /** Set when the question named a period the collection has no article from. */
  period?: PeriodNote;
}

/** Query → ranked passages. */
export interface Retriever {
  /** `now` is when the question was asked (default: the clock); relative times count from it. */
  retrieve(query: string, options?: { k?: number; now?: Date }): Promise<RetrievalResult>;
}

/** An answer being produced: text deltas as they arrive, then the checked result. */
export interface AnswerStream {
  /** Raw text deltas (may contain [n] markers that are later removed if invalid). */
  text: AsyncIterable<string>;
  /** The final, citation-checked answer. Resolves after `text` is exhausted (or without reading it). */
  result: Promise<Answer>;
}

/** Per-question options of the answerer. */
export interface AskOptions {
  /** When the question was asked: "this week" and "recently" count from it. Default: the clock. */
  now?: Date;
  /** The reader's language as their client reports it (Telegram's language_code, primary subtag): the language of the answerer's own lines. */
  readerLanguage?: string;
  /**
   * The language the reader chose for the chat (/language, ISO 639-1): the answerer's lines are in
   * it, and the model writes the answer in it whatever the question's language (unless it is the
   * articles' language and the question is too). Absent: the answer follows the question.
   */
  answerLanguage?: string;
}

/** The question-answering service both front ends (terminal and Telegram) use. */
export interface QuestionAnswerer {
  /**
   * Answers `question` in the context of `history` (oldest first). `now` is when it was asked
   * (the message's date; default the clock). Never rejects for LLM failures.
   */
  ask(question: string, history: Turn[], options?: AskOptions): Promise<Answer>;
  /** Like `ask`, streaming text as it is generated. */
  askStream(question: string, history: Turn[], options?: AskOptions): AnswerStream;
}

/** Counts of what a (re)index did. */
export interface IndexSummary {
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  skipped: LoadIssue[];
  warnings: LoadIssue[];
  chunks: number;
  articles: number;
  seconds: number;
  /** False when the index was built without vectors (lexical-only). */
  dense: boolean;
}

/** Progress of a running (re)index, for progress bars and edited Telegram messages. */
export interface IndexProgress {
  phase: 'load' | 'chunk' | 'embed' | 'write' | 'done';
  done: number;
  total: number;
}

/** Article summary for listings. */
export interface ArticleInfo {
  id: string;
  title: string;
  date: string | null;
  url: string | null;
  chunks: number;
}

/** Index statistics for /start and /stats. */
export interface LibraryStats {
  articles: number;
  chunks: number;
  firstDate: string | null;
  lastDate: string | null;
  indexBytes: number;
  embeddingModel: string | null;
  dense: boolean;
  builtAt: string | null;
}

/**
 * The article collection as admins manage it: what the bot's admin commands call.
 * Reads keep being served from the previous index while a reindex runs.
 */
export interface Library {
  stats(): LibraryStats;
  /**
   * Where an indexed article's file lives, for citations without a URL: the articles folder plus
   * its path (relative to the working folder when inside it, e.g. `seeds/000_….txt`); null if unknown.
   */
  articleLocation?(articleId: string): string | null;
  listArticles(offset: number, limit: number): { total: number; items: ArticleInfo[] };
  /**
   * Rejects with `BusyError` when a reindex is already running, and with `MassDeleteError` (nothing
   * removed) when it would remove every article or more than half of them without `allowMassDelete`.
   */
  reindex(options: { full?: boolean; allowMassDelete?: boolean; onProgress?: (p: IndexProgress) => void }): Promise<IndexSummary>;
  /**
   * Stores a file as a chat-added source (safe name; not in the articles folder, so a folder sync
   * keeps it) and indexes it. `addedBy` is recorded with it. Rejects with `UserError` for bad input.
   */
  addFile(fileName: string, bytes: Uint8Array, addedBy?: string): Promise<{ article: ArticleInfo; summary: IndexSummary }>;
  /** Fetches a URL (http/https, size and time capped), extracts the article, stores and indexes it. */
  addUrl(url: string, addedBy?: string): Promise<{ article: ArticleInfo; summary: IndexSummary }>;
  /**
   * Removes an article, whatever its source, together with the reindex: a refused or failed run
   * leaves both the article and its source. Rejects with `UserError` when the id is unknown.
   */
  remove(articleId: string): Promise<{ summary: IndexSummary }>;
}
