/**
 * The only module that reads the environment. Everything else receives a typed `Config`.
 */
import { config as loadDotenv } from 'dotenv';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../util/errors.js';
import { likelyMeant } from '../util/text.js';

export { ConfigError } from '../util/errors.js';

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(v), 'expected true or false')
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const num = (min: number, max: number) =>
  z
    .string()
    .trim()
    .refine((v) => v !== '' && Number.isFinite(Number(v)), 'expected a number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));

/** `auto` (parsed as undefined: the library's own choice) or a whole number in range. */
const autoInt = (min: number, max: number) =>
  z
    .string()
    .trim()
    .refine(
      (v) => /^(auto|)$/i.test(v) || (/^\d+$/.test(v) && Number(v) >= min && Number(v) <= max),
      `expected auto or a whole number from ${min} to ${max}`,
    )
    .transform((v) => (/^\d+$/.test(v) ? Number(v) : undefined));

const idList = z
  .string()
  .trim()
  .refine((v) => v === '' || v.split(',').every((s) => /^-?\d+$/.test(s.trim())), 'expected comma-separated numeric ids (not usernames)')
  .transform((v) => (v === '' ? [] : v.split(',').map((s) => Number(s.trim()))));

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v));

const url = z.string().trim().url('expected a URL like https://example.com');

const postgresUrl = optionalString.pipe(
  z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'expected a URL like postgres://user:password@host:5432/database')
    .optional(),
);
const feedUrls = z
  .string()
  .trim()
  .transform((v) =>
    v === ''
      ? []
      : v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
  )
  .refine((list) => list.every((u) => /^https?:\/\/\S+$/i.test(u) && URL.canParse(u)), 'expected comma-separated http(s) feed URLs');

/** Every variable, its parser and default (as a string, parsed like user input). */
const schema = {
  ARTICLES_DIR: [z.string().trim().min(1), 'seeds'],
  INDEX_DIR: [z.string().trim().min(1), 'index-data'],
  STATE_DIR: [z.string().trim().min(1), 'state'],
  LOG_LEVEL: [z.enum(['debug', 'info', 'warn', 'error', 'silent']), 'info'],
  LOG_FILE: [optionalString, ''],

  EMBEDDING_PROVIDER: [z.enum(['transformers', 'openai', 'none']), 'transformers'],
  EMBEDDING_MODEL: [z.string().trim().min(1), 'Xenova/bge-small-en-v1.5'],
  EMBEDDING_POOLING: [z.enum(['auto', 'cls', 'mean']), 'auto'],
  EMBEDDING_QUERY_PREFIX: [optionalString, ''],
  EMBEDDING_BATCH_SIZE: [int(1, 1024), '16'],
  EMBEDDING_QUANTIZED: [bool, 'true'],
  EMBEDDING_THREADS: [autoInt(1, 64), 'auto'],
  MODEL_CACHE_DIR: [z.string().trim().min(1), '.cache/models'],
  LOCAL_MODEL_DIR: [optionalString, ''],
  ALLOW_REMOTE_MODELS: [bool, 'true'],
  OPENAI_EMBEDDING_MODEL: [z.string().trim().min(1), 'text-embedding-3-small'],

  CHUNK_MAX_TOKENS: [int(32, 8192), '256'],
  CHUNK_OVERLAP_SENTENCES: [int(0, 10), '1'],

  HNSW_M: [int(4, 128), '16'],
  HNSW_EF_CONSTRUCTION: [int(10, 2000), '200'],
  HNSW_EF_SEARCH: [int(10, 2000), '100'],

  RETRIEVAL_K: [int(1, 50), '6'],
  DENSE_WEIGHT: [num(0, 10), '1'],
  LEXICAL_WEIGHT: [num(0, 10), '1'],
  MAX_CHUNKS_PER_ARTICLE: [int(1, 50), '3'],
  RERANK_MODEL: [optionalString, ''],

  OPENAI_API_KEY: [optionalString, ''],
  OPENAI_BASE_URL: [optionalString.pipe(url.optional()), ''],
  OPENAI_MODEL: [z.string().trim().min(1), 'gpt-4o-mini'],
  LLM_TIMEOUT_MS: [int(1000, 600000), '60000'],
  LLM_MAX_RETRIES: [int(0, 10), '2'],
  LLM_MAX_CONCURRENCY: [int(1, 256), '4'],
  HISTORY_TURNS: [int(0, 50), '6'],
  TRANSCRIBE_MODEL: [optionalString, ''],
  TRANSCRIBE_BASE_URL: [optionalString.pipe(url.optional()), ''],
  TRANSCRIBE_API_KEY: [optionalString, ''],

  TELEGRAM_BOT_TOKEN: [optionalString, ''],
  TELEGRAM_API_ROOT: [optionalString.pipe(url.optional()), ''],
  ADMIN_USER_IDS: [idList, ''],
  ALLOWED_USER_IDS: [idList, ''],
  ALLOWED_CHAT_IDS: [idList, ''],
  WEBHOOK_URL: [optionalString.pipe(url.optional()), ''],
  WEBHOOK_SECRET: [optionalString, ''],
  WEBHOOK_PORT: [int(1, 65535), '8080'],
  WEBHOOK_HOST: [z.string().trim().min(1), '0.0.0.0'],
  MAX_QUESTION_CHARS: [int(10, 100000), '1000'],
  RATE_LIMIT_PER_MINUTE: [int(1, 10000), '10'],
  CONVERSATION_TTL_MINUTES: [int(1, 100000), '120'],
  MAX_UPLOAD_BYTES: [int(1, 2000000000), '20000000'],
  FETCH_TIMEOUT_MS: [int(100, 600000), '15000'],
  ALLOW_PRIVATE_URLS: [bool, 'false'],

  DATABASE_URL: [postgresUrl, ''],
  DATABASE_POOL_MAX: [int(1, 1000), '10'],
  DATABASE_CONNECT_TIMEOUT_MS: [int(100, 600000), '5000'],
  DATABASE_QUESTION_CONCURRENCY: [int(0, 1000), '0'],
  DATABASE_QUESTION_WAIT_MS: [int(100, 600000), '60000'],
  WORKER_LEASE_SECONDS: [int(1, 86400), '60'],
  PG_SEARCH: [z.enum(['local', 'database']), 'local'],

  METRICS_PORT: [optionalString.pipe(int(1, 65535).optional()), ''],
  METRICS_HOST: [z.string().trim().min(1), '127.0.0.1'],
  METRICS_TOKEN: [optionalString, ''],

  FEED_URLS: [feedUrls, ''],
  FEED_POLL_MINUTES: [int(1, 1440), '15'],

  QUESTION_LOG_DAYS: [int(0, 3650), '30'],
  GAPS_DIGEST: [z.enum(['off', 'weekly']), 'off'],
  CORRECTIONS_NOTICE: [bool, 'false'],
  CORRECTIONS_DAYS: [int(1, 365), '14'],
  QUESTION_LOG_SECRET: [optionalString.pipe(z.string().min(16, 'use at least 16 characters (a random string)').optional()), ''],
} as const;

type Schema = typeof schema;
type Raw = { [K in keyof Schema]: z.output<Schema[K][0]> };

/** The validated configuration. Paths are absolute. */
export interface Config {
  articlesDir: string;
  indexDir: string;
  /** Bot state that must survive restarts (conversations); not rebuildable from articles. */
  stateDir: string;
  logLevel: Raw['LOG_LEVEL'];
  /** Where JSON log lines go: a file, `-` for stderr, or undefined for the default (see `logTarget` in src/cli/main.ts). */
  logFile: string | undefined;
  embedding: {
    provider: Raw['EMBEDDING_PROVIDER'];
    model: string;
    pooling: Raw['EMBEDDING_POOLING'];
    queryPrefix: string | undefined;
    batchSize: number;
    quantized: boolean;
    /** Threads a local model computes with: one-thread sessions side by side for documents (one thread in all when 1); undefined: one per core. */
    threads: number | undefined;
    cacheDir: string;
    localModelDir: string | undefined;
    allowRemoteModels: boolean;
    openaiModel: string;
  };
  chunking: { maxTokens: number; overlapSentences: number };
  hnsw: { m: number; efConstruction: number; efSearch: number };
  retrieval: {
    k: number;
    denseWeight: number;
    lexicalWeight: number;
    maxChunksPerArticle: number;
    rerankModel: string | undefined;
  };
  llm: {
    apiKey: string | undefined;
    baseURL: string | undefined;
    model: string;
    timeoutMs: number;
    maxRetries: number;
    maxConcurrency: number;
    historyTurns: number;
  };
  /**
   * Voice questions: an OpenAI-compatible /audio/transcriptions endpoint (OpenAI's, or a local
   * faster-whisper or whisper.cpp server). Null when TRANSCRIBE_MODEL is not set: voice is off.
   */
  transcription: { model: string; baseURL: string | undefined; apiKey: string | undefined; timeoutMs: number } | null;
  telegram: {
    token: string | undefined;
    apiRoot: string | undefined;
    adminUserIds: number[];
    allowedUserIds: number[];
    allowedChatIds: number[];
    webhookUrl: string | undefined;
    webhookSecret: string | undefined;
    webhookPort: number;
    /** Interface the webhook server listens on (127.0.0.1 behind a reverse proxy on the same machine). */
    webhookHost: string;
    maxQuestionChars: number;
    rateLimitPerMinute: number;
    conversationTtlMinutes: number;
  };
  /** What is taken in from outside (uploads, /add, feeds), whichever front end or poller takes it. */
  intake: {
    /** Largest upload, fetched page and article file read (MAX_UPLOAD_BYTES). */
    maxUploadBytes: number;
    /** Longest fetch of a page, a feed or a Telegram file download. */
    fetchTimeoutMs: number;
    /** Lets /add and feeds fetch private and loopback addresses (tests, intranets). */
    allowPrivateUrls: boolean;
  };
  database: {
    /** PostgreSQL connection string; undefined = embedded mode (index and state in local files). */
    url: string | undefined;
    /** Most connections one process opens. */
    poolMax: number;
    /** Longest wait for a connection (new, or free in a full pool) before the operation fails. */
    connectTimeoutMs: number;
    /** Questions searching the database at once; 0 = from the pool size (`questionConcurrency`). */
    questionConcurrency: number;
    /** Longest a question should wait for its turn; the question queue holds what is served within it. */
    questionWaitMs: number;
    /** How long a claimed embedding batch stays reserved for its worker (a killed worker's batch is claimed again after it). */
    workerLeaseMs: number;
    /**
     * Where searches run: 'local' (each replica serves a local copy of the published generation,
     * under INDEX_DIR/pg-local; docs/postgresql.md) or 'database' (BM25, and pgvector when the
     * server has it, in PostgreSQL).
     */
    search: 'local' | 'database';
  };
  /** /healthz, /readyz and /metrics (docs/observability.md). */
  metrics: {
    /** Serve them on their own server at host:port (any mode); unset: only on the webhook server. */
    port: number | undefined;
    host: string;
    /** Bearer token /metrics requires when set; without it /metrics is served on loopback addresses only. */
    token: string | undefined;
  };
  /** RSS / Atom / JSON Feed sources (more can be added from the chat; those live in the state folder). */
  feeds: { urls: string[]; pollMinutes: number };
  /** The editors' desk (src/desk): the question log and what reads it. */
  desk: {
    /** Days questions are kept; 0 turns the log off (and deletes what it holds). */
    questionLogDays: number;
    /** HMAC key for readers' hashes; undefined: a random per-installation key kept in the state. */
    questionLogSecret: string | undefined;
    /** `weekly`: admins get the /gaps summary once a week (in their private chats). */
    gapsDigest: 'off' | 'weekly';
    /** Tell chats when an article an answer cited them was updated or withdrawn (opt-in). */
    correctionsNotice: boolean;
    /** How far back such answers count, in days. */
    correctionsDays: number;
  };
}

/** Names of every variable the product reads (documented in .env.example and the README). */
export const CONFIG_VARIABLES = Object.keys(schema) as (keyof Schema)[];

/**
 * Variables read outside `Config`, also documented in .env.example and the README. DEBUG: any
 * value prints the stack of an unexpected error (read when the command fails, even before a
 * config could be made); `DEBUG=grammy*` also turns on grammY's own debug lines.
 */
export const OTHER_VARIABLES = ['DEBUG'] as const;

/** True when DEBUG asks for stack traces of unexpected errors. */
export function debugEnabled(env: Record<string, string | undefined> = process.env): boolean {
  return (env.DEBUG ?? '').trim() !== '';
}

/**
 * Builds a `Config` from an environment object. Relative paths resolve against `cwd`.
 * Throws `ConfigError` with a one-line message naming the first bad variable.
 */
export function parseConfig(env: Record<string, string | undefined>, cwd = process.cwd()): Config {
  const raw: Record<string, unknown> = {};
  for (const name of CONFIG_VARIABLES) {
    const [parser, fallback] = schema[name];
    const given = env[name];
    const value = given === undefined || given.trim() === '' ? fallback : given;
    const result = (parser as z.ZodTypeAny).safeParse(value);
    if (!result.success) {
      const issue = result.error.issues[0];
      if (issue?.code === 'invalid_enum_value') throw new ConfigError(choiceProblem(name, value, issue.options.map(String)));
      const why = issue?.message ?? 'invalid value';
      throw new ConfigError(`Invalid ${name}=${JSON.stringify(redactIfSecret(name, value))}: ${why}.`);
    }
    raw[name] = result.data;
  }
  const r = raw as Raw;
  const abs = (p: string) => path.resolve(cwd, p);
  if (r.WEBHOOK_URL && !r.WEBHOOK_SECRET) {
    throw new ConfigError('WEBHOOK_SECRET must be set when WEBHOOK_URL is set (Telegram sends it back so forged updates are refused).');
  }
  return {
    articlesDir: abs(r.ARTICLES_DIR),
    indexDir: abs(r.INDEX_DIR),
    stateDir: abs(r.STATE_DIR),
    logLevel: r.LOG_LEVEL,
    logFile: r.LOG_FILE === undefined || r.LOG_FILE === '-' ? r.LOG_FILE : abs(r.LOG_FILE),
    embedding: {
      provider: r.EMBEDDING_PROVIDER,
      model: r.EMBEDDING_MODEL,
      pooling: r.EMBEDDING_POOLING,
      queryPrefix: r.EMBEDDING_QUERY_PREFIX,
      batchSize: r.EMBEDDING_BATCH_SIZE,
      quantized: r.EMBEDDING_QUANTIZED,
      threads: r.EMBEDDING_THREADS,
      cacheDir: abs(r.MODEL_CACHE_DIR),
      localModelDir: r.LOCAL_MODEL_DIR ? abs(r.LOCAL_MODEL_DIR) : undefined,
      allowRemoteModels: r.ALLOW_REMOTE_MODELS,
      openaiModel: r.OPENAI_EMBEDDING_MODEL,
    },
    chunking: { maxTokens: r.CHUNK_MAX_TOKENS, overlapSentences: r.CHUNK_OVERLAP_SENTENCES },
    hnsw: { m: r.HNSW_M, efConstruction: r.HNSW_EF_CONSTRUCTION, efSearch: r.HNSW_EF_SEARCH },
    retrieval: {
      k: r.RETRIEVAL_K,
      denseWeight: r.DENSE_WEIGHT,
      lexicalWeight: r.LEXICAL_WEIGHT,
      maxChunksPerArticle: r.MAX_CHUNKS_PER_ARTICLE,
      rerankModel: r.RERANK_MODEL,
    },
    llm: {
      apiKey: r.OPENAI_API_KEY,
      baseURL: r.OPENAI_BASE_URL,
      model: r.OPENAI_MODEL,
      timeoutMs: r.LLM_TIMEOUT_MS,
      maxRetries: r.LLM_MAX_RETRIES,
      maxConcurrency: r.LLM_MAX_CONCURRENCY,
      historyTurns: r.HISTORY_TURNS,
    },
    transcription: transcription(r),
    telegram: {
      token: r.TELEGRAM_BOT_TOKEN,
      apiRoot: r.TELEGRAM_API_ROOT,
      adminUserIds: r.ADMIN_USER_IDS,
      allowedUserIds: r.ALLOWED_USER_IDS,
      allowedChatIds: r.ALLOWED_CHAT_IDS,
      webhookUrl: r.WEBHOOK_URL,
      webhookSecret: r.WEBHOOK_SECRET,
      webhookPort: r.WEBHOOK_PORT,
      webhookHost: r.WEBHOOK_HOST,
      maxQuestionChars: r.MAX_QUESTION_CHARS,
      rateLimitPerMinute: r.RATE_LIMIT_PER_MINUTE,
      conversationTtlMinutes: r.CONVERSATION_TTL_MINUTES,
    },
    intake: {
      maxUploadBytes: r.MAX_UPLOAD_BYTES,
      fetchTimeoutMs: r.FETCH_TIMEOUT_MS,
      allowPrivateUrls: r.ALLOW_PRIVATE_URLS,
    },
    database: {
      url: r.DATABASE_URL,
      poolMax: r.DATABASE_POOL_MAX,
      connectTimeoutMs: r.DATABASE_CONNECT_TIMEOUT_MS,
      questionConcurrency: r.DATABASE_QUESTION_CONCURRENCY,
      questionWaitMs: r.DATABASE_QUESTION_WAIT_MS,
      workerLeaseMs: r.WORKER_LEASE_SECONDS * 1000,
      search: r.PG_SEARCH,
    },
    metrics: { port: r.METRICS_PORT, host: r.METRICS_HOST, token: r.METRICS_TOKEN },
    feeds: { urls: r.FEED_URLS, pollMinutes: r.FEED_POLL_MINUTES },
    desk: {
      questionLogDays: r.QUESTION_LOG_DAYS,
      questionLogSecret: r.QUESTION_LOG_SECRET,
      gapsDigest: r.GAPS_DIGEST,
      correctionsNotice: r.CORRECTIONS_NOTICE,
      correctionsDays: r.CORRECTIONS_DAYS,
    },
  };
}

/** The transcription settings: the LLM's base URL and key unless their own are given. */
function transcription(r: Raw): Config['transcription'] {
  if (!r.TRANSCRIBE_MODEL) return null;
  const baseURL = r.TRANSCRIBE_BASE_URL ?? r.OPENAI_BASE_URL;
  const apiKey = r.TRANSCRIBE_API_KEY ?? r.OPENAI_API_KEY;
  if (!baseURL && !apiKey) {
    throw new ConfigError(
      'TRANSCRIBE_MODEL is set but there is no service to send audio to: set TRANSCRIBE_BASE_URL (a local whisper server) or an API key (TRANSCRIBE_API_KEY or OPENAI_API_KEY).',
    );
  }
  return { model: r.TRANSCRIBE_MODEL, baseURL, apiKey, timeoutMs: r.LLM_TIMEOUT_MS };
}

/** A bad choice in plain words: `EMBEDDING_PROVIDER must be one of: transformers, openai, none (got "foo").` */
function choiceProblem(name: string, value: string, options: string[]): string {
  const meant = likelyMeant(value.trim(), options);
  return `${name} must be one of: ${options.join(', ')} (got ${JSON.stringify(value)}${meant ? `; did you mean ${meant}?` : ''}).`;
}

function redactIfSecret(name: string, value: string): string {
  if (/KEY|TOKEN|SECRET/.test(name)) return '***';
  return name === 'DATABASE_URL' ? value.replace(/(:\/\/[^:/@]*:)[^@]*@/, '$1***@') : value;
}

/** The password inside a connection string, if it has one. */
/** The password of a database URL, both as the URL spells it (percent-encoded) and decoded: a log line may quote either. */
function urlPassword(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const raw = new URL(url).password;
    return raw ? [...new Set([raw, decodeURIComponent(raw)])] : [];
  } catch {
    return [];
  }
}

/** Reads `.env` (if present) into the environment, then parses it. */
export function loadConfig(cwd = process.cwd()): Config {
  loadDotenv({ path: path.join(cwd, '.env'), quiet: true });
  return parseConfig(process.env, cwd);
}

/** Values that must never appear in logs or replies. */
export function secretsOf(config: Config): string[] {
  return [
    config.telegram.token,
    config.llm.apiKey,
    config.transcription?.apiKey,
    config.telegram.webhookSecret,
    config.metrics.token,
    ...urlPassword(config.database.url),
    config.desk.questionLogSecret,
  ].filter((s): s is string => typeof s === 'string' && s.length >= 6);
}
