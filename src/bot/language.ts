/**
 * The chat's language: what the bot writes in, chosen per update by grammY's i18n plugin from
 * the chat's /language choice (kept in the bot state, so every replica knows it), else the
 * reader's Telegram `language_code` when the interface ships it, else English. Handlers translate
 * with `tr(ctx)`; the chosen language also goes to the answerer, which writes the answer in it.
 */
import { I18n, type I18nFlavor } from '@grammyjs/i18n';
import { type CallbackQueryContext, type CommandContext, Composer, type Context, InlineKeyboard, type MiddlewareFn } from 'grammy';
import {
  BUNDLE_OPTIONS,
  DEFAULT_LANGUAGE,
  english,
  LOCALES_DIR,
  nativeName,
  SHIPPED_LANGUAGES,
  shippedLanguage,
  type Translate,
} from '../i18n/index.js';
import { callbackPattern } from './callbacks.js';
import type { BotDeps } from './deps.js';
import { errorFields } from './logging.js';

/** An update's language: the one the bot writes in, and the chat's own choice if it made one. */
export interface ChatLanguage {
  locale: string;
  /** What the chat chose with /language; null when the Telegram language (or English) decides. */
  chosen: string | null;
}

/** Prefix of the /language buttons' callback_data: `lang:<code>` or `lang:auto`. */
export const LANGUAGE_PREFIX = 'lang:';
/** The argument that forgets a chat's choice. */
const AUTO = 'auto';

const negotiated = new WeakMap<Context, ChatLanguage>();

/** The language of `ctx`'s chat for this update (read from the state once per update). */
export async function chatLanguage(ctx: Context, deps: Pick<BotDeps, 'languages' | 'log'>): Promise<ChatLanguage> {
  const known = negotiated.get(ctx);
  if (known) return known;
  let chosen: string | null = null;
  if (ctx.chat) {
    try {
      chosen = shippedLanguage(await deps.languages.get(ctx.chat.id));
    } catch (err) {
      // The shared state is away: the Telegram language still gives a sensible answer.
      deps.log.warn('bot.language_unavailable', { chat_id: ctx.chat.id, error: errorFields(err) });
    }
  }
  const language = { locale: chosen ?? shippedLanguage(ctx.from?.language_code) ?? DEFAULT_LANGUAGE, chosen };
  negotiated.set(ctx, language);
  return language;
}

/** The i18n plugin's middleware: `ctx.t` in the chat's language for every handler after it. */
export function i18nMiddleware(deps: Pick<BotDeps, 'languages' | 'log'>): MiddlewareFn<Context> {
  // The plugin types its middleware for a context that already has `t`; it is the one that adds it.
  const plugin = new I18n<Context>({
    defaultLocale: DEFAULT_LANGUAGE,
    directory: LOCALES_DIR,
    fluentBundleOptions: BUNDLE_OPTIONS,
    // The completeness test keeps every locale whole; a miss falls back to English quietly.
    fluentOptions: { warningHandler: () => undefined },
    localeNegotiator: async (ctx) => (await chatLanguage(ctx, deps)).locale,
  });
  return plugin.middleware() as unknown as MiddlewareFn<Context>;
}

/** The update's translate function (English before the middleware ran, e.g. in an early error). */
export function tr(ctx: Context): Translate {
  const t = (ctx as Partial<I18nFlavor>).t;
  return t ? (key, values) => t(key, values) : english;
}

/** /language and its buttons. */
export function languageCommands(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.command('language', (ctx) => language(ctx, deps));
  composer.callbackQuery(callbackPattern(LANGUAGE_PREFIX, [...SHIPPED_LANGUAGES, AUTO].join('|')), (ctx) => languageButton(ctx, deps));
  return composer;
}

const CODES = [...SHIPPED_LANGUAGES, AUTO].join(', ');

function languageKeyboard(chosen: string | null): InlineKeyboard {
  const kb = new InlineKeyboard();
  SHIPPED_LANGUAGES.forEach((lang, i) => {
    if (i > 0 && i % 3 === 0) kb.row();
    kb.text(`${lang === chosen ? '✓ ' : ''}${nativeName(lang)}`, `${LANGUAGE_PREFIX}${lang}`);
  });
  return kb;
}

/** /language: the current language with a button per language; /language <code> sets it, /language auto forgets the choice. */
async function language(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  const arg = ctx.match.trim().toLowerCase();
  const current = await chatLanguage(ctx, deps);
  if (!arg) {
    const kb = languageKeyboard(current.chosen);
    if (current.chosen) kb.row().text(tr(ctx)('language-auto-button'), `${LANGUAGE_PREFIX}${AUTO}`);
    const key = current.chosen ? 'language-current' : 'language-current-auto';
    await ctx.reply(tr(ctx)(key, { codes: CODES }), { reply_markup: kb });
    return;
  }
  const lang = arg === AUTO ? null : shippedLanguage(arg);
  if (arg !== AUTO && (lang === null || lang !== arg.split(/[-_]/)[0])) {
    await ctx.reply(tr(ctx)('language-unknown', { code: ctx.match.trim().slice(0, 20), codes: CODES }));
    return;
  }
  await ctx.reply(await choose(ctx, deps, lang));
}

/** A /language button: sets the language and edits the message to say so. */
async function languageButton(ctx: CallbackQueryContext<Context>, deps: BotDeps): Promise<void> {
  const code = ctx.callbackQuery.data.slice(LANGUAGE_PREFIX.length);
  const text = await choose(ctx, deps, code === AUTO ? null : code);
  await ctx.answerCallbackQuery().catch(() => undefined);
  const message = ctx.callbackQuery.message;
  if (message) await ctx.api.editMessageText(message.chat.id, message.message_id, text).catch(() => undefined);
}

/** Records the chat's choice (null: back to the Telegram language) and returns the confirmation, in the new language. */
async function choose(ctx: Context, deps: BotDeps, lang: string | null): Promise<string> {
  const chatId = ctx.chat!.id;
  await deps.languages.set(chatId, lang);
  const locale = lang ?? shippedLanguage(ctx.from?.language_code) ?? DEFAULT_LANGUAGE;
  negotiated.set(ctx, { locale, chosen: lang });
  (ctx as Partial<I18nFlavor>).i18n?.useLocale(locale);
  deps.log.info('bot.language_set', { chat_id: chatId, lang: lang ?? AUTO });
  return tr(ctx)(lang ? 'language-set' : 'language-auto');
}
