/**
 * "Show quotes": the answer message carries a button whose callback_data is a
 * short random key (Telegram caps callback_data at 64 bytes); the citations
 * themselves stay server-side in SQLite until they expire.
 */
import { randomBytes } from 'node:crypto';
import { InlineKeyboard, type Context } from 'grammy';
import type { Citation } from '../types.js';
import type { BotDeps } from './deps.js';
import { renderQuotesHtml } from './format.js';
import { sendHtml } from './send.js';
import type { StateDb } from './state.js';

/** Prefix of quote buttons' callback_data. */
export const QUOTES_PREFIX = 'q:';

/** What a quote key points to. */
export type StoredQuotes = Citation[];

/** Server-side storage behind "Show quotes" buttons. */
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

/** The inline keyboard with the "Show quotes" button for a stored key. */
export function quotesKeyboard(key: string): InlineKeyboard {
  return new InlineKeyboard().text('Show quotes', QUOTES_PREFIX + key);
}

/** The "Show quotes" button: replies with the quoted passages, or explains that they expired. */
export async function showQuotes(ctx: Context, deps: BotDeps): Promise<void> {
  const key = (ctx.callbackQuery?.data ?? '').slice(QUOTES_PREFIX.length);
  const message = ctx.callbackQuery?.message;
  const stored = message ? deps.quotes.load(message.chat.id, key) : null;
  if (!message || !stored) {
    await ctx.answerCallbackQuery({ text: 'These quotes have expired. Ask the question again to see them.', show_alert: true });
    return;
  }
  await ctx.answerCallbackQuery().catch(() => undefined);
  await sendHtml(ctx.api, message.chat.id, renderQuotesHtml(stored), { log: deps.log, replyTo: message.message_id });
}
