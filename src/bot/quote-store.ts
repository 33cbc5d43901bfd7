/**
 * Server-side storage behind "Show quotes" buttons: the button's callback_data carries only a
 * short random key (Telegram caps callback_data at 64 bytes); the citations stay in SQLite until
 * they expire.
 */
import { randomBytes } from 'node:crypto';
import type { Citation } from '../types.js';
import type { StateDb } from './state.js';

/** What a quote key points to. */
export type StoredQuotes = Citation[];

/** Quote keys and the citations behind them, per chat. */
export class QuoteStore {
  private readonly now: () => number;

  constructor(
    private readonly state: StateDb,
    private readonly ttlMs: number,
    now?: () => number,
  ) {
    this.now = now ?? Date.now;
  }

  /** Saves the citations and returns a fresh key (16 url-safe characters). */
  save(chatId: number, citations: readonly Citation[]): string {
    const key = randomBytes(12).toString('base64url');
    if (!this.state.isOpen()) return key;
    const payload: StoredQuotes = citations.map(({ n, title, date, url, quote, articleId }) => ({ n, title, date, url, quote, articleId }));
    const db = this.state.db;
    db.prepare('DELETE FROM quotes WHERE expires_at < ?').run(this.now());
    db.prepare('INSERT INTO quotes(key, chat_id, payload, expires_at) VALUES (?, ?, ?, ?)').run(
      key,
      chatId,
      JSON.stringify(payload),
      this.now() + this.ttlMs,
    );
    return key;
  }

  /** The citations behind `key` in `chatId`, or null when unknown or expired. */
  load(chatId: number, key: string): StoredQuotes | null {
    if (!this.state.isOpen()) return null;
    const row = this.state.db
      .prepare('SELECT payload FROM quotes WHERE key = ? AND chat_id = ? AND expires_at >= ?')
      .get(key, chatId, this.now()) as { payload: string } | undefined;
    return row ? (JSON.parse(row.payload) as StoredQuotes) : null;
  }
}
