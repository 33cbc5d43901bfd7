/**
 * Topic alerts' state: who follows what, which articles have been looked at already, the outbox
 * of alerts to deliver, and the send pace. The outbox is what makes delivery survive a restart
 * without sending anything twice: a row is claimed as `sending` (committed) before the message goes
 * out and `sent` after; a row left `sending` by a process that died may or may not have reached
 * Telegram, so it becomes `unknown` and is never sent again (at most once). The pace is stored with
 * the outbox, so Telegram's limits hold for every process that sends from it together.
 *
 * `AlertStore` is the seam; `SqliteAlertStore` (here, `alerts.sqlite` under the state folder) is the
 * embedded implementation and `PgAlertStore` (pg-store.ts) the one replicas share. Both pass
 * test/alerts/store-contract.test.ts.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

/** Most topics one chat may follow. */
export const MAX_FOLLOWS_PER_CHAT = 20;

/** A followed topic. */
export interface Follow {
  id: number;
  chatId: number;
  topic: string;
}

/** What an alert shows: the article and why it matched. */
export interface AlertPayload {
  articleId: string;
  title: string;
  date: string | null;
  url: string | null;
  /** The article's sentence that best shows the topic. */
  sentence: string;
  topic: string;
  /** Set on a correction notice (src/desk/corrections.ts) instead of a topic alert. */
  notice?: 'updated' | 'withdrawn';
}

/** An alert waiting in (or taken from) the outbox. */
export interface OutboxRow {
  id: number;
  chatId: number;
  payload: AlertPayload;
  attempts: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS follows (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  chat_id INTEGER NOT NULL,
  topic TEXT NOT NULL,
  topic_key TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (chat_id, topic_key)
);
CREATE TABLE IF NOT EXISTS known_articles (article_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS alert_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  chat_id INTEGER NOT NULL,
  article_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  not_before INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  message_id INTEGER,
  error TEXT,
  UNIQUE (chat_id, article_id)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(status, not_before);
CREATE TABLE IF NOT EXISTS alert_pace (key TEXT PRIMARY KEY, next_at INTEGER NOT NULL);
`;

/** Telegram's limits as the sender applies them: the gap between two alerts to one chat, and between any two. */
export interface SendPace {
  perChatMs: number;
  globalMs: number;
}

/** What `claimNext` found: an alert to send now, or how long to wait before asking again (null: nothing pending). */
export type NextAlert = { row: OutboxRow } | { waitMs: number | null };

/** Where the alerts' state lives, as the matcher, the sender and the chat commands use it. */
export interface AlertStore {
  /** Follows `topic` in `chatId`. */
  follow(chatId: number, topic: string, now?: number): Promise<'added' | 'exists' | 'limit'>;
  /** The chat's topics, oldest first. */
  following(chatId: number): Promise<Follow[]>;
  /** Stops following one topic (by follow id) in `chatId`; false when it is not the chat's. */
  unfollow(chatId: number, followId: number): Promise<boolean>;
  /** Every follow, grouped by topic key (matching runs once per distinct topic). */
  topics(): Promise<Map<string, Follow[]>>;
  /**
   * The ids not looked at yet. The very first call only records what is there: following starts
   * from what is new after the bot began alerting, not from the whole archive.
   */
  unseen(ids: readonly string[]): Promise<string[]>;
  /** Queues the alerts and marks the articles as looked at, together; an alert already queued for that chat and article is ignored. Resolves to how many were queued. */
  commit(seen: readonly string[], alerts: readonly { chatId: number; payload: AlertPayload }[], now?: number): Promise<number>;
  /** Pending alerts whose time has come, oldest first (for /stats and tests; the sender uses `claimNext`). */
  due(now?: number, limit?: number): Promise<OutboxRow[]>;
  /**
   * Claims the oldest due alert whose chat may be sent to now, within `pace` for every process
   * sharing the store: marked `sending` (committed) before the request goes out, so exactly one
   * process gets it.
   */
  claimNext(now: number, pace: SendPace): Promise<NextAlert>;
  markSent(id: number, messageId: number, now?: number): Promise<void>;
  /** Telegram refused before sending (429, 5xx): try again after `notBefore`. */
  retryLater(id: number, notBefore: number, error: string): Promise<void>;
  /** Given up (Telegram refused it for good, or it may have gone out already). */
  markFailed(id: number, status: 'failed' | 'unknown', error: string): Promise<void>;
  /** The user blocked the bot (403): their follows go and their pending alerts are cancelled. */
  dropChat(chatId: number): Promise<void>;
  /** The alert behind an "Ask about this" button, if it was sent to `chatId`. */
  alert(id: number, chatId: number): Promise<AlertPayload | null>;
  /** Outbox counts by status (for /stats and tests). */
  outboxCounts(): Promise<Record<string, number>>;
  /** Stops using the store (does not end a shared pool). */
  close(): Promise<void>;
}

/** Topics compare without case and extra spaces ("hong kong  Protests" = "Hong Kong protests"). */
export function normalizeTopic(topic: string): string {
  return topic.trim().replace(/\s+/g, ' ');
}

/** The embedded alerts database, `alerts.sqlite` in the state folder. */
export class SqliteAlertStore implements AlertStore {
  private constructor(private readonly db: Database.Database) {}

  /** Opens (creating) `alerts.sqlite`; alerts a previous process left mid-send become `unknown`. */
  static open(stateDir: string): SqliteAlertStore {
    fs.mkdirSync(stateDir, { recursive: true });
    const db = new Database(path.join(stateDir, 'alerts.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    db.prepare(`UPDATE outbox SET status = 'unknown', error = 'interrupted while sending' WHERE status = 'sending'`).run();
    return new SqliteAlertStore(db);
  }

  async follow(chatId: number, topic: string, now = Date.now()): Promise<'added' | 'exists' | 'limit'> {
    const clean = normalizeTopic(topic);
    return this.db.transaction(() => {
      const count = (this.db.prepare('SELECT COUNT(*) AS n FROM follows WHERE chat_id = ?').get(chatId) as { n: number }).n;
      const exists = this.db.prepare('SELECT 1 FROM follows WHERE chat_id = ? AND topic_key = ?').get(chatId, clean.toLowerCase());
      if (exists) return 'exists';
      if (count >= MAX_FOLLOWS_PER_CHAT) return 'limit';
      this.db
        .prepare('INSERT INTO follows(chat_id, topic, topic_key, created_at) VALUES (?, ?, ?, ?)')
        .run(chatId, clean, clean.toLowerCase(), now);
      return 'added';
    })();
  }

  async following(chatId: number): Promise<Follow[]> {
    return (this.db.prepare('SELECT id, chat_id AS chatId, topic FROM follows WHERE chat_id = ? ORDER BY id').all(chatId) as Follow[]).map(
      (f) => ({ ...f }),
    );
  }

  async unfollow(chatId: number, followId: number): Promise<boolean> {
    return this.db.prepare('DELETE FROM follows WHERE chat_id = ? AND id = ?').run(chatId, followId).changes === 1;
  }

  async topics(): Promise<Map<string, Follow[]>> {
    return groupByTopic(this.db.prepare('SELECT id, chat_id AS chatId, topic, topic_key FROM follows ORDER BY id').all() as FollowRow[]);
  }

  async unseen(ids: readonly string[]): Promise<string[]> {
    const seeded = this.db.prepare(`SELECT 1 FROM alert_meta WHERE key = 'seeded'`).get();
    if (!seeded) {
      this.db.transaction(() => {
        this.markSeen(ids);
        this.db.prepare(`INSERT INTO alert_meta(key, value) VALUES ('seeded', ?)`).run(String(Date.now()));
      })();
      return [];
    }
    const known = this.db.prepare('SELECT 1 FROM known_articles WHERE article_id = ?');
    return ids.filter((id) => !known.get(id));
  }

  async commit(seen: readonly string[], alerts: readonly { chatId: number; payload: AlertPayload }[], now = Date.now()): Promise<number> {
    return this.db.transaction(() => {
      this.markSeen(seen);
      const insert = this.db.prepare('INSERT OR IGNORE INTO outbox(chat_id, article_id, payload, created_at) VALUES (?, ?, ?, ?)');
      let queued = 0;
      for (const a of alerts) queued += insert.run(a.chatId, a.payload.articleId, JSON.stringify(a.payload), now).changes;
      return queued;
    })();
  }

  private markSeen(ids: readonly string[]): void {
    const insert = this.db.prepare('INSERT OR IGNORE INTO known_articles(article_id) VALUES (?)');
    for (const id of ids) insert.run(id);
  }

  async due(now = Date.now(), limit = 100): Promise<OutboxRow[]> {
    const rows = this.db
      .prepare(`SELECT id, chat_id, payload, attempts FROM outbox WHERE status = 'pending' AND not_before <= ? ORDER BY id LIMIT ?`)
      .all(now, limit) as RawOutboxRow[];
    return rows.map(outboxRow);
  }

  async claimNext(now: number, pace: SendPace): Promise<NextAlert> {
    // IMMEDIATE: the write lock first, so two processes sharing the file cannot both read the pace as free.
    return this.db
      .transaction((): NextAlert => {
        const paceOf = this.db.prepare('SELECT next_at FROM alert_pace WHERE key = ?');
        const global = (paceOf.get('global') as { next_at: number } | undefined)?.next_at ?? 0;
        if (global > now) return { waitMs: global - now };
        const row = this.db
          .prepare(
            `SELECT o.id, o.chat_id, o.payload, o.attempts FROM outbox o LEFT JOIN alert_pace p ON p.key = 'chat:' || o.chat_id
             WHERE o.status = 'pending' AND o.not_before <= ? AND COALESCE(p.next_at, 0) <= ? ORDER BY o.id LIMIT 1`,
          )
          .get(now, now) as RawOutboxRow | undefined;
        if (!row) {
          const next = this.db
            .prepare(
              `SELECT MIN(MAX(o.not_before, COALESCE(p.next_at, 0))) AS at FROM outbox o LEFT JOIN alert_pace p ON p.key = 'chat:' || o.chat_id
               WHERE o.status = 'pending'`,
            )
            .get() as { at: number | null };
          return { waitMs: next.at === null ? null : Math.max(0, next.at - now) };
        }
        this.db.prepare(`UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ?`).run(row.id);
        const setPace = this.db.prepare(
          'INSERT INTO alert_pace(key, next_at) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET next_at = excluded.next_at',
        );
        setPace.run('global', now + pace.globalMs);
        setPace.run(`chat:${row.chat_id}`, now + pace.perChatMs);
        return { row: outboxRow({ ...row, attempts: row.attempts + 1 }) };
      })
      .immediate();
  }

  async markSent(id: number, messageId: number, now = Date.now()): Promise<void> {
    this.db.prepare(`UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ? WHERE id = ?`).run(now, messageId, id);
  }

  async retryLater(id: number, notBefore: number, error: string): Promise<void> {
    this.db.prepare(`UPDATE outbox SET status = 'pending', not_before = ?, error = ? WHERE id = ?`).run(notBefore, error, id);
  }

  async markFailed(id: number, status: 'failed' | 'unknown', error: string): Promise<void> {
    this.db.prepare('UPDATE outbox SET status = ?, error = ? WHERE id = ?').run(status, error, id);
  }

  async dropChat(chatId: number): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM follows WHERE chat_id = ?').run(chatId);
      this.db.prepare(`UPDATE outbox SET status = 'cancelled' WHERE chat_id = ? AND status = 'pending'`).run(chatId);
    })();
  }

  async alert(id: number, chatId: number): Promise<AlertPayload | null> {
    const row = this.db.prepare('SELECT payload FROM outbox WHERE id = ? AND chat_id = ?').get(id, chatId) as
      | { payload: string }
      | undefined;
    return row ? (JSON.parse(row.payload) as AlertPayload) : null;
  }

  async outboxCounts(): Promise<Record<string, number>> {
    const rows = this.db.prepare('SELECT status, COUNT(*) AS n FROM outbox GROUP BY status').all() as { status: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** A follow row as both databases return it. */
export interface FollowRow extends Follow {
  topic_key: string;
}

/** Follows grouped by topic key, in row order. */
export function groupByTopic(rows: readonly FollowRow[]): Map<string, Follow[]> {
  const byTopic = new Map<string, Follow[]>();
  for (const f of rows) {
    const list = byTopic.get(f.topic_key) ?? [];
    list.push({ id: Number(f.id), chatId: Number(f.chatId), topic: f.topic });
    byTopic.set(f.topic_key, list);
  }
  return byTopic;
}

/** An outbox row as both databases return it (the payload as JSON text or already parsed). */
export interface RawOutboxRow {
  id: number | string;
  chat_id: number | string;
  payload: string | AlertPayload;
  attempts: number;
}

/** The row the sender sees. */
export function outboxRow(r: RawOutboxRow): OutboxRow {
  return {
    id: Number(r.id),
    chatId: Number(r.chat_id),
    payload: typeof r.payload === 'string' ? (JSON.parse(r.payload) as AlertPayload) : r.payload,
    attempts: r.attempts,
  };
}
