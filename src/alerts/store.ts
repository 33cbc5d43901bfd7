/**
 * Topic alerts' state in `alerts.sqlite` under the state folder: who follows what, which articles
 * have been looked at already, and the outbox of alerts to deliver. The outbox is what makes
 * delivery survive a restart without sending anything twice: a row is marked `sending` (committed)
 * before the message goes out and `sent` after; a row still `sending` at start-up may or may not
 * have reached Telegram, so it becomes `unknown` and is never sent again (at most once).
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
`;

/** Topics compare without case and extra spaces ("hong kong  Protests" = "Hong Kong protests"). */
export function normalizeTopic(topic: string): string {
  return topic.trim().replace(/\s+/g, ' ');
}

/** The alerts database. */
export class AlertStore {
  private constructor(private readonly db: Database.Database) {}

  /** Opens (creating) `alerts.sqlite`; alerts a previous process left mid-send become `unknown`. */
  static open(stateDir: string): AlertStore {
    fs.mkdirSync(stateDir, { recursive: true });
    const db = new Database(path.join(stateDir, 'alerts.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    db.prepare(`UPDATE outbox SET status = 'unknown', error = 'interrupted while sending' WHERE status = 'sending'`).run();
    return new AlertStore(db);
  }

  /** Follows `topic` in `chatId`. */
  follow(chatId: number, topic: string, now = Date.now()): 'added' | 'exists' | 'limit' {
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

  /** The chat's topics, oldest first. */
  following(chatId: number): Follow[] {
    return (this.db.prepare('SELECT id, chat_id AS chatId, topic FROM follows WHERE chat_id = ? ORDER BY id').all(chatId) as Follow[]).map(
      (f) => ({ ...f }),
    );
  }

  /** Stops following one topic (by follow id) in `chatId`; false when it is not the chat's. */
  unfollow(chatId: number, followId: number): boolean {
    return this.db.prepare('DELETE FROM follows WHERE chat_id = ? AND id = ?').run(chatId, followId).changes === 1;
  }

  /** Every follow, grouped by topic (matching runs once per distinct topic). */
  topics(): Map<string, Follow[]> {
    const byTopic = new Map<string, Follow[]>();
    for (const f of this.db.prepare('SELECT id, chat_id AS chatId, topic, topic_key FROM follows ORDER BY id').all() as (Follow & {
      topic_key: string;
    })[]) {
      const list = byTopic.get(f.topic_key) ?? [];
      list.push({ id: f.id, chatId: f.chatId, topic: f.topic });
      byTopic.set(f.topic_key, list);
    }
    return byTopic;
  }

  /**
   * The ids not looked at yet. The very first call only records what is there: following starts
   * from what is new after the bot began alerting, not from the whole archive.
   */
  unseen(ids: readonly string[]): string[] {
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

  /** Queues the alerts and marks the articles as looked at, together (a crash in between loses nothing and doubles nothing). */
  commit(seen: readonly string[], alerts: readonly { chatId: number; payload: AlertPayload }[], now = Date.now()): number {
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

  /** Pending alerts whose time has come, oldest first. */
  due(now = Date.now(), limit = 100): OutboxRow[] {
    const rows = this.db
      .prepare(`SELECT id, chat_id, payload, attempts FROM outbox WHERE status = 'pending' AND not_before <= ? ORDER BY id LIMIT ?`)
      .all(now, limit) as { id: number; chat_id: number; payload: string; attempts: number }[];
    return rows.map((r) => ({ id: r.id, chatId: r.chat_id, payload: JSON.parse(r.payload) as AlertPayload, attempts: r.attempts }));
  }

  /**
   * Claims a pending alert for sending (committed before the request goes out). False when it is
   * no longer pending: another process sharing the state folder took it first.
   */
  claim(id: number): boolean {
    return (
      this.db.prepare(`UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ? AND status = 'pending'`).run(id)
        .changes === 1
    );
  }

  markSent(id: number, messageId: number, now = Date.now()): void {
    this.db.prepare(`UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ? WHERE id = ?`).run(now, messageId, id);
  }

  /** Telegram refused before sending (429, 5xx): try again after `notBefore`. */
  retryLater(id: number, notBefore: number, error: string): void {
    this.db.prepare(`UPDATE outbox SET status = 'pending', not_before = ?, error = ? WHERE id = ?`).run(notBefore, error, id);
  }

  /** Given up (Telegram refused it for good, or it may have gone out already). */
  markFailed(id: number, status: 'failed' | 'unknown', error: string): void {
    this.db.prepare('UPDATE outbox SET status = ?, error = ? WHERE id = ?').run(status, error, id);
  }

  /** The user blocked the bot (403): their follows go and their pending alerts are cancelled. */
  dropChat(chatId: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM follows WHERE chat_id = ?').run(chatId);
      this.db.prepare(`UPDATE outbox SET status = 'cancelled' WHERE chat_id = ? AND status = 'pending'`).run(chatId);
    })();
  }

  /** The alert behind an "Ask about this" button, if it was sent to `chatId`. */
  alert(id: number, chatId: number): AlertPayload | null {
    const row = this.db.prepare('SELECT payload FROM outbox WHERE id = ? AND chat_id = ?').get(id, chatId) as
      | { payload: string }
      | undefined;
    return row ? (JSON.parse(row.payload) as AlertPayload) : null;
  }

  /** Outbox counts by status (for /stats and tests). */
  outboxCounts(): Record<string, number> {
    const rows = this.db.prepare('SELECT status, COUNT(*) AS n FROM outbox GROUP BY status').all() as { status: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
