/**
 * The main path: a text message becomes a question, answered with history,
 * streamed while it is written, then delivered as formatted HTML with sources,
 * a "Show quotes" button and a link from every answer message to its turn. An answer that
 * Telegram could not take is kept, and "try again" (typed, or the apology's button) sends it.
 */
import { type Api, type CallbackQueryContext, Composer, type Context, type Filter, InlineKeyboard } from 'grammy';
import type { Translate } from '../i18n/index.js';
import { primaryLanguage } from '../language/index.js';
import type { Answer } from '../types.js';
import { callbackPattern } from './callbacks.js';
import { unknownCommand } from './commands.js';
import { logQuestion, withFeedback } from './desk.js';
import type { BotDeps } from './deps.js';
import { renderAnswerHtml, splitHtml } from './format.js';
import { stripMention } from './groups.js';
import { chatLanguage, tr } from './language.js';
import { errorFields } from './logging.js';
import { quotesKeyboard } from './quotes.js';
import { editHtml, sendChunks } from './send.js';
import { startTyping, streamAnswer } from './stream.js';
import type { UndeliveredAnswer } from './undelivered.js';

/** A text message, as the questions feature sees it. */
type TextContext = Filter<Context, 'message:text'>;
/** Any message that carries a question (typed, or a transcribed voice note). */
type QuestionContext = Filter<Context, 'message'>;

/** Prefix of the "Try again" button under the apology for an answer that could not be sent. */
export const AGAIN_PREFIX = 'a:';
const AGAIN_DATA = `${AGAIN_PREFIX}send`;
/** What a user types to get the kept answer: "try again", "Try again!", "please send it again". */
const TRY_AGAIN = /^(please\s+)?(try|send(\s+it)?)\s+again\W*$/i;

/** Every text message that is not a command (unknown commands get a hint) is a question; "try again" first sends a kept answer. */
export function questions(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.callbackQuery(callbackPattern(AGAIN_PREFIX, 'send'), (ctx) => tryAgainButton(ctx, deps));
  composer.on('message:text', unknownCommand, (ctx) => question(ctx, deps));
  return composer;
}

/** The id of the bot message this message replies to, if it replies to the bot. */
function repliedBotMessage(ctx: QuestionContext): number | undefined {
  const reply = ctx.msg.reply_to_message;
  return reply && reply.from?.id === ctx.me.id ? reply.message_id : undefined;
}

/** Handles a text message as a question (checks length first). */
async function question(ctx: TextContext, deps: BotDeps): Promise<void> {
  const t = tr(ctx);
  const text = stripMention(ctx.msg.text, ctx.me);
  if (!text) {
    await ctx.reply(ctx.chat.type === 'private' ? t('question-empty') : t('question-empty-group', { bot: ctx.me.username }));
    return;
  }
  if (TRY_AGAIN.test(text) && (await deps.undelivered.has(ctx.chat.id))) {
    await sendKept(ctx.api, ctx.chat.id, deps, t);
    return;
  }
  const max = deps.config.maxQuestionChars;
  if (text.length > max) {
    deps.log.info('bot.question_refused', { chat_id: ctx.chat.id, reason: 'too_long', chars: text.length });
    await logQuestion(ctx, deps, text, 'refused');
    await ctx.reply(t('question-too-long', { chars: String(text.length), max: String(max) }));
    return;
  }
  await answer(ctx, deps, text);
}

/** Answers `text` as the question of `ctx`'s message, with the chat's history, and records it. */
export async function answer(ctx: QuestionContext, deps: BotDeps, text: string): Promise<void> {
  const chat = ctx.chat;
  const isPrivate = chat.type === 'private';
  // In groups the answer replies to the question so it is clear whose it is.
  const replyTo = isPrivate ? undefined : ctx.msg.message_id;
  const started = Date.now();
  const t = tr(ctx);
  const { parentId, history } = await deps.conversations.contextFor(chat.id, repliedBotMessage(ctx));
  const typing = startTyping(ctx.api, chat.id, deps.tuning.typingIntervalMs, deps.log);
  let result: { answer: Answer; previewMessageId?: number };
  try {
    // "This week" and "recently" count from when the reader asked, not from when the bot got to it.
    // The chat's /language choice is the answer's language; without one, the reader's Telegram
    // language tells the answerer which language its own lines are in.
    const { chosen } = await chatLanguage(ctx, deps);
    const readerLanguage = chosen ?? primaryLanguage(ctx.from?.language_code);
    const stream = deps.answerer.askStream(text, history, {
      now: new Date(ctx.msg.date * 1000),
      ...(readerLanguage ? { readerLanguage } : {}),
      ...(chosen ? { answerLanguage: chosen } : {}),
    });
    result = await streamAnswer(
      {
        api: ctx.api,
        chatId: chat.id,
        isPrivate,
        timing: deps.tuning,
        log: deps.log,
        ...(replyTo === undefined ? {} : { replyTo }),
      },
      stream,
    );
  } catch (err) {
    await logQuestion(ctx, deps, text, 'failed');
    throw err;
  } finally {
    typing.stop();
  }
  const { answer: a, previewMessageId } = result;
  const questionId = await logQuestion(ctx, deps, text, 'answered', a);
  const kept: UndeliveredAnswer = { question: text, answer: a, parentId, replyTo, questionId };
  let ids: number[];
  try {
    ids = await deliver(ctx.api, chat.id, deps, { answer: a, previewId: previewMessageId, replyTo, questionId, t });
  } catch (err) {
    await keepUndelivered(ctx.api, chat.id, deps, kept, err, t);
    return;
  }
  await recordAnswered(chat.id, deps, kept, ids);
  deps.log.info('bot.answered', {
    update_id: ctx.update.update_id,
    chat_id: chat.id,
    mode: a.mode,
    citations: a.citations.length,
    history_turns: history.length,
    messages: ids.length,
    ms: Date.now() - started,
  });
}

/**
 * Records a delivered answer: conversation memory, the links from its messages, the counters.
 * The user already has the answer, so a database that fails now is logged, not reported to them.
 */
async function recordAnswered(chatId: number, deps: BotDeps, item: UndeliveredAnswer, ids: number[]): Promise<void> {
  deps.answeredSinceStart++;
  try {
    const exchangeId = await deps.conversations.record(chatId, item.parentId, item.question, item.answer.text);
    await deps.conversations.linkMessages(chatId, ids, exchangeId);
    await deps.counters.increment('questions_answered');
  } catch (err) {
    deps.log.warn('bot.record_failed', { chat_id: chatId, error: errorFields(err) });
  }
}

/**
 * The answer could not be delivered (even after the send's own retry): keep it, and apologise
 * with a button that sends it, so the user does not wait for retrieval and the LLM again.
 */
async function keepUndelivered(
  api: Api,
  chatId: number,
  deps: BotDeps,
  item: UndeliveredAnswer,
  err: unknown,
  t: Translate,
): Promise<void> {
  try {
    await deps.undelivered.keep(chatId, item);
  } catch (keepErr) {
    deps.log.warn('bot.keep_failed', { chat_id: chatId, error: errorFields(keepErr) });
  }
  deps.log.warn('bot.answer_undelivered', { chat_id: chatId, error: errorFields(err) });
  try {
    await api.sendMessage(chatId, t('undelivered'), {
      reply_markup: new InlineKeyboard().text(t('try-again-button'), AGAIN_DATA),
      ...(item.replyTo === undefined ? {} : { reply_parameters: { message_id: item.replyTo, allow_sending_without_reply: true } }),
    });
  } catch (replyErr) {
    // Telegram is still unreachable; the answer stays kept for when the user writes again.
    deps.log.warn('bot.error_reply_failed', { chat_id: chatId, error: errorFields(replyErr) });
  }
}

/** Sends the chat's kept answer (if it could not be sent either, it is kept again). */
async function sendKept(api: Api, chatId: number, deps: BotDeps, t: Translate): Promise<boolean> {
  const item = await deps.undelivered.take(chatId);
  if (!item) return false;
  let ids: number[];
  try {
    ids = await deliver(api, chatId, deps, {
      answer: item.answer,
      previewId: undefined,
      replyTo: item.replyTo,
      questionId: item.questionId ?? null,
      t,
    });
  } catch (err) {
    await keepUndelivered(api, chatId, deps, item, err, t);
    return true;
  }
  await recordAnswered(chatId, deps, item, ids);
  deps.log.info('bot.answered_again', { chat_id: chatId, messages: ids.length });
  return true;
}

/** The apology's "Try again" button: sends the kept answer, or says it is gone. */
async function tryAgainButton(ctx: CallbackQueryContext<Context>, deps: BotDeps): Promise<void> {
  const chatId = ctx.callbackQuery.message?.chat.id;
  if (chatId === undefined || !(await deps.undelivered.has(chatId))) {
    await ctx.answerCallbackQuery({ text: tr(ctx)('answer-gone'), show_alert: true });
    return;
  }
  await ctx.answerCallbackQuery().catch(() => undefined);
  await sendKept(ctx.api, chatId, deps, tr(ctx));
}

/** A finished answer and where it goes. */
interface Delivery {
  answer: Answer;
  /** The streamed preview message that becomes the answer's first part, if there is one. */
  previewId: number | undefined;
  /** The question the answer replies to (groups). */
  replyTo: number | undefined;
  /** The question's id in the question log: the answer gets 👍 / 👎 buttons (not for "not covered"). */
  questionId: number | null;
  /** The chat's language, for the labels and buttons. */
  t: Translate;
}

/** Sends the formatted answer, reusing the preview message for its first part; returns all message ids. */
async function deliver(api: Api, chatId: number, deps: BotDeps, delivery: Delivery): Promise<number[]> {
  const { answer: a, previewId, replyTo, t } = delivery;
  const chunks = splitHtml(renderAnswerHtml(a, (id) => deps.library.articleLocation?.(id) ?? null, t));
  const withQuotes = a.mode !== 'not-covered' && a.citations.some((c) => c.quote.trim());
  const quotesKb = withQuotes ? await quotesButton(chatId, deps, a, t) : undefined;
  const keyboard = a.mode === 'not-covered' ? quotesKb : withFeedback(quotesKb, delivery.questionId);
  const options = { log: deps.log, ...(keyboard ? { keyboard } : {}) };
  if (previewId !== undefined && chunks.length > 0) {
    let edited = false;
    try {
      await editHtml(api, chatId, previewId, chunks[0]!, chunks.length === 1 ? options : { log: deps.log });
      edited = true;
    } catch (err) {
      // The preview could not become the answer (deleted, too old): send the answer fresh instead.
      deps.log.warn('bot.preview_finalize_failed', { chat_id: chatId, error: errorFields(err) });
      api.deleteMessage(chatId, previewId).catch(() => undefined);
    }
    if (edited) return [previewId, ...(await sendChunks(api, chatId, chunks.slice(1), options))];
  }
  return sendChunks(api, chatId, chunks, { ...options, ...(replyTo === undefined ? {} : { replyTo }) });
}

/** The "Show quotes" button for an answer; none when its quotes cannot be stored now (the answer matters more). */
async function quotesButton(chatId: number, deps: BotDeps, a: Answer, t: Translate): Promise<InlineKeyboard | undefined> {
  try {
    return quotesKeyboard(await deps.quotes.save(chatId, a.citations), t);
  } catch (err) {
    deps.log.warn('bot.quotes_save_failed', { chat_id: chatId, error: errorFields(err) });
    return undefined;
  }
}
