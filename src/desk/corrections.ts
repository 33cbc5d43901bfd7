/**
 * Corrections reach readers (CORRECTIONS_NOTICE=true): when an answer cites an article, the chat
 * and the version of the article it was given are kept for CORRECTIONS_DAYS (a receipt). After
 * every index change, each receipt whose article now has another version (its title or text
 * changed) or is gone queues one notice for that chat: the title and that it was updated, or that
 * it was withdrawn. The notices go through the topic alerts' outbox, so they share its rate
 * limits, its restart safety and its "at most once" per (chat, notice key); the key names the
 * article's new version, so a chat hears once per version, and an unchanged reindex sends nothing.
 *
 * Receipts hold the chat id, since the notice must be sent there: they live apart from the
 * question log (which holds no raw id), only while corrections are on, and only for
 * CORRECTIONS_DAYS. `CorrectionReceipts` is a seam like the log: SQLite or PostgreSQL.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import type { AlertPayload } from '../alerts/index.js';
import { unavailable } from '../db/pool.js';
import { CoalescedJob } from '../util/coalesce.js';
import { errorMessage } from '../util/errors.js';
import { type Logger, silentLogger } from '../util/log.js';
import type { Awaitable } from './log.js';

const DAY = 86_400_000;

/** A chat was given `version` of an article at `at`. */
export interface Receipt {
  chatId: number;
  articleId: string;
  version: string;
  /** The article's title when it was given (a withdrawn article's notice names it). */
  title: string;
  at: number;
}

/** Where receipts are kept. */
export interface CorrectionReceipts {
  /** Records (or renews) that `chatId` was given this version of the article. */
  give(r: Receipt): Awaitable<void>;
  /** Receipts given at or after `since`. */
  since(since: number): Awaitable<Receipt[]>;
  /** The chat now knows the article as `version` (its notice is queued). */
  revise(chatId: number, articleId: string, version: string): Awaitable<void>;
  /** Deletes receipts given before `before`. */
  prune(before: number): Awaitable<number>;
  /** Deletes the chat's receipts (/forgetme). */
  forgetChat(chatId: number): Awaitable<number>;
  close(): Awaitable<void>;
}

/** Migration 41: correction receipts. */
export const RECEIPTS_SQL = `
CREATE TABLE desk_receipts (
  chat_id bigint NOT NULL,
  article_id text NOT NULL,
  version text NOT NULL,
  title text NOT NULL,
  at bigint NOT NULL,
  PRIMARY KEY (chat_id, article_id)
);
CREATE INDEX desk_receipts_at ON desk_receipts (at);
`;

type ReceiptRow = { chat_id: number | string; article_id: string; version: string; title: string; at: number | string };
const fromRow = (r: ReceiptRow): Receipt => ({
  chatId: Number(r.chat_id),
  articleId: r.article_id,
  version: r.version,
  title: r.title,
  at: Number(r.at),
});

/** Receipts in `corrections.sqlite` under the state folder. */
export class SqliteReceipts implements CorrectionReceipts {
  private readonly db: Database.Database;

  constructor(stateDir: string) {
    fs.mkdirSync(stateDir, { recursive: true });
    this.db = new Database(path.join(stateDir, 'corrections.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS receipts (
      chat_id INTEGER NOT NULL, article_id TEXT NOT NULL, version TEXT NOT NULL, title TEXT NOT NULL, at INTEGER NOT NULL,
      PRIMARY KEY (chat_id, article_id));
    CREATE INDEX IF NOT EXISTS receipts_at ON receipts(at);`);
  }

  give(r: Receipt): void {
    if (!this.db.open) return;
    this.db
      .prepare(
        `INSERT INTO receipts(chat_id, article_id, version, title, at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(chat_id, article_id) DO UPDATE SET version = excluded.version, title = excluded.title, at = excluded.at`,
      )
      .run(r.chatId, r.articleId, r.version, r.title, r.at);
  }

  since(since: number): Receipt[] {
    if (!this.db.open) return [];
    return (
      this.db.prepare('SELECT chat_id, article_id, version, title, at FROM receipts WHERE at >= ? ORDER BY at').all(since) as ReceiptRow[]
    ).map(fromRow);
  }

  revise(chatId: number, articleId: string, version: string): void {
    if (!this.db.open) return;
    this.db.prepare('UPDATE receipts SET version = ? WHERE chat_id = ? AND article_id = ?').run(version, chatId, articleId);
  }

  prune(before: number): number {
    if (!this.db.open) return 0;
    return this.db.prepare('DELETE FROM receipts WHERE at < ?').run(before).changes;
  }

  forgetChat(chatId: number): number {
    if (!this.db.open) return 0;
    return this.db.prepare('DELETE FROM receipts WHERE chat_id = ?').run(chatId).changes;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Receipts in PostgreSQL (migration 41), shared by replicas. */
export class PgReceipts implements CorrectionReceipts {
  private closed = false;

  constructor(private readonly pool: pg.Pool) {}

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      throw unavailable(err);
    }
  }

  async give(r: Receipt): Promise<void> {
    if (this.closed) return;
    await this.query(
      `INSERT INTO desk_receipts(chat_id, article_id, version, title, at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (chat_id, article_id) DO UPDATE SET version = excluded.version, title = excluded.title, at = excluded.at`,
      [r.chatId, r.articleId, r.version, r.title, r.at],
    );
  }

  async since(since: number): Promise<Receipt[]> {
    if (this.closed) return [];
    return (
      await this.query<ReceiptRow>('SELECT chat_id, article_id, version, title, at FROM desk_receipts WHERE at >= $1 ORDER BY at', [since])
    ).rows.map(fromRow);
  }

  async revise(chatId: number, articleId: string, version: string): Promise<void> {
    if (this.closed) return;
    await this.query('UPDATE desk_receipts SET version = $1 WHERE chat_id = $2 AND article_id = $3', [version, chatId, articleId]);
  }

  async prune(before: number): Promise<number> {
    if (this.closed) return 0;
    return (await this.query('DELETE FROM desk_receipts WHERE at < $1', [before])).rowCount ?? 0;
  }

  async forgetChat(chatId: number): Promise<number> {
    if (this.closed) return 0;
    return (await this.query('DELETE FROM desk_receipts WHERE chat_id = $1', [chatId])).rowCount ?? 0;
  }

  close(): void {
    this.closed = true;
  }
}

/** An article as the current index holds it. */
export interface ArticleVersion {
  version: string;
  title: string;
  date: string | null;
  url: string | null;
}

/** The version of an article: a hash of its title and text (what a reader was quoted from). */
export function articleVersion(title: string, text: string): string {
  return createHash('sha256').update(title).update('\n').update(text).digest('hex').slice(0, 16);
}

/** The alerts' outbox, by its public method: queue notices, at most once per (chat, key). */
export interface NoticeOutbox {
  commit(seen: readonly string[], alerts: readonly { chatId: number; payload: AlertPayload }[]): Awaitable<number>;
}

/** What the notices need. */
export interface CorrectionOptions {
  receipts: CorrectionReceipts;
  outbox: NoticeOutbox;
  /** The article's current version, or null when the index no longer has it. */
  current(articleId: string): Promise<ArticleVersion | null>;
  days: number;
  logger?: Logger;
  now?: () => number;
}

/** Keeps receipts and queues correction notices after index changes. */
export class CorrectionNotices {
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly checks = new CoalescedJob(
    () => this.checkOnce(),
    (err) => this.log.error('corrections.check_failed', { error: errorMessage(err) }),
  );
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly options: CorrectionOptions) {
    this.log = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
  }

  /** Records that `chatId` was given the current version of each cited article (failures are logged: the reader has the answer). */
  async gave(chatId: number, articleIds: readonly string[]): Promise<void> {
    try {
      for (const articleId of new Set(articleIds)) {
        const v = await this.options.current(articleId);
        if (v) await this.options.receipts.give({ chatId, articleId, version: v.version, title: v.title, at: this.now() });
      }
    } catch (err) {
      this.log.warn('corrections.receipt_failed', { error: errorMessage(err) });
    }
  }

  /** Forgets what the chat was given (/forgetme): no notice will reach it for earlier answers. */
  async forget(chatId: number): Promise<number> {
    return this.options.receipts.forgetChat(chatId);
  }

  /** Checks after every index change, until `stop()`. */
  start(library: { onIndexChanged(listener: () => void): () => void }): void {
    this.unsubscribe ??= library.onIndexChanged(() => void this.check());
  }

  /** Stops checking, waits for a check in progress, and closes the receipts. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.checks.settled();
    await this.options.receipts.close();
  }

  /** Compares every receipt with the index and queues the notices; one check at a time (a request during one runs after it). */
  check(): Promise<number> {
    return this.checks.run();
  }

  private async checkOnce(): Promise<number> {
    const { receipts, outbox, days } = this.options;
    const since = this.now() - days * DAY;
    await receipts.prune(since);
    const given = await receipts.since(since);
    const versions = new Map<string, ArticleVersion | null>();
    let queued = 0;
    for (const r of given) {
      if (!versions.has(r.articleId)) versions.set(r.articleId, await this.options.current(r.articleId));
      const now = versions.get(r.articleId)!;
      const version = now?.version ?? 'withdrawn';
      if (version === r.version) continue;
      const payload: AlertPayload = {
        // The outbox sends one message per (chat, key): one notice per article version.
        articleId: `correction:${r.articleId}@${version}`,
        title: now?.title ?? r.title,
        date: now?.date ?? null,
        url: now?.url ?? null,
        // What "Ask again" starts the conversation with.
        sentence: now ? 'It was updated after I cited it.' : 'It was withdrawn after I cited it.',
        topic: '',
        notice: now ? 'updated' : 'withdrawn',
      };
      queued += await outbox.commit([], [{ chatId: r.chatId, payload }]);
      await receipts.revise(r.chatId, r.articleId, version);
    }
    if (queued > 0) this.log.info('corrections.queued', { notices: queued });
    return queued;
  }
}
