/**
 * The bot's state as the handlers see it: conversation memory, quote keys, the rate limit, the
 * kept undelivered answers, counters and the admin audit trail. Two implementations: one process
 * on its own (SQLite under STATE_DIR, in-memory limiter and kept answers; `sqliteBotState`) and
 * several replicas sharing PostgreSQL (`pgBotState` in pg-state.ts), where a follow-up, a quote
 * button or a rate-limit window works whichever replica the update reaches. Methods may answer at
 * once (SQLite) or later (a database round trip); handlers await both.
 */
import type { ReindexJobs } from '../db/reindex-jobs.js';
import type { Citation } from '../types.js';
import { type AuditEntry, AuditTrail } from './audit.js';
import { SqliteChatLanguages } from './chat-languages.js';
import { type ConversationContext, ConversationStore } from './conversations.js';
import { QuoteStore } from './quote-store.js';
import { type RateDecision, RateLimiter } from './ratelimit.js';
import { Counters, openStateDb } from './state.js';
import { type UndeliveredAnswer, UndeliveredAnswers } from './undelivered.js';

export type { AuditEntry } from './audit.js';

/** A value now or later. */
export type Awaitable<T> = T | Promise<T>;

/** Per-chat conversation memory (see conversations.ts for the model: exchanges, heads, links). */
export interface ConversationMemory {
  contextFor(chatId: number, replyToMessageId?: number): Awaitable<ConversationContext>;
  record(chatId: number, parentId: number | null, question: string, answer: string): Awaitable<number>;
  linkMessages(chatId: number, messageIds: readonly number[], exchangeId: number): Awaitable<void>;
  reset(chatId: number): Awaitable<void>;
}

/** Citations behind "Show quotes" buttons. */
export interface QuoteKeys {
  save(chatId: number, citations: readonly Citation[]): Awaitable<string>;
  load(chatId: number, key: string): Awaitable<Citation[] | null>;
}

/** The per-user rate limit. */
export interface RateGate {
  hit(userId: number): Awaitable<RateDecision>;
}

/** The last undelivered answer per chat, for "try again". */
export interface KeptAnswers {
  keep(chatId: number, item: UndeliveredAnswer): Awaitable<void>;
  has(chatId: number): Awaitable<boolean>;
  take(chatId: number): Awaitable<UndeliveredAnswer | undefined>;
}

/** Persisted counters (questions answered). */
export interface CounterStore {
  increment(name: string, by?: number): Awaitable<number>;
  get(name: string): Awaitable<number>;
}

/** The admin audit trail: who added, removed or reindexed what, and when. */
export interface AuditLog {
  record(entry: AuditEntry): Awaitable<void>;
  /** The newest `limit` entries, newest first. */
  recent(limit: number): Awaitable<AuditEntry[]>;
}

/** The language each chat chose with /language (absent: the reader's Telegram language decides). */
export interface ChatLanguages {
  /** The chat's chosen language (a shipped locale), or null when it chose none. */
  get(chatId: number): Awaitable<string | null>;
  /** Records the chat's choice; null forgets it (back to the Telegram language). */
  set(chatId: number, lang: string | null): Awaitable<void>;
}

/** Every store the bot uses, and how to close them. */
export interface BotState {
  conversations: ConversationMemory;
  quotes: QuoteKeys;
  rateLimiter: RateGate;
  undelivered: KeptAnswers;
  counters: CounterStore;
  audit: AuditLog;
  /** The language each chat chose (/language). */
  languages: ChatLanguages;
  /** Reindex jobs shared by replicas (PostgreSQL mode); null when this process is the only one. */
  reindexJobs: ReindexJobs | null;
  /** Stops using the stores (late writers are ignored); does not end a shared database pool. */
  close(): Awaitable<void>;
}

/**
 * What the bot derives from its config for its state: the composition root's opener adds
 * `historyTurns` (HISTORY_TURNS, the number the answerer uses too).
 */
export type BotStateSettings = Omit<StateSettings, 'historyTurns'>;

/** How long things are kept and how fast users may ask; shared by both implementations. */
export interface StateSettings {
  conversationTtlMs: number;
  historyTurns: number;
  quoteTtlMs: number;
  undeliveredTtlMs: number;
  rateLimitPerMinute: number;
}

/** The one-process state: SQLite in `stateDir` (conversations, quotes, counters, audit), the limiter and kept answers in memory. */
export function sqliteBotState(stateDir: string, settings: StateSettings, now: () => number = Date.now): BotState {
  const db = openStateDb(stateDir);
  return {
    conversations: new ConversationStore(db, { ttlMs: settings.conversationTtlMs, maxTurns: settings.historyTurns, now }),
    quotes: new QuoteStore(db, settings.quoteTtlMs, now),
    rateLimiter: new RateLimiter(settings.rateLimitPerMinute, 60_000, now),
    undelivered: new UndeliveredAnswers(settings.undeliveredTtlMs, 1000, now),
    counters: new Counters(db),
    audit: new AuditTrail(db),
    languages: new SqliteChatLanguages(db, now),
    reindexJobs: null,
    close: () => db.close(),
  };
}
