/**
 * "Show quotes": every cited answer carries a button; pressing it replies with the quoted
 * passages behind the citations (kept server-side in the `QuoteStore` until they expire).
 */
import { type CallbackQueryContext, Composer, type Context, InlineKeyboard } from 'grammy';
import { callbackPattern } from './callbacks.js';
import type { BotDeps } from './deps.js';
import { renderQuotesHtml } from './format.js';
import { tr } from './language.js';
import type { Translate } from '../i18n/index.js';
import { english } from '../i18n/index.js';
import { sendHtml } from './send.js';

/** Prefix of quote buttons' callback_data. */
export const QUOTES_PREFIX = 'q:';

/** The "Show quotes" feature: its button handler. */
export function quotes(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.callbackQuery(callbackPattern(QUOTES_PREFIX), (ctx) => showQuotes(ctx, deps));
  return composer;
}

/** The inline keyboard with the "Show quotes" button for a stored key. */
export function quotesKeyboard(key: string, t: Translate = english): InlineKeyboard {
  return new InlineKeyboard().text(t('show-quotes-button'), QUOTES_PREFIX + key);
}

/** The "Show quotes" button: replies with the quoted passages, or explains that they expired. */
async function showQuotes(ctx: CallbackQueryContext<Context>, deps: BotDeps): Promise<void> {
  const key = ctx.callbackQuery.data.slice(QUOTES_PREFIX.length);
  const message = ctx.callbackQuery.message;
  const stored = message ? await deps.quotes.load(message.chat.id, key) : null;
  if (!message || !stored) {
    await ctx.answerCallbackQuery({ text: tr(ctx)('quotes-expired'), show_alert: true });
    return;
  }
  await ctx.answerCallbackQuery().catch(() => undefined);
  await sendHtml(ctx.api, message.chat.id, renderQuotesHtml(stored, tr(ctx)), { log: deps.log, replyTo: message.message_id });
}
