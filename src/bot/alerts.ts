/**
 * Topic alerts in the chat: /follow <topic>, /following, /unfollow (buttons to pick which), the
 * "Ask about this" button under an alert, and the sender that delivers the outbox within
 * Telegram's limits (about 30 messages a second per bot, one a second per chat), at most once
 * per alert, and stops for a chat whose user blocked the bot.
 */
import { type Api, type CallbackQueryContext, type CommandContext, Composer, type Context, GrammyError, InlineKeyboard } from 'grammy';
import {
  type AlertPayload,
  MAX_FOLLOWS_PER_CHAT,
  type NextAlert,
  type OutboxRow,
  type SendPace,
  type TopicAlerts,
} from '../alerts/index.js';
import { errorMessage } from '../util/errors.js';
import { callbackPattern } from './callbacks.js';
import type { BotDeps } from './deps.js';
import { escapeHtml, link } from './format.js';
import { tr } from './language.js';
import { english, type Translate, translator } from '../i18n/index.js';
import { sendHtml } from './send.js';

/** Prefix of "Ask about this" buttons' callback_data (followed by the outbox id). */
export const ASK_PREFIX = 'al:';
/** Prefix of /unfollow's buttons (followed by the follow id). */
export const UNFOLLOW_PREFIX = 'uf:';
const MAX_TOPIC_CHARS = 100;

/** /follow, /following, /unfollow and the alert buttons. */
export function alertCommands(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.command('follow', (ctx) => follow(ctx, deps));
  composer.command('following', (ctx) => following(ctx, deps));
  composer.command('unfollow', (ctx) => unfollow(ctx, deps));
  composer.callbackQuery(callbackPattern(UNFOLLOW_PREFIX, '\\d{1,12}'), (ctx) => unfollowButton(ctx, deps));
  composer.callbackQuery(callbackPattern(ASK_PREFIX, '\\d{1,12}'), (ctx) => askAbout(ctx, deps));
  return composer;
}

async function follow(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  const t = tr(ctx);
  if (!deps.alerts) return void (await ctx.reply(t('alerts-off')));
  const topic = ctx.match.trim().replace(/\s+/g, ' ');
  if (!topic) return void (await ctx.reply(t('follow-usage')));
  if (topic.length > MAX_TOPIC_CHARS) return void (await ctx.reply(t('follow-too-long', { max: String(MAX_TOPIC_CHARS) })));
  const result = await deps.alerts.store.follow(ctx.chat.id, topic);
  if (result === 'exists') return void (await ctx.reply(t('follow-exists', { topic })));
  if (result === 'limit') return void (await ctx.reply(t('follow-full', { max: MAX_FOLLOWS_PER_CHAT })));
  deps.log.info('bot.followed', { chat_id: ctx.chat.id });
  await ctx.reply(t('follow-done', { topic }));
}

async function following(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  const t = tr(ctx);
  if (!deps.alerts) return void (await ctx.reply(t('alerts-off')));
  const list = await deps.alerts.store.following(ctx.chat.id);
  if (list.length === 0) return void (await ctx.reply(t('following-none')));
  await ctx.reply([t('following-title'), ...list.map((f, i) => `${i + 1}. ${f.topic}`), '', t('following-footer')].join('\n'));
}

/** /unfollow with a number or the topic stops that one; without, buttons to pick it. */
async function unfollow(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  const t = tr(ctx);
  if (!deps.alerts) return void (await ctx.reply(t('alerts-off')));
  const store = deps.alerts.store;
  const list = await store.following(ctx.chat.id);
  if (list.length === 0) return void (await ctx.reply(t('unfollow-none')));
  const arg = ctx.match.trim().replace(/\s+/g, ' ');
  if (!arg) {
    const kb = new InlineKeyboard();
    for (const f of list) kb.text(t('unfollow-button', { topic: f.topic.slice(0, 40) }), `${UNFOLLOW_PREFIX}${f.id}`).row();
    return void (await ctx.reply(t('unfollow-which'), { reply_markup: kb }));
  }
  const chosen = /^\d{1,3}$/.test(arg) ? list[Number(arg) - 1] : list.find((f) => f.topic.toLowerCase() === arg.toLowerCase());
  if (!chosen) return void (await ctx.reply(t('unfollow-unknown', { topic: arg })));
  await store.unfollow(ctx.chat.id, chosen.id);
  await ctx.reply(t('unfollow-done', { topic: chosen.topic }));
}

async function unfollowButton(ctx: CallbackQueryContext<Context>, deps: BotDeps): Promise<void> {
  const id = Number(ctx.callbackQuery.data.slice(UNFOLLOW_PREFIX.length));
  const message = ctx.callbackQuery.message;
  const topic = message ? (await deps.alerts?.store.following(message.chat.id))?.find((f) => f.id === id) : undefined;
  const t = tr(ctx);
  if (!message || !topic) return void (await ctx.answerCallbackQuery({ text: t('unfollow-gone') }));
  await deps.alerts!.store.unfollow(message.chat.id, id);
  const done = t('unfollow-done', { topic: topic.topic });
  await ctx.answerCallbackQuery({ text: done });
  await ctx.api.editMessageText(message.chat.id, message.message_id, done).catch(() => undefined);
}

/**
 * "Ask about this": the article becomes the chat's conversation (as if the reader had asked about
 * it), so the next question, or a reply to the alert, is understood as being about it.
 */
async function askAbout(ctx: CallbackQueryContext<Context>, deps: BotDeps): Promise<void> {
  const id = Number(ctx.callbackQuery.data.slice(ASK_PREFIX.length));
  const message = ctx.callbackQuery.message;
  const alert = message ? await deps.alerts?.store.alert(id, message.chat.id) : null;
  if (!message || !alert) return void (await ctx.answerCallbackQuery({ text: tr(ctx)('alert-gone'), show_alert: true }));
  await ctx.answerCallbackQuery().catch(() => undefined);
  const chatId = message.chat.id;
  const dated = alert.date ? ` (${alert.date})` : '';
  const exchange = await deps.conversations.record(
    chatId,
    null,
    `Tell me about “${alert.title}”`,
    `${alert.title}${dated}: ${alert.sentence}`,
  );
  await deps.conversations.linkMessages(chatId, [message.message_id], exchange);
  const html = tr(ctx)('alert-talk', { title: escapeHtml(alert.title), dated: escapeHtml(dated) });
  const sent = await sendHtml(ctx.api, chatId, html, { log: deps.log, replyTo: message.message_id });
  await deps.conversations.linkMessages(chatId, sent, exchange);
}

/** The alert message: title, date, link, the cited sentence, and why it came (in `t`'s language). */
export function renderAlertHtml(a: AlertPayload, t: Translate = english): string {
  return [
    `🔔 <b>${link(a.title, a.url)}</b>${a.date ? ` (${escapeHtml(a.date)})` : ''}`,
    `“${escapeHtml(a.sentence)}” [1]`,
    a.url ? `[1] ${escapeHtml(a.url)}` : `[1] ${escapeHtml(a.title)}`,
    `<i>${escapeHtml(t('alert-following', { topic: a.topic }))} · /unfollow</i>`,
  ].join('\n');
}

/** A correction notice: an article an answer cited was updated (or withdrawn) since. */
export function renderCorrectionHtml(a: AlertPayload, t: Translate = english): string {
  const title = `<b>${link(a.title, a.notice === 'withdrawn' ? null : a.url)}</b>${a.date ? ` (${escapeHtml(a.date)})` : ''}`;
  return `✏️ ${t(a.notice === 'withdrawn' ? 'correction-withdrawn' : 'correction-updated', { title })}`;
}

/** Limits of the sender (Telegram's: ~30 messages/s per bot, 1 message/s per chat), kept by the store for every process that sends. */
export interface SendLimits extends SendPace {
  /** How long an idle sender sleeps before looking at the outbox again (a new alert wakes it at once). */
  idleMs: number;
}

/** Delivers the outbox while the bot runs. */
export class AlertSender {
  private stopped = true;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly api: Api,
    private readonly alerts: TopicAlerts,
    private readonly deps: BotDeps,
    private readonly limits: SendLimits,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unsubscribe = this.alerts.onQueued(() => this.wake?.());
    this.alerts.start();
    this.loop = this.run();
  }

  /** Stops after the alert being sent (never mid-request), then stops matching. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.wake?.();
    await this.loop;
    await this.alerts.stop();
  }

  /** Claims the next alert the pace allows (whichever replica asks first gets it) and sends it; idles otherwise. */
  private async run(): Promise<void> {
    const { perChatMs, globalMs, idleMs } = this.limits;
    while (!this.stopped) {
      let next: NextAlert;
      try {
        next = await this.alerts.store.claimNext(Date.now(), { perChatMs, globalMs });
      } catch (err) {
        // The database is away for a moment: alerts wait in the outbox.
        this.deps.log.warn('alerts.claim_failed', { error: errorMessage(err) });
        next = { waitMs: idleMs };
      }
      if ('row' in next) await this.deliver(next.row);
      else if (!this.stopped) await this.idle(Math.max(5, Math.min(next.waitMs ?? idleMs, idleMs)));
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /**
   * The language of a chat the sender writes to with no update in hand: the chat's /language
   * choice, else English (the reader's Telegram language is only known from an update).
   */
  private async chatTranslator(chatId: number): Promise<Translate> {
    try {
      return translator(await this.deps.languages.get(chatId));
    } catch {
      return english;
    }
  }

  /** Sends one alert; what happens on failure depends on whether Telegram can have shown it. */
  private async deliver(row: OutboxRow): Promise<void> {
    const { store } = this.alerts;
    const log = this.deps.log;
    try {
      const { notice } = row.payload;
      const t = await this.chatTranslator(row.chatId);
      const msg = await this.api.sendMessage(row.chatId, notice ? renderCorrectionHtml(row.payload, t) : renderAlertHtml(row.payload, t), {
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        ...(notice === 'withdrawn'
          ? {}
          : { reply_markup: new InlineKeyboard().text(t(notice ? 'ask-again-button' : 'ask-about-button'), `${ASK_PREFIX}${row.id}`) }),
      });
      await store.markSent(row.id, msg.message_id);
      log.info('alerts.sent', { chat_id: row.chatId, alert_id: row.id });
    } catch (err) {
      if (!(err instanceof GrammyError)) {
        // No answer from Telegram: the message may have gone out, and an alert is never sent twice.
        await store.markFailed(row.id, 'unknown', errorMessage(err));
        log.warn('alerts.send_unknown', { chat_id: row.chatId, alert_id: row.id, error: errorMessage(err) });
      } else if (err.error_code === 403) {
        await store.markFailed(row.id, 'failed', err.description);
        await store.dropChat(row.chatId);
        log.info('alerts.chat_blocked', { chat_id: row.chatId, description: err.description });
      } else if ((err.error_code === 429 || err.error_code >= 500) && row.attempts < 5) {
        const after = (err.parameters.retry_after ?? 5 * 2 ** row.attempts) * 1000;
        await store.retryLater(row.id, Date.now() + after, err.description);
        log.warn('alerts.retry', { chat_id: row.chatId, alert_id: row.id, code: err.error_code, after_ms: after });
      } else {
        await store.markFailed(row.id, 'failed', err.description);
        log.warn('alerts.failed', { chat_id: row.chatId, alert_id: row.id, code: err.error_code, description: err.description });
      }
    }
  }
}
