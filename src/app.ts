/**
 * The composition root: builds every stage from one `Config` and wires them together.
 * Front ends (terminal, Telegram, eval, bench) get an `App` and use only its public parts.
 *
 * It is also the one place that chooses where state lives. Without DATABASE_URL everything is
 * embedded (files and SQLite under INDEX_DIR and STATE_DIR); with it, PostgreSQL holds all of it
 * and several replicas share it. Each kind of state is an interface with both implementations
 * (see `StateStores` and docs/architecture.md, "Seams"); no feature checks which one it has.
 */
import { createAnswerer } from './answering/index.js';
import type pg from 'pg';
import { type AlertStore, PgAlertStore, SqliteAlertStore } from './alerts/index.js';
import { outageTolerantState } from './bot/outage-state.js';
import { pgBotState } from './bot/pg-state.js';
import { type BotState, type BotStateSettings, sqliteBotState } from './bot/stores.js';
import type { Config } from './config/index.js';
import { QuestionQueue, questionConcurrency, watchQuestionQueue } from './db/admission.js';
import { poolDb } from './db/client.js';
import { migrate } from './db/migrate.js';
import { createPool } from './db/pool.js';
import { type CorrectionReceipts, PgReceipts, SqliteReceipts } from './desk/corrections.js';
import { QuestionDesk } from './desk/desk.js';
import { type QuestionLog, SqliteQuestionLog } from './desk/log.js';
import { PgQuestionLog } from './desk/pg-log.js';
import { createEmbedder, estimatedWordPieceCounter, type ModelLoadProgress } from './embedding/index.js';
import { type FeedStore, PgFeedStore, SqliteFeedStore } from './feeds/index.js';
import { collectionLanguages } from './language/index.js';
import { FileSources } from './library/file-sources.js';
import { ArticleLibrary } from './library/index.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { PgSources } from './library/pg-sources.js';
import type { ArticleSources } from './library/sources.js';
import { MIGRATIONS } from './schema.js';
import { createRetriever, type HybridRetriever } from './retrieval/index.js';
import { createReranker, type Reranker } from './retrieval/rerank.js';
import { fileIndexStore } from './store/index-store.js';
import { canStartOffline, PgIndexStore } from './store/pg/index.js';
import { DatabaseUnavailableError, errorMessage } from './util/errors.js';
import { createTranscriber, type Transcriber } from './transcription/index.js';
import type { Embedder, QuestionAnswerer } from './types.js';
import type { Logger } from './util/log.js';
import path from 'node:path';

/**
 * Where the state besides the index lives, chosen once (`createApp`): embedded (SQLite and files
 * under STATE_DIR) or PostgreSQL (shared by replicas). Each opener returns an interface both
 * implementations satisfy; the contract suites under test/ run every one against both.
 */
export interface StateStores {
  /** The bot's conversations (keeping HISTORY_TURNS turns), quote keys, rate limits, kept answers, counters and audit trail. */
  bot(settings: BotStateSettings): BotState;
  /** The feeds (FEED_URLS merged in), their leases and handled items. */
  feeds(): Promise<FeedStore>;
  /** Topic alerts: follows, looked-at articles, the outbox and its send pace. */
  alerts(): Promise<AlertStore>;
  /** Articles added in the chat or by a feed. */
  sources: ArticleSources;
  /** The editors' desk: the question log (no raw ids) and the correction receipts. */
  questions: QuestionLog;
  receipts(): CorrectionReceipts;
}

/** The embedded state: SQLite files and a sources folder under `stateDir`. */
function embeddedState(config: Config): StateStores {
  return {
    bot: (settings) => sqliteBotState(config.stateDir, { ...settings, historyTurns: config.llm.historyTurns }),
    feeds: async () => SqliteFeedStore.open(config.stateDir, config.feeds.urls),
    alerts: async () => SqliteAlertStore.open(config.stateDir),
    sources: new FileSources(path.join(config.stateDir, 'sources')),
    questions: new SqliteQuestionLog(config.stateDir),
    receipts: () => new SqliteReceipts(config.stateDir),
  };
}

/** The shared state: every store in the PostgreSQL database (migrated). */
function postgresState(config: Config, pool: pg.Pool, logger: Logger): StateStores {
  return {
    // While the database is away, a replica keeps a reader's rate limit and conversation itself.
    bot: (settings) =>
      outageTolerantState(
        pgBotState(pool, { ...settings, historyTurns: config.llm.historyTurns }),
        () => sqliteBotState(path.join(config.stateDir, 'outage'), { ...settings, historyTurns: config.llm.historyTurns }),
        logger,
      ),
    feeds: () => PgFeedStore.open(pool, config.feeds.urls),
    alerts: () => PgAlertStore.open(pool),
    sources: new PgSources(pool),
    questions: new PgQuestionLog(pool),
    receipts: () => new PgReceipts(pool),
  };
}

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
  /** PostgreSQL mode: the queue questions wait in before they search (`retriever` goes through it); null in embedded mode. */
  questionQueue: QuestionQueue | null;
  /** This app's Prometheus metrics (its own registry); every stage built here reports into it through its logger. */
  metrics: Metrics;
  /** Where the bot's, the feeds' and the alerts' state and the stored article sources live. */
  state: StateStores;
  /** The question log (PostgreSQL with a database, else SQLite in STATE_DIR) and its views. */
  desk: QuestionDesk;
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
export async function createApp(config: Config, baseLogger: Logger, onModelProgress?: (p: ModelLoadProgress) => void): Promise<App> {
  const metrics = createMetrics();
  const logger = metrics.observing(baseLogger);
  const database = config.database.url ? createPool({ ...config.database, url: config.database.url }, logger) : null;
  if (database) {
    try {
      await migrate(database, MIGRATIONS, logger);
    } catch (err) {
      const localDir = path.join(config.indexDir, 'pg-local');
      if (!(err instanceof DatabaseUnavailableError && canStartOffline({ search: config.database.search, localDir }))) {
        await database.end().catch(() => {});
        throw err;
      }
      // A replica with a local copy of the index starts on it while the database is away.
      logger.warn('db.unreachable_at_start', { problem: errorMessage(err), action: 'serving the local copy; migrating once it is back' });
      migrateWhenBack(database, logger);
    }
  }
  // The index in PostgreSQL as well (pgvector when the server has it, else hnswlib per process).
  const pg = database
    ? await PgIndexStore.connect(poolDb(database, { ...config.database, url: config.database.url! }, logger), {
        efSearch: config.hnsw.efSearch,
        workerLeaseMs: config.database.workerLeaseMs,
        search: config.database.search,
        localDir: path.join(config.indexDir, 'pg-local'),
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
  const state = database ? postgresState(config, database, logger) : embeddedState(config);
  const library = new ArticleLibrary({
    sources: state.sources,
    articlesDir: config.articlesDir,
    index: pg ?? fileIndexStore(config.indexDir, config.hnsw.efSearch),
    embedder,
    embedderUnavailable: embedder === null && config.embedding.provider !== 'none',
    // The same chunk boundaries with or without the model: one arriving later only adds vectors.
    counter: estimatedWordPieceCounter,
    // A chunk longer than the model's input would be silently truncated when embedded.
    chunking: { ...config.chunking, maxTokens: Math.min(config.chunking.maxTokens, embedder?.maxTokens ?? Infinity) },
    hnsw: config.hnsw,
    batchSize: config.embedding.batchSize,
    maxFileBytes: config.intake.maxUploadBytes,
    fetch: {
      maxBytes: config.intake.maxUploadBytes,
      timeoutMs: config.intake.fetchTimeoutMs,
      allowPrivate: config.intake.allowPrivateUrls,
    },
    logger,
    ...(pg ? { pg } : {}),
  });
  metrics.watchLibrary(() => (library.searchIndex() ? library.stats() : null));
  const searcher = createRetriever({ getReader: () => library.searchIndex(), embedder, options: config.retrieval, reranker, logger });
  // A burst of questions waits its turn here rather than for a pool connection (which times out).
  const questionQueue = database
    ? new QuestionQueue(
        {
          concurrency: config.database.questionConcurrency || questionConcurrency(config.database.poolMax),
          maxWaitMs: config.database.questionWaitMs,
        },
        logger,
      )
    : null;
  if (questionQueue) watchQuestionQueue(metrics, questionQueue);
  const retriever: HybridRetriever = questionQueue
    ? {
        retrieve: (query, o) => questionQueue.run(() => searcher.retrieve(query, o)),
        retrieveDetailed: (query, o) => questionQueue.run(() => searcher.retrieveDetailed(query, o)),
      }
    : searcher;
  const llm = llmOptions(config);
  const desk = new QuestionDesk(
    state.questions,
    { retentionDays: config.desk.questionLogDays, secret: config.desk.questionLogSecret },
    logger,
  );
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
    questionQueue,
    metrics,
    state,
    desk,
    close: () => {
      void desk.close();
      library.close();
      database?.end().catch(() => {});
    },
  };
}

/** Runs the migrations once the database answers again (every 2 s until then; never keeps the process alive). */
function migrateWhenBack(database: pg.Pool, logger: Logger): void {
  const attempt = () => {
    migrate(database, MIGRATIONS, logger).then(
      () => logger.info('db.migrated_after_outage', {}),
      (err: unknown) => {
        if (err instanceof DatabaseUnavailableError) setTimeout(attempt, 2000).unref();
        else logger.error('db.migrate_failed', { problem: errorMessage(err) });
      },
    );
  };
  setTimeout(attempt, 2000).unref();
}
