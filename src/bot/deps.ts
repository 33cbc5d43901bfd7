/**
 * Everything a handler needs, built once in `createBot` and passed to each
 * handler explicitly, so handlers stay plain functions that are easy to follow.
 */
import type { Config } from '../config/index.js';
import type { Library, QuestionAnswerer } from '../types.js';
import type { Logger } from '../util/log.js';
import type { ConversationStore } from './conversations.js';
import type { FileSource } from './files.js';
import type { QuoteStore } from './quotes.js';
import type { Counters } from './state.js';
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
  /** History turns (user + assistant messages) handed to the answerer. */
  historyTurns: number;
  /** How long "Show quotes" buttons keep working. */
  quoteTtlMs: number;
  /** Articles per /sources page. */
  sourcesPageSize: number;
  /** Interface the webhook server binds to. */
  webhookHost: string;
}

/** Production defaults for `BotTuning`. */
export const DEFAULT_TUNING: BotTuning = {
  editIntervalMs: 1000,
  draftIntervalMs: 400,
  typingIntervalMs: 4000,
  shutdownTimeoutMs: 10_000,
  historyTurns: 6,
  quoteTtlMs: 24 * 60 * 60 * 1000,
  sourcesPageSize: 10,
  webhookHost: '0.0.0.0',
};

/** A reindex started from the chat, while it runs. */
export interface ReindexJob {
  full: boolean;
  startedAt: number;
}

/** Shared state and services for handlers. */
export interface BotDeps {
  config: Config['telegram'];
  answerer: QuestionAnswerer;
  library: Library;
  log: Logger;
  conversations: ConversationStore;
  quotes: QuoteStore;
  counters: Counters;
  tuning: BotTuning;
  files: FileSource;
  /** Background jobs (reindex) that shutdown waits for. */
  jobs: TaskTracker;
  startedAt: number;
  answeredSinceStart: number;
  reindexing: ReindexJob | null;
}
