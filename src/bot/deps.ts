/**
 * Everything a handler needs, built once in `createBot` and passed to each
 * feature's Composer, so handlers stay plain functions that are easy to follow.
 */
import type { Config } from '../config/index.js';
import type { TopicAlerts } from '../alerts/index.js';
import type { FeedPoller } from '../feeds/index.js';
import type { ArticleSearch } from '../search/index.js';
import type { CorrectionNotices, QuestionDesk } from '../desk/index.js';
import type { Transcriber } from '../transcription/index.js';
import type { Embedder, Library, QuestionAnswerer } from '../types.js';
import type { Logger } from '../util/log.js';
import type { FileSource } from './files.js';
import type { BotState } from './stores.js';
import type { TaskTracker } from './tasks.js';

/** Timings and sizes with production defaults; tests shorten some of them. */
export interface BotTuning {
  /** Minimum gap between edits of one message (previews, reindex progress). */
  editIntervalMs: number;
  /** Minimum gap between message drafts. */
  draftIntervalMs: number;
  /** How often "typing" is re-sent while an answer is produced. */
  typingIntervalMs: number;
  /** How long `stop()` waits for answers in progress. */
  shutdownTimeoutMs: number;
  /** How long "Show quotes" buttons keep working. */
  quoteTtlMs: number;
  /** How long an answer that could not be sent is kept for "try again". */
  undeliveredTtlMs: number;
  /** Articles per /sources page. */
  sourcesPageSize: number;
  /** Alert delivery: gap between two messages to one chat, and between any two (Telegram: 1/s per chat, ~30/s per bot). */
  alertPerChatMs: number;
  alertGlobalMs: number;
}

/** Production defaults for `BotTuning`. */
export const DEFAULT_TUNING: BotTuning = {
  editIntervalMs: 1000,
  draftIntervalMs: 400,
  typingIntervalMs: 4000,
  shutdownTimeoutMs: 10_000,
  quoteTtlMs: 24 * 60 * 60 * 1000,
  undeliveredTtlMs: 15 * 60 * 1000,
  sourcesPageSize: 10,
  alertPerChatMs: 1000,
  alertGlobalMs: 40,
};

/** The editors' desk as the bot holds it: the question log, and the embedding model /gaps may use. */
export interface BotDesk {
  questions: QuestionDesk;
  embedder: Embedder | null;
  /** Correction notices (CORRECTIONS_NOTICE=true): answered chats' receipts are kept; null when off. */
  corrections?: CorrectionNotices | null;
  /** GAPS_DIGEST: how often admins get the /gaps summary (a week), and how often it is checked; null/absent: never. */
  digest?: { everyMs: number; tickMs: number } | null;
}

/** A reindex in progress, as the library reports it. */
export interface ReindexStatus {
  full: boolean;
  /** Date.now() when it started. */
  startedAt: number;
}

/**
 * The `Library` as the bot drives it. The library is the one owner of "a reindex is running"
 * (whoever started it: /reindex, /add, /remove); /reindex asks it before starting another.
 */
export interface BotLibrary extends Library {
  /** The reindex running in this process, or null. */
  reindexStatus(): ReindexStatus | null;
}

/**
 * Shared state and services for handlers: every store of `BotState` (conversations, quote keys,
 * the per-user rate limit, kept undelivered answers, counters, the audit log, shared reindex jobs)
 * plus the services below.
 */
export interface BotDeps extends Omit<BotState, 'close'> {
  config: Config['telegram'];
  /** Upload size and fetch time limits. */
  intake: Pick<Config['intake'], 'maxUploadBytes' | 'fetchTimeoutMs'>;
  answerer: QuestionAnswerer;
  library: BotLibrary;
  /** Speech-to-text for voice questions; null when TRANSCRIBE_MODEL is not set. */
  transcriber: Transcriber | null;
  log: Logger;
  tuning: BotTuning;
  files: FileSource;
  /** Background jobs (reindex) that shutdown waits for. */
  jobs: TaskTracker;
  startedAt: number;
  answeredSinceStart: number;
  /** Feed polling, run while the bot runs (null when the bot was built without it). */
  feeds: FeedPoller | null;
  /** Topic alerts (follows and the outbox; null when the bot was built without them). */
  alerts: TopicAlerts | null;
  /** Inline-mode search (null: inline queries get no results). */
  search: ArticleSearch | null;
  /** The editors' desk: question log, feedback, /gaps (null: questions are not logged). */
  desk: BotDesk | null;
}
