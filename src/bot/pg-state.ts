/**
 * The bot's state in PostgreSQL (DATABASE_URL), shared by every replica: a follow-up resolves,
 * a "Show quotes" button answers, a rate-limit window counts and a kept answer is sent again
 * whichever replica the update reaches. Same rules as the one-process stores (conversations.ts,
 * quote-store.ts, ratelimit.ts' `decideRate`, undelivered.ts, audit.ts); the tables are in
 * pg-schema.ts. The pool belongs to the app (the index shares it), so `close` does not end it.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { unavailable, withTransaction } from '../db/pool.js';
import { type ReindexJobTiming, ReindexJobs } from '../db/reindex-jobs.js';
import type { Citation, Turn } from '../types.js';
import { AUDIT_KEEP, type AuditEntry, type AuditRow, fromRow } from './audit.js';
import type { ConversationContext } from './conversations.js';
import { decideRate, type RateDecision } from './ratelimit.js';
import type {
  BotState,
  ChatLanguages,
  ConversationMemory,
  CounterStore,
  KeptAnswers,
  QuoteKeys,
  RateGate,
  StateSettings,
} from './stores.js';
import type { UndeliveredAnswer } from './undelivered.js';

/** Optional clock and job timings for tests. */
export interface PgStateOptions {
  now?: () => number;
  reindexJobTiming?: Partial<ReindexJobTiming>;
}

/** A closable view of the pool: queries fail as `DatabaseUnavailableError` when the server is away. */
class Sql {
  closed = false;
  constructor(readonly pool: pg.Pool) {}

  async rows<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw unavailable(err);
    }
  }

  tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, fn);
  }
}

/** The bot state over `pool` (migrations must have run: `migrate` in src/db/migrate.ts). */
export function pgBotState(pool: pg.Pool, settings: StateSettings, options: PgStateOptions = {}): BotState {
  const sql = new Sql(pool);
  const now = options.now ?? Date.now;
  const reindexJobs = new ReindexJobs(pool, options.reindexJobTiming);
  return {
    conversations: new PgConversations(sql, settings.conversationTtlMs, settings.historyTurns, now),
    quotes: new PgQuotes(sql, settings.quoteTtlMs, now),
    rateLimiter: new PgRateLimiter(sql, settings.rateLimitPerMinute, 60_000, now),
    undelivered: new PgKeptAnswers(sql, settings.undeliveredTtlMs, now),
    counters: new PgCounters(sql),
    languages: new PgChatLanguages(sql, now),
    audit: {
      record: async (e: AuditEntry) => {
        if (sql.closed) return;
        const [row] = await sql.rows<{ id: string }>(
          'INSERT INTO admin_audit(at, user_id, user_name, action, target, outcome) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
          [e.at, e.userId, e.userName, e.action, e.target, e.outcome],
        );
        await sql.rows('DELETE FROM admin_audit WHERE id <= $1', [Number(row!.id) - AUDIT_KEEP]);
      },
      recent: async (limit: number) =>
        sql.closed
          ? []
          : (
              await sql.rows<AuditRow>(
                'SELECT at, user_id, user_name, action, target, outcome FROM admin_audit ORDER BY id DESC LIMIT $1',
                [limit],
              )
            ).map(fromRow),
    },
    reindexJobs,
    close: () => {
      sql.closed = true;
      reindexJobs.close();
    },
  };
}

/** How often one process deletes expired conversation rows (every replica prunes; once a minute each is plenty). */
const PRUNE_EVERY_MS = 60_000;

class PgConversations implements ConversationMemory {
  private lastPrune = 0;

  constructor(
    private readonly sql: Sql,
    private readonly ttlMs: number,
    private readonly maxTurns: number,
    private readonly now: () => number,
  ) {}

  async contextFor(chatId: number, replyToMessageId?: number): Promise<ConversationContext> {
    if (this.sql.closed) return { parentId: null, history: [] };
    const since = this.now() - this.ttlMs;
    let start: number | null = null;
    if (replyToMessageId !== undefined) {
      const [row] = await this.sql.rows<{ id: string }>(
        `SELECT e.id FROM bot_answer_messages m JOIN bot_exchanges e ON e.id = m.exchange_id
         WHERE m.chat_id = $1 AND m.message_id = $2 AND e.created_at >= $3`,
        [chatId, replyToMessageId, since],
      );
      start = row ? Number(row.id) : null;
    }
    if (start === null) {
      const [head] = await this.sql.rows<{ exchange_id: string | null }>(
        'SELECT exchange_id FROM bot_heads WHERE chat_id = $1 AND updated_at >= $2',
        [chatId, since],
      );
      start = head?.exchange_id == null ? null : Number(head.exchange_id);
    }
    if (start === null) return { parentId: null, history: [] };
    const chain = await this.sql.rows<{ question: string; answer: string }>(
      `WITH RECURSIVE chain(id, parent_id, question, answer, depth) AS (
         SELECT id, parent_id, question, answer, 0 FROM bot_exchanges WHERE id = $1 AND chat_id = $2
         UNION ALL
         SELECT e.id, e.parent_id, e.question, e.answer, c.depth + 1
         FROM bot_exchanges e JOIN chain c ON e.id = c.parent_id
         WHERE c.depth + 1 < $3 AND e.created_at >= $4
       )
       SELECT question, answer FROM chain ORDER BY depth DESC`,
      [start, chatId, Math.ceil(this.maxTurns / 2), since],
    );
    if (chain.length === 0) return { parentId: null, history: [] };
    const history: Turn[] = chain.flatMap((e) => [
      { role: 'user' as const, content: e.question },
      { role: 'assistant' as const, content: e.answer },
    ]);
    return { parentId: start, history: this.maxTurns > 0 ? history.slice(-this.maxTurns) : [] };
  }

  async record(chatId: number, parentId: number | null, question: string, answer: string): Promise<number> {
    if (this.sql.closed) return -1;
    const now = this.now();
    const id = await this.sql.tx(async (c) => {
      const { rows } = await c.query<{ id: string }>(
        'INSERT INTO bot_exchanges(chat_id, parent_id, question, answer, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id',
        [chatId, parentId, question, answer, now],
      );
      const exchangeId = Number(rows[0]!.id);
      await c.query(
        `INSERT INTO bot_heads(chat_id, exchange_id, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (chat_id) DO UPDATE SET exchange_id = excluded.exchange_id, updated_at = excluded.updated_at`,
        [chatId, exchangeId, now],
      );
      return exchangeId;
    });
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      await this.prune();
    }
    return id;
  }

  async linkMessages(chatId: number, messageIds: readonly number[], exchangeId: number): Promise<void> {
    if (this.sql.closed || exchangeId < 0 || messageIds.length === 0) return;
    await this.sql.rows(
      `INSERT INTO bot_answer_messages(chat_id, message_id, exchange_id, created_at)
       SELECT $1, m, $2, $3 FROM unnest($4::bigint[]) AS m
       ON CONFLICT (chat_id, message_id) DO UPDATE SET exchange_id = excluded.exchange_id, created_at = excluded.created_at`,
      [chatId, exchangeId, this.now(), [...messageIds]],
    );
  }

  async reset(chatId: number): Promise<void> {
    if (this.sql.closed) return;
    await this.sql.tx(async (c) => {
      await c.query('DELETE FROM bot_heads WHERE chat_id = $1', [chatId]);
      await c.query('DELETE FROM bot_answer_messages WHERE chat_id = $1', [chatId]);
      await c.query('DELETE FROM bot_exchanges WHERE chat_id = $1', [chatId]);
    });
  }

  /** Deletes everything idle for longer than the TTL. */
  async prune(): Promise<void> {
    const since = this.now() - this.ttlMs;
    await this.sql.tx(async (c) => {
      await c.query('DELETE FROM bot_exchanges WHERE created_at < $1', [since]);
      await c.query('DELETE FROM bot_answer_messages WHERE created_at < $1', [since]);
      await c.query('DELETE FROM bot_heads WHERE updated_at < $1', [since]);
      await c.query('DELETE FROM bot_quotes WHERE expires_at < $1', [this.now()]);
    });
  }
}

class PgQuotes implements QuoteKeys {
  constructor(
    private readonly sql: Sql,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  async save(chatId: number, citations: readonly Citation[]): Promise<string> {
    const key = randomBytes(12).toString('base64url');
    if (this.sql.closed) return key;
    const payload = citations.map(({ n, title, date, url, quote, articleId }) => ({ n, title, date, url, quote, articleId }));
    await this.sql.rows('INSERT INTO bot_quotes(key, chat_id, payload, expires_at) VALUES ($1, $2, $3, $4)', [
      key,
      chatId,
      JSON.stringify(payload),
      this.now() + this.ttlMs,
    ]);
    return key;
  }

  async load(chatId: number, key: string): Promise<Citation[] | null> {
    if (this.sql.closed) return null;
    const [row] = await this.sql.rows<{ payload: Citation[] }>(
      'SELECT payload FROM bot_quotes WHERE key = $1 AND chat_id = $2 AND expires_at >= $3',
      [key, chatId, this.now()],
    );
    return row?.payload ?? null;
  }
}

/**
 * The rate limit with its windows in PostgreSQL: each hit locks the user's row, applies
 * `decideRate` and stores the result in one transaction, so replicas answering the same user
 * count together and never lose a hit to a race.
 */
export class PgRateLimiter implements RateGate {
  private hitsSinceSweep = 0;

  constructor(
    private readonly sql: Sql,
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  async hit(userId: number): Promise<RateDecision> {
    if (this.sql.closed) return 'allow';
    const now = this.now();
    if (++this.hitsSinceSweep >= 1000) {
      this.hitsSinceSweep = 0;
      await this.sql.rows('DELETE FROM bot_rate_limits WHERE updated_at < $1 AND warned_until < $2', [now - this.windowMs, now]);
    }
    return this.sql.tx(async (c) => {
      await c.query(
        `INSERT INTO bot_rate_limits(user_id, times, warned_until, updated_at) VALUES ($1, '{}', 0, $2) ON CONFLICT (user_id) DO NOTHING`,
        [userId, now],
      );
      const { rows } = await c.query<{ times: string[]; warned_until: string }>(
        'SELECT times, warned_until FROM bot_rate_limits WHERE user_id = $1 FOR UPDATE',
        [userId],
      );
      const row = rows[0]!;
      const next = decideRate({ times: row.times.map(Number), warnedUntil: Number(row.warned_until) }, now, this.limit, this.windowMs);
      await c.query('UPDATE bot_rate_limits SET times = $2, warned_until = $3, updated_at = $4 WHERE user_id = $1', [
        userId,
        next.times,
        next.warnedUntil,
        now,
      ]);
      return next.decision;
    });
  }
}

class PgKeptAnswers implements KeptAnswers {
  constructor(
    private readonly sql: Sql,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  async keep(chatId: number, item: UndeliveredAnswer): Promise<void> {
    if (this.sql.closed) return;
    await this.sql.rows(
      `INSERT INTO bot_undelivered(chat_id, item, kept_at) VALUES ($1, $2, $3)
       ON CONFLICT (chat_id) DO UPDATE SET item = excluded.item, kept_at = excluded.kept_at`,
      [chatId, JSON.stringify(item), this.now()],
    );
  }

  async has(chatId: number): Promise<boolean> {
    if (this.sql.closed) return false;
    const rows = await this.sql.rows('SELECT 1 FROM bot_undelivered WHERE chat_id = $1 AND kept_at >= $2', [
      chatId,
      this.now() - this.ttlMs,
    ]);
    return rows.length > 0;
  }

  /** Removes and returns the chat's kept answer: one replica gets it, even when two are asked at once. */
  async take(chatId: number): Promise<UndeliveredAnswer | undefined> {
    if (this.sql.closed) return undefined;
    const [row] = await this.sql.rows<{ item: UndeliveredAnswer; kept_at: string }>(
      'DELETE FROM bot_undelivered WHERE chat_id = $1 RETURNING item, kept_at',
      [chatId],
    );
    if (!row || Number(row.kept_at) < this.now() - this.ttlMs) return undefined;
    return row.item;
  }
}

class PgCounters implements CounterStore {
  constructor(private readonly sql: Sql) {}

  async increment(name: string, by = 1): Promise<number> {
    if (this.sql.closed) return 0;
    const [row] = await this.sql.rows<{ value: string }>(
      `INSERT INTO bot_counters(name, value) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET value = bot_counters.value + excluded.value RETURNING value`,
      [name, by],
    );
    return Number(row!.value);
  }

  async get(name: string): Promise<number> {
    if (this.sql.closed) return 0;
    const [row] = await this.sql.rows<{ value: string }>('SELECT value FROM bot_counters WHERE name = $1', [name]);
    return Number(row?.value ?? 0);
  }
}

class PgChatLanguages implements ChatLanguages {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => number,
  ) {}

  async get(chatId: number): Promise<string | null> {
    if (this.sql.closed) return null;
    const [row] = await this.sql.rows<{ lang: string }>('SELECT lang FROM bot_chat_languages WHERE chat_id = $1', [chatId]);
    return row?.lang ?? null;
  }

  async set(chatId: number, lang: string | null): Promise<void> {
    if (this.sql.closed) return;
    if (lang === null) await this.sql.rows('DELETE FROM bot_chat_languages WHERE chat_id = $1', [chatId]);
    else
      await this.sql.rows(
        `INSERT INTO bot_chat_languages(chat_id, lang, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (chat_id) DO UPDATE SET lang = excluded.lang, updated_at = excluded.updated_at`,
        [chatId, lang, this.now()],
      );
  }
}
