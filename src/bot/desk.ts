/**
 * The editors' desk in the chat (src/desk does the work): every question is logged with its
 * outcome, answers carry a 👍 / 👎 pair (a 👎 asks for an optional one-line reason), /forgetme
 * deletes what is stored about the reader, and admins get /gaps, the topics readers asked about
 * that the archive did not answer, paged with buttons. Admins never see who asked.
 */
import {
  type Api,
  type CallbackQueryContext,
  type CommandContext,
  Composer,
  type Context,
  type Filter,
  InlineKeyboard,
  type NextFunction,
} from 'grammy';
import type { InlineKeyboardButton } from 'grammy/types';
import type { GapsReport, Outcome, Vote } from '../desk/index.js';
import type { Translate } from '../i18n/index.js';
import type { Answer } from '../types.js';
import { isAdmin } from './access.js';
import { adminOnly } from './admin.js';
import { callbackPattern } from './callbacks.js';
import type { BotDeps } from './deps.js';

export type { BotDesk } from './deps.js';
import { GAPS_PAGE_SIZE, renderGapsHtml } from './desk-format.js';
import { tr } from './language.js';
import { errorFields } from './logging.js';
import { editHtml, sendHtml } from './send.js';

/** Prefix of the 👍 / 👎 buttons' callback_data: `f:<question id>:u|d`. */
export const FEEDBACK_PREFIX = 'f:';
/** Prefix of the reason buttons under the 👎 follow-up: `fr:<question id>:<reason code>`. */
export const REASON_PREFIX = 'fr:';
/** Prefix of /gaps paging buttons: `gp:<days>:<page>`. */
export const GAPS_PREFIX = 'gp:';

/** The reasons a 👎 offers: recorded in English (the editors' log), shown in the reader's language. */
const REASONS: Record<string, { logged: string; key: string }> = {
  w: { logged: 'wrong', key: 'feedback-reason-wrong' },
  o: { logged: 'outdated', key: 'feedback-reason-outdated' },
  n: { logged: 'not what I asked', key: 'feedback-reason-not-asked' },
};
/** The 👎 follow-up names its question so a typed reply to it finds the question again (on any replica, in any language). */
const REASON_PROMPT = (id: number, t: Translate) => `${t('feedback-prompt')} (feedback #${id})`;
const REASON_REPLY = /\(feedback #(\d{1,15})\)$/;
const MAX_GAP_DAYS = 365;

/** /forgetme, /gaps, the feedback buttons and typed reasons. */
export function deskCommands(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.command('forgetme', (ctx) => forgetMe(ctx, deps));
  composer.command('gaps', adminOnly(deps), (ctx) => gaps(ctx, deps));
  composer.callbackQuery(callbackPattern(FEEDBACK_PREFIX, '\\d{1,15}:[ud]'), (ctx) => feedback(ctx, deps));
  composer.callbackQuery(callbackPattern(REASON_PREFIX, '\\d{1,15}:[won]'), (ctx) => reasonButton(ctx, deps));
  composer.callbackQuery(callbackPattern(GAPS_PREFIX, '\\d{1,3}:\\d{1,4}'), (ctx) => turnGapsPage(ctx, deps));
  composer.on('message:text', typedReason(deps));
  return composer;
}

/** The GAPS_DIGEST summary: once per period across replicas (the log decides who sends), to every admin's private chat. */
export class GapsDigest {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly api: Api,
    private readonly deps: BotDeps,
    private readonly schedule: { everyMs: number; tickMs: number },
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.schedule.tickMs);
    this.tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.send()
      .catch((err: unknown) => this.deps.log.warn('desk.digest_failed', { error: errorFields(err) }))
      .finally(() => {
        this.running = null;
      });
  }

  private async send(): Promise<void> {
    const desk = this.deps.desk;
    if (!desk?.questions.enabled || !(await desk.questions.log.claimEvery('gaps_digest', Date.now(), this.schedule.everyMs))) return;
    const report = await desk.questions.gaps(7, desk.embedder);
    const kb = gapsKeyboard(report, 0);
    for (const admin of this.deps.config.adminUserIds) {
      await sendHtml(this.api, admin, `Weekly summary. ${renderGapsHtml(report, 0)}`, {
        log: this.deps.log,
        ...(kb ? { keyboard: kb } : {}),
      }).catch((err: unknown) => this.deps.log.warn('desk.digest_undelivered', { error: errorFields(err) }));
    }
    this.deps.log.info('desk.digest_sent', { admins: this.deps.config.adminUserIds.length, topics: report.topics.length });
  }
}

/** Logs a question the bot handled; returns its id for the feedback buttons (null: not logged). */
export async function logQuestion(ctx: Context, deps: BotDeps, text: string, outcome: Outcome, answer?: Answer): Promise<number | null> {
  if (!deps.desk || !ctx.chat) return null;
  if (answer && answer.mode !== 'not-covered' && answer.citations.length > 0) {
    await deps.desk.corrections?.gave(
      ctx.chat.id,
      answer.citations.map((c) => c.articleId),
    );
  }
  return deps.desk.questions.record({
    text,
    outcome,
    chatType: ctx.chat.type,
    chatId: ctx.chat.id,
    ...(ctx.from ? { userId: ctx.from.id } : {}),
    ...(answer ? { answer } : {}),
    at: ctx.msg?.date ? ctx.msg.date * 1000 : Date.now(),
  });
}

/** `keyboard` with the 👍 / 👎 row added for question `id` (unchanged when there is no id). */
export function withFeedback(keyboard: InlineKeyboard | undefined, id: number | null | undefined): InlineKeyboard | undefined {
  if (id === null || id === undefined || id < 0) return keyboard;
  const kb = keyboard ?? new InlineKeyboard();
  if (kb.inline_keyboard.at(-1)?.length) kb.row();
  return kb.text('👍', `${FEEDBACK_PREFIX}${id}:u`).text('👎', `${FEEDBACK_PREFIX}${id}:d`);
}

/** /forgetme: deletes the reader's logged questions and, in a private chat, the conversation. */
async function forgetMe(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  const user = ctx.from?.id;
  if (user === undefined) return;
  const questions = deps.desk ? await deps.desk.questions.forget(user) : 0;
  const isPrivate = ctx.chat.type === 'private';
  if (isPrivate) {
    await deps.conversations.reset(ctx.chat.id);
    await deps.undelivered.take(ctx.chat.id);
    await deps.desk?.corrections?.forget(ctx.chat.id);
  }
  deps.log.info('desk.forgot_reader', { questions, conversation: isPrivate });
  await ctx.reply(tr(ctx)(isPrivate ? 'forgot-private' : 'forgot-group', { count: questions }));
}

/** A 👍 or 👎: stored on the question (pressing the same one again takes it back), the buttons show the choice. */
async function feedback(ctx: CallbackQueryContext<Context>, deps: BotDeps): Promise<void> {
  const [id, code] = parseIdAnd(ctx.callbackQuery.data, FEEDBACK_PREFIX);
  const message = ctx.callbackQuery.message;
  const t = tr(ctx);
  if (!deps.desk || !message) return void (await ctx.answerCallbackQuery({ text: t('feedback-off') }));
  const vote: Vote = code === 'u' ? 'up' : 'down';
  const row = await deps.desk.questions.log.get(id);
  const next = row?.vote === vote ? null : vote;
  if (!row || !(await deps.desk.questions.vote(id, message.chat.id, next))) {
    return void (await ctx.answerCallbackQuery({ text: t('feedback-question-gone') }));
  }
  deps.log.info('desk.feedback', { vote: next ?? 'none' });
  await ctx.answerCallbackQuery({ text: t(next === null ? 'feedback-taken-back' : 'feedback-thanks') });
  const markup = message.reply_markup?.inline_keyboard;
  if (markup) {
    const marked = markup.map((row) => row.map((b) => markChoice(b, id, next)));
    await ctx.api
      .editMessageReplyMarkup(message.chat.id, message.message_id, { reply_markup: { inline_keyboard: marked } })
      .catch((err: unknown) => deps.log.debug('desk.mark_failed', { error: String(err) }));
  }
  if (next === 'down') {
    const kb = new InlineKeyboard();
    for (const [c, reason] of Object.entries(REASONS)) kb.text(t(reason.key), `${REASON_PREFIX}${id}:${c}`);
    await ctx.api.sendMessage(message.chat.id, REASON_PROMPT(id, t), {
      reply_markup: kb,
      reply_parameters: { message_id: message.message_id, allow_sending_without_reply: true },
    });
  }
}

function markChoice(b: InlineKeyboardButton, id: number, vote: Vote | null): InlineKeyboardButton {
  if (!('callback_data' in b) || !b.callback_data?.startsWith(`${FEEDBACK_PREFIX}${id}:`)) return b;
  const up = b.callback_data.endsWith(':u');
  const chosen = (up && vote === 'up') || (!up && vote === 'down');
  return { text: `${up ? '👍' : '👎'}${chosen ? ' ✓' : ''}`, callback_data: b.callback_data };
}

function parseIdAnd(data: string, prefix: string): [number, string] {
  const [id, rest] = data.slice(prefix.length).split(':');
  return [Number(id), rest ?? ''];
}

async function reasonButton(ctx: CallbackQueryContext<Context>, deps: BotDeps): Promise<void> {
  const [id, code] = parseIdAnd(ctx.callbackQuery.data, REASON_PREFIX);
  const message = ctx.callbackQuery.message;
  const reason = REASONS[code]!;
  const t = tr(ctx);
  const saved = deps.desk && message ? await deps.desk.questions.reason(id, message.chat.id, reason.logged) : false;
  const noted = t('feedback-noted', { reason: t(reason.key) });
  await ctx.answerCallbackQuery({ text: saved ? noted : t('feedback-gone') });
  if (saved && message) await ctx.api.editMessageText(message.chat.id, message.message_id, noted).catch(() => undefined);
}

/** A reply to the 👎 follow-up is its reason; any other message goes on to the questions. */
function typedReason(deps: BotDeps) {
  return async function reason(ctx: Filter<Context, 'message:text'>, next: NextFunction): Promise<void> {
    const replied = ctx.msg.reply_to_message;
    const match = replied?.from?.id === ctx.me.id ? REASON_REPLY.exec(replied.text ?? '') : null;
    if (!match || !deps.desk) return next();
    const saved = await deps.desk.questions.reason(Number(match[1]), ctx.chat.id, ctx.msg.text);
    await ctx.reply(tr(ctx)(saved ? 'feedback-typed-noted' : 'feedback-typed-gone'));
  };
}

/** /gaps [days]: the first page of topics. */
async function gaps(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  if (!deps.desk?.questions.enabled) return void (await ctx.reply('The question log is off (QUESTION_LOG_DAYS=0).'));
  // Readers' questions are for the editors, not for everyone in a group.
  if (ctx.chat.type !== 'private') return void (await ctx.reply('Send /gaps in a private chat with me: it shows what readers asked.'));
  const arg = ctx.match.trim();
  const days = arg === '' ? 7 : Number(arg);
  if (!Number.isInteger(days) || days < 1 || days > MAX_GAP_DAYS) {
    return void (await ctx.reply(`Usage: /gaps [days], for example /gaps 7 (1 to ${MAX_GAP_DAYS}).`));
  }
  const report = await deps.desk.questions.gaps(days, deps.desk.embedder);
  const kb = gapsKeyboard(report, 0);
  await sendHtml(ctx.api, ctx.chat.id, renderGapsHtml(report, 0), { log: deps.log, ...(kb ? { keyboard: kb } : {}) });
}

/** A /gaps page button: admins only (the presser is checked, not who sent /gaps). */
async function turnGapsPage(ctx: CallbackQueryContext<Context>, deps: BotDeps): Promise<void> {
  if (!isAdmin(deps.config, ctx.from.id) || !deps.desk) {
    return void (await ctx.answerCallbackQuery({ text: 'Only the bot’s admins can do that.', show_alert: true }));
  }
  const [days, page] = parseIdAnd(ctx.callbackQuery.data, GAPS_PREFIX).map(Number) as [number, number];
  const message = ctx.callbackQuery.message;
  await ctx.answerCallbackQuery().catch(() => undefined);
  if (!message || days < 1 || days > MAX_GAP_DAYS) return;
  const report = await deps.desk.questions.gaps(days, deps.desk.embedder);
  const shown = Math.min(page, Math.max(0, Math.ceil(report.topics.length / GAPS_PAGE_SIZE) - 1));
  const kb = gapsKeyboard(report, shown);
  await editHtml(ctx.api, message.chat.id, message.message_id, renderGapsHtml(report, shown), {
    log: deps.log,
    ...(kb ? { keyboard: kb } : {}),
  });
}

function gapsKeyboard(report: GapsReport, page: number): InlineKeyboard | undefined {
  const kb = new InlineKeyboard();
  if (page > 0) kb.text('‹ Previous', `${GAPS_PREFIX}${report.days}:${page - 1}`);
  if ((page + 1) * GAPS_PAGE_SIZE < report.topics.length) kb.text('Next ›', `${GAPS_PREFIX}${report.days}:${page + 1}`);
  return kb.inline_keyboard[0]?.length ? kb : undefined;
}
