/**
 * The bot's shared state (PostgreSQL) with a local stand-in for while the database is away. A
 * reader's question needs the rate limit, the conversation and the quote keys before and after
 * the search; when the database cannot be reached, those go to a store of this process instead
 * (`fallback`: SQLite under STATE_DIR, the limiter in memory), so the replica keeps answering from
 * what it has instead of apologising. What is written during the outage stays in this replica
 * (a follow-up that reaches another replica starts afresh; the counter misses those questions).
 *
 * After a failure the database is not asked again for `retryMs` (each call would otherwise wait
 * for its own refused or timed-out connection); the first call after that tries it again, and the
 * first one that succeeds ends the outage. One warn line when an outage starts, one info line when
 * it ends. Admin writes (the audit trail, reindex jobs) are not redirected: they fail with the
 * database's one-line message, which the admin commands show.
 */
import type { Citation } from '../types.js';
import { DatabaseUnavailableError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { ConversationContext } from './conversations.js';
import type { RateDecision } from './ratelimit.js';
import type { BotState } from './stores.js';
import type { UndeliveredAnswer } from './undelivered.js';

/** How long after a failure the database is left alone before the next call tries it. */
export const OUTAGE_RETRY_MS = 5000;

/** `primary` with `fallback()` (opened on first need) standing in while the database is unreachable. */
export function outageTolerantState(
  primary: BotState,
  fallback: () => BotState,
  logger: Logger,
  options: { retryMs?: number; now?: () => number } = {},
): BotState {
  const retryMs = options.retryMs ?? OUTAGE_RETRY_MS;
  const now = options.now ?? Date.now;
  let local: BotState | null = null;
  let downUntil = 0;
  let down = false;
  let since = 0;
  let served = 0;
  const standIn = () => {
    local ??= fallback();
    return local;
  };
  // Exchange ids the stand-in gave out: a follow-up of one, or a message linked to one, stays there.
  const localExchanges = new Set<number>();

  /** Runs `op` on the database, or on the stand-in while it is away. */
  async function either<T>(op: (s: BotState) => T | Promise<T>): Promise<T> {
    if (!down || now() >= downUntil) {
      try {
        const result = await op(primary);
        if (down) {
          down = false;
          logger.info('bot.state_restored', { outage_ms: now() - since, served_locally: served });
        }
        return result;
      } catch (err) {
        if (!(err instanceof DatabaseUnavailableError)) throw err;
        if (!down) {
          down = true;
          since = now();
          served = 0;
          logger.warn('bot.state_degraded', { error: err.message, retry_ms: retryMs });
        }
        downUntil = now() + retryMs;
      }
    }
    served++;
    return op(standIn());
  }

  /** Reads the database first and, when it has nothing, what the stand-in kept during an outage. */
  async function firstFound<T>(op: (s: BotState) => T | Promise<T>, found: (v: T) => boolean): Promise<T> {
    const v = await either(op);
    if (found(v) || local === null) return v;
    return op(local);
  }

  const isLocal = (id: number | null | undefined) => id !== null && id !== undefined && localExchanges.has(id);

  return {
    conversations: {
      contextFor: (chatId: number, replyTo?: number): Promise<ConversationContext> =>
        either((s) => s.conversations.contextFor(chatId, replyTo)),
      record: async (chatId: number, parentId: number | null, question: string, answer: string): Promise<number> => {
        if (isLocal(parentId)) return standIn().conversations.record(chatId, parentId, question, answer);
        let onStandIn = false;
        const id = await either((s) => {
          onStandIn = s !== primary;
          // A parent from the stand-in means nothing in the database, and the other way round.
          return s.conversations.record(chatId, onStandIn ? null : parentId, question, answer);
        });
        if (onStandIn && id >= 0) localExchanges.add(id);
        return id;
      },
      linkMessages: (chatId: number, messageIds: readonly number[], exchangeId: number) =>
        isLocal(exchangeId)
          ? standIn().conversations.linkMessages(chatId, messageIds, exchangeId)
          : either((s) => s.conversations.linkMessages(chatId, messageIds, exchangeId)),
      reset: async (chatId: number) => {
        await either((s) => s.conversations.reset(chatId));
        if (local) await local.conversations.reset(chatId);
      },
    },
    quotes: {
      save: (chatId: number, citations: readonly Citation[]) => either((s) => s.quotes.save(chatId, citations)),
      load: (chatId: number, key: string) =>
        firstFound(
          (s) => s.quotes.load(chatId, key),
          (v) => v !== null,
        ),
    },
    rateLimiter: { hit: (userId: number): Promise<RateDecision> => either((s) => s.rateLimiter.hit(userId)) },
    undelivered: {
      keep: (chatId: number, item: UndeliveredAnswer) => either((s) => s.undelivered.keep(chatId, item)),
      has: (chatId: number) =>
        firstFound(
          (s) => s.undelivered.has(chatId),
          (v) => v,
        ),
      take: (chatId: number) =>
        firstFound(
          (s) => s.undelivered.take(chatId),
          (v) => v !== undefined,
        ),
    },
    counters: {
      increment: (name: string, by?: number) => either((s) => s.counters.increment(name, by)),
      get: (name: string) => either((s) => s.counters.get(name)),
    },
    // A chat's /language choice: while the database is away, the Telegram language decides
    // (unless the chat chose again meanwhile, which this replica then remembers).
    languages: {
      get: (chatId: number) => either((s) => s.languages.get(chatId)),
      set: (chatId: number, lang: string | null) => either((s) => s.languages.set(chatId, lang)),
    },
    audit: primary.audit,
    reindexJobs: primary.reindexJobs,
    close: async () => {
      await primary.close();
      await local?.close();
    },
  };
}
