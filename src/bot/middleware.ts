/**
 * The gates every update passes before a handler sees it, in order: shutdown
 * tracking, "is this meant for me", the allowlist, and the rate limit. Plus the
 * one error boundary.
 */
import { sequentialize } from '@grammyjs/runner';
import { type BotError, Composer, type Context, type NextFunction } from 'grammy';
import { MassDeleteError, UserError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { isAllowed, RefusedOnce } from './access.js';
import type { BotDeps } from './deps.js';
import { logQuestion } from './desk.js';
import { addressesBot, stripMention } from './groups.js';
import { i18nMiddleware, tr } from './language.js';
import type { RateGate } from './stores.js';
import { errorFields } from './logging.js';
import type { TaskTracker } from './tasks.js';

/** The gates, outermost first; `updates` tracks each update's handling for shutdown. */
export function gates(deps: BotDeps, updates: TaskTracker): Composer<Context> {
  const perMinute = deps.config.rateLimitPerMinute;
  const composer = new Composer<Context>();
  composer.use(trackUpdates(updates));
  composer.use(onlyAddressed(deps.log));
  // Everything the bot says from here on is in the chat's language.
  composer.use(i18nMiddleware(deps));
  composer.use(allowlist(deps));
  composer.use(rateLimit(deps.rateLimiter, perMinute, deps.log, (ctx) => logLimited(ctx, deps)));
  // Updates of one chat are handled in order (answers depend on the conversation so far).
  composer.use(sequentialize(chatKey));
  return composer;
}

/** Registers each update's handling with `tracker`, so shutdown can wait for answers in progress. */
function trackUpdates(tracker: TaskTracker) {
  return function trackUpdate(_ctx: Context, next: NextFunction): Promise<void> {
    return tracker.track(next());
  };
}

/**
 * Lets through callback queries, every message in private chats, and group
 * messages that address the bot. Channel posts, edits and everything else stop here.
 */
function onlyAddressed(log: Logger) {
  return async function addressedOnly(ctx: Context, next: NextFunction): Promise<void> {
    // Inline queries are addressed by definition: the user typed @botname.
    if (ctx.callbackQuery?.message || ctx.inlineQuery) return next();
    const msg = ctx.message;
    if (!msg || !ctx.chat || ctx.chat.type === 'channel') {
      log.debug('bot.update_ignored', { update_id: ctx.update.update_id, kind: Object.keys(ctx.update).filter((k) => k !== 'update_id') });
      return;
    }
    if (ctx.chat.type === 'private' || addressesBot(msg, ctx.me)) return next();
  };
}

/** When an allowlist is configured, refuses everyone else once, politely, then ignores them. */
function allowlist(deps: Pick<BotDeps, 'config' | 'log'>) {
  const refused = new RefusedOnce();
  return async function allowlisted(ctx: Context, next: NextFunction): Promise<void> {
    if (isAllowed(deps.config, ctx.from?.id, ctx.chat?.id)) return next();
    deps.log.info('bot.not_allowed', { user_id: ctx.from?.id, chat_id: ctx.chat?.id });
    // Inline mode has no chat to write to: no results, for this user only.
    if (ctx.inlineQuery) return void (await ctx.answerInlineQuery([], { cache_time: 60, is_personal: true }));
    if (!refused.first(`${ctx.chat?.id}:${ctx.from?.id}`)) return;
    const text = tr(ctx)('private-bot');
    if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text });
    else await ctx.reply(text);
  };
}

/**
 * Applies the per-user limit to messages and button presses together. A message over the
 * limit gets one polite reply, the rest are dropped; a press over the limit is answered
 * with a button notice (never a chat message), so the client's spinner stops.
 */
function rateLimit(limiter: RateGate, perMinute: number, log: Logger, onLimited: (ctx: Context) => Promise<unknown>) {
  return async function rateLimited(ctx: Context, next: NextFunction): Promise<void> {
    const user = ctx.from?.id;
    if ((!ctx.message && !ctx.callbackQuery) || user === undefined) return next();
    let decision: Awaited<ReturnType<RateGate['hit']>>;
    try {
      decision = await limiter.hit(user);
    } catch (err) {
      // The shared limiter's database is away: let the message through rather than refuse
      // everyone; the answer path reports the outage if it needs the database too.
      log.warn('bot.rate_limit_unavailable', { user_id: user, error: errorFields(err) });
      decision = 'allow';
    }
    if (decision === 'allow') return next();
    const text = tr(ctx)('rate-limited', { limit: String(perMinute) });
    if (ctx.callbackQuery) {
      log.info('bot.rate_limited', { user_id: user, replied: true, kind: 'callback_query' });
      await ctx.answerCallbackQuery({ text }).catch(() => undefined);
      return;
    }
    log.info('bot.rate_limited', { user_id: user, replied: decision === 'warn' });
    await onLimited(ctx);
    if (decision === 'warn') await ctx.reply(text);
  };
}

/** A question (text, not a command) the rate limit turned away goes into the question log as such. */
function logLimited(ctx: Context, deps: BotDeps): Promise<unknown> {
  const text = ctx.message?.text;
  if (!text || text.startsWith('/') || !ctx.chat) return Promise.resolve();
  return logQuestion(ctx, deps, stripMention(text, ctx.me), 'rate-limited');
}

/** Sequentialization key: updates of one chat are handled in order. */
function chatKey(ctx: Context): string | undefined {
  return ctx.chat?.id.toString();
}

/**
 * The error boundary: a UserError's message goes to the user as is; anything else
 * is logged with the update id and the user gets a short apology. Never throws.
 */
export function handleError(log: Logger) {
  return async function errorBoundary(err: BotError<Context>): Promise<void> {
    const ctx = err.ctx;
    const e = err.error;
    const user = e instanceof UserError;
    if (user) log.info('bot.user_error', { update_id: ctx.update.update_id, message: e.message });
    else log.error('bot.update_failed', { update_id: ctx.update.update_id, error: errorFields(e) });
    // A refused mass removal (an /add or /remove while the folder lost most articles) says how to confirm here.
    const confirm = e instanceof MassDeleteError ? ' If the removal is intended, send /reindex and press Confirm.' : '';
    const text = user ? e.message + confirm : tr(ctx)('something-went-wrong');
    try {
      if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text, show_alert: true });
      else if (ctx.chat) await ctx.reply(text);
    } catch (replyErr) {
      log.warn('bot.error_reply_failed', { update_id: ctx.update.update_id, error: errorFields(replyErr) });
    }
  };
}
