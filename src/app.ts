/**
 * The composition root: builds every stage from one `Config` and wires them together.
 * Front ends (terminal, Telegram, eval, bench) get an `App` and use only its public parts.
 */
import { createAnswerer } from './answering/index.js';
import type pg from 'pg';
import type { Config } from './config/index.js';
import { poolDb } from './db/client.js';
import { migrate } from './db/migrate.js';
import { createPool } from './db/pool.js';
import { createEmbedder, estimatedWordPieceCounter, type ModelLoadProgress } from './embedding/index.js';
import { collectionLanguages } from './language/index.js';
import { ArticleLibrary } from './library/index.js';
import { createRetriever, type HybridRetriever } from './retrieval/index.js';
import { createReranker, type Reranker } from './retrieval/rerank.js';
import { PgIndexStore } from './store/pg/index.js';
import { createTranscriber, type Transcriber } from './transcription/index.js';
import type { Embedder, QuestionAnswerer } from './types.js';
import type { Logger } from './util/log.js';

/** Everything a front end needs. */
export interface App {
  config: Config;
  embedder: Embedder | null;
  /** One line saying why semantic search is off, when it is. */
  embedderWarning: string | undefined;
  library: ArticleLibrary;
  /** The cross-encoder when RERANK_MODEL is set and loads; the retriever then reranks by default. */
  reranker: Reranker | null;
  /** One line saying why reranking is off although RERANK_MODEL is set. */
  rerankerWarning: string | undefined;
  retriever: HybridRetriever;
  answerer: QuestionAnswerer;
  /** True when answers are written by an LLM (otherwise they are extractive). */
  llmEnabled: boolean;
  /** Voice questions' speech-to-text when TRANSCRIBE_MODEL is set, else null. */
  transcriber: Transcriber | null;
  /** The PostgreSQL pool when DATABASE_URL is set (schema migrated), shared by the stores; null in embedded mode. */
  database: pg.Pool | null;
  close(): void;
}

/** LLM settings when a key or an OpenAI-compatible base URL is configured, else null (extractive mode). */
export function llmOptions(config: Config) {
  const { apiKey, baseURL } = config.llm;
  if (!apiKey && !baseURL) return null;
  // Local OpenAI-compatible servers (Ollama, vLLM, LM Studio) usually accept any key.
  return {
    apiKey: apiKey ?? 'not-needed',
    ...(baseURL ? { baseURL } : {}),
    model: config.llm.model,
    timeoutMs: config.llm.timeoutMs,
    maxRetries: config.llm.maxRetries,
    maxConcurrency: config.llm.maxConcurrency,
  };
}

/** Builds the app. Loading the embedding model (and the reranker, when configured) may take a while, and downloads it on first use. */
export async function createApp(config: Config, logger: Logger, onModelProgress?: (p: ModelLoadProgress) => void): Promise<App> {
  const database = config.database.url ? createPool({ ...config.database, url: config.database.url }, logger) : null;
  if (database) {
    try {
      await migrate(database, undefined, logger);
    } catch (err) {
      await database.end().catch(() => {});
      throw err;
    }
  }
  // The index in PostgreSQL as well (pgvector when the server has it, else hnswlib per process).
  const pg = database
    ? await PgIndexStore.connect(poolDb(database, { ...config.database, url: config.database.url! }, logger), {
        efSearch: config.hnsw.efSearch,
        workerLeaseMs: config.database.workerLeaseMs,
        logger,
      })
    : null;
  const { embedder, warning } = await createEmbedder(config.embedding, config.llm, logger, onModelProgress);
  const { reranker, warning: rerankerWarning } = await createReranker({
    model: config.retrieval.rerankModel,
    quantized: config.embedding.quantized,
    cacheDir: config.embedding.cacheDir,
    localModelDir: config.embedding.localModelDir,
    allowRemoteModels: config.embedding.allowRemoteModels,
    logger,
  });
  const library = new ArticleLibrary({
    articlesDir: config.articlesDir,
    indexDir: config.indexDir,
    embedder,
    embedderUnavailable: embedder === null && config.embedding.provider !== 'none',
    // The same chunk boundaries with or without the model: one arriving later only adds vectors.
    counter: estimatedWordPieceCounter,
    // A chunk longer than the model's input would be silently truncated when embedded.
    chunking: { ...config.chunking, maxTokens: Math.min(config.chunking.maxTokens, embedder?.maxTokens ?? Infinity) },
    hnsw: config.hnsw,
    batchSize: config.embedding.batchSize,
    maxFileBytes: config.telegram.maxUploadBytes,
    fetch: {
      maxBytes: config.telegram.maxUploadBytes,
      timeoutMs: config.telegram.fetchTimeoutMs,
      allowPrivate: config.telegram.allowPrivateUrls,
    },
    logger,
    ...(pg ? { pg } : {}),
  });
  const retriever = createRetriever({ getReader: () => library.searchIndex(), embedder, options: config.retrieval, reranker, logger });
  const llm = llmOptions(config);
  const answerer = createAnswerer({
    retriever,
    llm,
    historyTurns: config.llm.historyTurns,
    languages: {
      collection: () => collectionLanguages(library.searchIndex()?.manifest.languages),
      multilingualRetrieval: embedder?.multilingual === true,
    },
    logger,
  });
  return {
    config,
    embedder,
    embedderWarning: warning,
    library,
    reranker,
    rerankerWarning,
    retriever,
    answerer,
    llmEnabled: llm !== null,
    transcriber: config.transcription ? createTranscriber(config.transcription, logger) : null,
    database,
    close: () => {
      library.close();
      database?.end().catch(() => {});
    },
  };
}
