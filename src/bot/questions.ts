/**
 * The main path: a text message becomes a question, answered with history,
 * streamed while it is written, then delivered as formatted HTML with sources,
 * a "Show quotes" button and a link from every answer message to its turn.
 */
import { Composer, type Context, type Filter } from 'grammy';
import type { Answer } from '../types.js';
import { unknownCommand } from './commands.js';
import type { BotDeps } from './deps.js';
import { renderAnswerHtml, splitHtml } from './format.js';
import { stripMention } from './groups.js';
import { errorFields } from './logging.js';
import { quotesKeyboard } from './quotes.js';
import { editHtml, sendChunks } from './send.js';
import { startTyping, streamAnswer } from './stream.js';

/** A text message, as the questions feature sees it. */
type TextContext = Filter<Context, 'message:text'>;

/** Every text message that is not a command (unknown commands get a hint) is a question. */
export function questions(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.on('message:text', unknownCommand, (ctx) => question(ctx, deps));
  return composer;
}

/** The id of the bot message this message replies to, if it replies to the bot. */
function repliedBotMessage(ctx: TextContext): number | undefined {
  const reply = ctx.msg.reply_to_message;
  return reply && reply.from?.id === ctx.me.id ? reply.message_id : undefined;
}

/** Handles a text message as a question (checks length first). */
async function question(ctx: TextContext, deps: BotDeps): Promise<void> {
  const text = stripMention(ctx.msg.text, ctx.me);
  if (!text) {
    const hint =
      ctx.chat.type === 'private'
        ? 'Please type a question, for example: What happened this week?'
        : `Ask me something after the mention, for example: @${ctx.me.username} what happened this week?`;
    await ctx.reply(hint);
    return;
  }
  const max = deps.config.maxQuestionChars;
  if (text.length > max) {
    await ctx.reply(`That message is too long (${text.length} characters). Please keep questions under ${max} characters.`);
    return;
  }
  await answer(ctx, deps, text);
}

async function answer(ctx: TextContext, deps: BotDeps, text: string): Promise<void> {
  const chat = ctx.chat;
  const isPrivate = chat.type === 'private';
  // In groups the answer replies to the question so it is clear whose it is.
  const replyTo = isPrivate ? undefined : ctx.msg.message_id;
  const started = Date.now();
  const { parentId, history } = deps.conversations.contextFor(chat.id, repliedBotMessage(ctx));
  const typing = startTyping(ctx.api, chat.id, deps.tuning.typingIntervalMs, deps.log);
  let result: { answer: Answer; previewMessageId?: number };
  try {
    // "This week" and "recently" count from when the reader asked, not from when the bot got to it.
    const stream = deps.answerer.askStream(text, history, { now: new Date(ctx.msg.date * 1000) });
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
  } finally {
    typing.stop();
  }
  const { answer: a, previewMessageId } = result;
  const ids = await deliver(ctx, deps, { answer: a, previewId: previewMessageId, replyTo });
  const exchangeId = deps.conversations.record(chat.id, parentId, text, a.text);
  deps.conversations.linkMessages(chat.id, ids, exchangeId);
  deps.counters.increment('questions_answered');
  deps.answeredSinceStart++;
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

/** A finished answer and where it goes. */
interface Delivery {
  answer: Answer;
  /** The streamed preview message that becomes the answer's first part, if there is one. */
  previewId: number | undefined;
  /** The question the answer replies to (groups). */
  replyTo: number | undefined;
}

/** Sends the formatted answer, reusing the preview message for its first part; returns all message ids. */
async function deliver(ctx: TextContext, deps: BotDeps, delivery: Delivery): Promise<number[]> {
  const { answer: a, previewId, replyTo } = delivery;
  const chatId = ctx.chat.id;
  const chunks = splitHtml(renderAnswerHtml(a, (id) => deps.library.articleLocation?.(id) ?? null));
  const withQuotes = a.mode !== 'not-covered' && a.citations.some((c) => c.quote.trim());
  const keyboard = withQuotes ? quotesKeyboard(deps.quotes.save(chatId, a.citations)) : undefined;
  const options = { log: deps.log, ...(keyboard ? { keyboard } : {}) };
  if (previewId !== undefined && chunks.length > 0) {
    let edited = false;
    try {
      await editHtml(ctx.api, chatId, previewId, chunks[0]!, chunks.length === 1 ? options : { log: deps.log });
      edited = true;
    } catch (err) {
      // The preview could not become the answer (deleted, too old): send the answer fresh instead.
      deps.log.warn('bot.preview_finalize_failed', { chat_id: chatId, error: errorFields(err) });
      ctx.api.deleteMessage(chatId, previewId).catch(() => undefined);
    }
    if (edited) return [previewId, ...(await sendChunks(ctx.api, chatId, chunks.slice(1), options))];
  }
  return sendChunks(ctx.api, chatId, chunks, { ...options, ...(replyTo === undefined ? {} : { replyTo }) });
}
