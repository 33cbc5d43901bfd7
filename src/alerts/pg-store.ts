/**
 * Topic alerts' state in PostgreSQL (DATABASE_URL), shared by every replica: a `/follow` on one
 * replica holds on all, an article is looked at once per fleet (a second scan finds it known, and
 * the outbox's unique (chat, article) drops a duplicate queued meanwhile), and an alert is claimed
 * for sending with `FOR UPDATE SKIP LOCKED` under the one pace row, so exactly one replica sends it
 * and Telegram's limits hold for the whole fleet. Same rules as `SqliteAlertStore` (store.ts); both
 * pass test/alerts/store-contract.test.ts. Times are ms since epoch, as the sender's clock gives them.
 */
import type pg from 'pg';
import { queryRows, withTransaction } from '../db/pool.js';
import {
  type AlertPayload,
  type AlertStore,
  type Follow,
  type FollowRow,
  groupByTopic,
  MAX_FOLLOWS_PER_CHAT,
  type NextAlert,
  normalizeTopic,
  type OutboxRow,
  outboxRow,
  type RawOutboxRow,
  type SendPace,
} from './store.js';

/** The alerts' tables (a migration the composition root lists). */
export const ALERTS_SQL = `
CREATE TABLE alert_follows (
  id bigserial PRIMARY KEY,
  chat_id bigint NOT NULL,
  topic text NOT NULL,
  topic_key text NOT NULL,
  created_at bigint NOT NULL,
  UNIQUE (chat_id, topic_key)
);
CREATE TABLE alert_known_articles (article_id text PRIMARY KEY);
CREATE TABLE alert_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE alert_outbox (
  id bigserial PRIMARY KEY,
  chat_id bigint NOT NULL,
  article_id text NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  not_before bigint NOT NULL DEFAULT 0,
  created_at bigint NOT NULL,
  claimed_at bigint,
  sent_at bigint,
  message_id bigint,
  error text,
  UNIQUE (chat_id, article_id)
);
CREATE INDEX alert_outbox_due ON alert_outbox (status, not_before);
CREATE TABLE alert_pace (key text PRIMARY KEY, next_at bigint NOT NULL);
INSERT INTO alert_pace (key, next_at) VALUES ('global', 0);
`;

/** A `sending` row older than this was left by a replica that died mid-send: it becomes `unknown`. */
const SENDING_STALE_MS = 10 * 60_000;

/** The alerts over a pool (migrations must have run). */
export class PgAlertStore implements AlertStore {
  constructor(private readonly pool: pg.Pool) {}

  /** A store over `pool`; alerts a dead replica left mid-send long enough ago become `unknown`. */
  static async open(pool: pg.Pool, now = Date.now()): Promise<PgAlertStore> {
    await queryRows(
      pool,
      `UPDATE alert_outbox SET status = 'unknown', error = 'interrupted while sending' WHERE status = 'sending' AND claimed_at < $1`,
      [now - SENDING_STALE_MS],
    );
    return new PgAlertStore(pool);
  }

  async follow(chatId: number, topic: string, now = Date.now()): Promise<'added' | 'exists' | 'limit'> {
    const clean = normalizeTopic(topic);
    return withTransaction(this.pool, async (c) => {
      const exists = await c.query('SELECT 1 FROM alert_follows WHERE chat_id = $1 AND topic_key = $2', [chatId, clean.toLowerCase()]);
      if (exists.rows.length > 0) return 'exists';
      const { rows } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM alert_follows WHERE chat_id = $1', [chatId]);
      if (rows[0]!.n >= MAX_FOLLOWS_PER_CHAT) return 'limit';
      const inserted = await c.query(
        'INSERT INTO alert_follows (chat_id, topic, topic_key, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id',
        [chatId, clean, clean.toLowerCase(), now],
      );
      // Followed at the same moment on another replica.
      return inserted.rows.length === 1 ? 'added' : 'exists';
    });
  }

  async following(chatId: number): Promise<Follow[]> {
    const rows = await queryRows<FollowRow>(
      this.pool,
      'SELECT id, chat_id AS "chatId", topic, topic_key FROM alert_follows WHERE chat_id = $1 ORDER BY id',
      [chatId],
    );
    return rows.map((f) => ({ id: Number(f.id), chatId: Number(f.chatId), topic: f.topic }));
  }

  async unfollow(chatId: number, followId: number): Promise<boolean> {
    return (
      (await queryRows(this.pool, 'DELETE FROM alert_follows WHERE chat_id = $1 AND id = $2 RETURNING id', [chatId, followId])).length === 1
    );
  }

  async topics(): Promise<Map<string, Follow[]>> {
    return groupByTopic(
      await queryRows<FollowRow>(this.pool, 'SELECT id, chat_id AS "chatId", topic, topic_key FROM alert_follows ORDER BY id'),
    );
  }

  async unseen(ids: readonly string[]): Promise<string[]> {
    return withTransaction(this.pool, async (c) => {
      const seeded = await c.query(`INSERT INTO alert_meta (key, value) VALUES ('seeded', $1) ON CONFLICT DO NOTHING RETURNING key`, [
        String(Date.now()),
      ]);
      if (seeded.rows.length === 1) {
        await markSeen(c, ids);
        return [];
      }
      const known = await c.query<{ article_id: string }>(
        'SELECT article_id FROM alert_known_articles WHERE article_id = ANY($1::text[])',
        [[...ids]],
      );
      const seen = new Set(known.rows.map((r) => r.article_id));
      return ids.filter((id) => !seen.has(id));
    });
  }

  async commit(seen: readonly string[], alerts: readonly { chatId: number; payload: AlertPayload }[], now = Date.now()): Promise<number> {
    return withTransaction(this.pool, async (c) => {
      await markSeen(c, seen);
      let queued = 0;
      for (const a of alerts) {
        const r = await c.query(
          'INSERT INTO alert_outbox (chat_id, article_id, payload, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id',
          [a.chatId, a.payload.articleId, JSON.stringify(a.payload), now],
        );
        queued += r.rows.length;
      }
      return queued;
    });
  }

  async due(now = Date.now(), limit = 100): Promise<OutboxRow[]> {
    const rows = await queryRows<RawOutboxRow>(
      this.pool,
      `SELECT id, chat_id, payload, attempts FROM alert_outbox WHERE status = 'pending' AND not_before <= $1 ORDER BY id LIMIT $2`,
      [now, limit],
    );
    return rows.map(outboxRow);
  }

  async claimNext(now: number, pace: SendPace): Promise<NextAlert> {
    return withTransaction(this.pool, async (c): Promise<NextAlert> => {
      // The fleet's one pace row: senders take turns here, so the global gap holds across replicas.
      const global = await c.query<{ next_at: number }>(
        `SELECT next_at::float8 AS next_at FROM alert_pace WHERE key = 'global' FOR UPDATE`,
      );
      const globalAt = global.rows[0]?.next_at ?? 0;
      if (globalAt > now) return { waitMs: globalAt - now };
      const picked = await c.query<RawOutboxRow>(
        `SELECT o.id, o.chat_id, o.payload, o.attempts FROM alert_outbox o
         WHERE o.status = 'pending' AND o.not_before <= $1
           AND NOT EXISTS (SELECT 1 FROM alert_pace p WHERE p.key = 'chat:' || o.chat_id AND p.next_at > $1)
         ORDER BY o.id LIMIT 1 FOR UPDATE OF o SKIP LOCKED`,
        [now],
      );
      const row = picked.rows[0];
      if (!row) {
        const next = await c.query<{ at: number | null }>(
          `SELECT min(greatest(o.not_before, COALESCE(p.next_at, 0)))::float8 AS at FROM alert_outbox o
           LEFT JOIN alert_pace p ON p.key = 'chat:' || o.chat_id WHERE o.status = 'pending'`,
        );
        const at = next.rows[0]?.at ?? null;
        return { waitMs: at === null ? null : Math.max(0, at - now) };
      }
      await c.query(`UPDATE alert_outbox SET status = 'sending', attempts = attempts + 1, claimed_at = $2 WHERE id = $1`, [row.id, now]);
      await c.query(
        `INSERT INTO alert_pace (key, next_at) VALUES ('global', $1), ('chat:' || $3::text, $2)
         ON CONFLICT (key) DO UPDATE SET next_at = excluded.next_at`,
        [now + pace.globalMs, now + pace.perChatMs, String(row.chat_id)],
      );
      return { row: outboxRow({ ...row, attempts: row.attempts + 1 }) };
    });
  }

  async markSent(id: number, messageId: number, now = Date.now()): Promise<void> {
    await queryRows(this.pool, `UPDATE alert_outbox SET status = 'sent', sent_at = $2, message_id = $3 WHERE id = $1`, [
      id,
      now,
      messageId,
    ]);
  }

  async retryLater(id: number, notBefore: number, error: string): Promise<void> {
    await queryRows(this.pool, `UPDATE alert_outbox SET status = 'pending', not_before = $2, error = $3 WHERE id = $1`, [
      id,
      notBefore,
      error,
    ]);
  }

  async markFailed(id: number, status: 'failed' | 'unknown', error: string): Promise<void> {
    await queryRows(this.pool, 'UPDATE alert_outbox SET status = $2, error = $3 WHERE id = $1', [id, status, error]);
  }

  async dropChat(chatId: number): Promise<void> {
    await withTransaction(this.pool, async (c) => {
      await c.query('DELETE FROM alert_follows WHERE chat_id = $1', [chatId]);
      await c.query(`UPDATE alert_outbox SET status = 'cancelled' WHERE chat_id = $1 AND status = 'pending'`, [chatId]);
    });
  }

  async alert(id: number, chatId: number): Promise<AlertPayload | null> {
    const [row] = await queryRows<{ payload: AlertPayload }>(this.pool, 'SELECT payload FROM alert_outbox WHERE id = $1 AND chat_id = $2', [
      id,
      chatId,
    ]);
    return row ? row.payload : null;
  }

  async outboxCounts(): Promise<Record<string, number>> {
    const rows = await queryRows<{ status: string; n: number }>(
      this.pool,
      'SELECT status, count(*)::int AS n FROM alert_outbox GROUP BY status',
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  async close(): Promise<void> {}
}

async function markSeen(c: pg.PoolClient, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await c.query('INSERT INTO alert_known_articles (article_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [[...ids]]);
}
