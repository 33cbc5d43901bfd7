/**
 * The main path: a text message becomes a question, answered with history,
 * streamed while it is written, then delivered as formatted HTML with sources,
 * a "Show quotes" button and a link from every answer message to its turn.
 */
import type { Context } from 'grammy';
import type { Answer } from '../types.js';
import type { BotDeps } from './deps.js';
import { renderAnswerHtml, splitHtml } from './format.js';
import { stripMention } from './groups.js';
import { errorFields } from './logging.js';
import { quotesKeyboard } from './quotes.js';
import { editHtml, sendChunks } from './send.js';
import { startTyping, streamAnswer } from './stream.js';

/** The id of the bot message this message replies to, if it replies to the bot. */
function repliedBotMessage(ctx: Context): number | undefined {
  const reply = ctx.msg?.reply_to_message;
  return reply && reply.from?.id === ctx.me.id ? reply.message_id : undefined;
}

/** Handles a text message as a question (checks length first). */
export async function question(ctx: Context, deps: BotDeps): Promise<void> {
  const chat = ctx.chat;
  const raw = ctx.msg?.text;
  if (!chat || raw === undefined) return;
  const text = stripMention(raw, ctx.me);
  if (!text) {
    const hint =
      chat.type === 'private'
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

async function answer(ctx: Context, deps: BotDeps, text: string): Promise<void> {
  const chat = ctx.chat!;
  const isPrivate = chat.type === 'private';
  // In groups the answer replies to the question so it is clear whose it is.
  const replyTo = isPrivate ? undefined : ctx.msg?.message_id;
  const started = Date.now();
  const { parentId, history } = deps.conversations.contextFor(chat.id, repliedBotMessage(ctx));
  const typing = startTyping(ctx.api, chat.id, deps.tuning.typingIntervalMs, deps.log);
  let result: { answer: Answer; previewMessageId?: number };
  try {
    const stream = deps.answerer.askStream(text, history);
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
  const ids = await deliver(ctx, deps, a, previewMessageId, replyTo);
  const exchangeId = deps.conversations.record(chat.id, parentId, text, a.text);
  deps.conversations.linkMessages(chat.id, ids, exchangeId);
  deps.counters.increment('questions_answered');
  deps.answeredSinceStart++;
  deps.log.info('answered', {
    update_id: ctx.update.update_id,
    chat_id: chat.id,
    mode: a.mode,
    citations: a.citations.length,
    history_turns: history.length,
    messages: ids.length,
    ms: Date.now() - started,
  });
}

/** Sends the formatted answer, reusing the preview message for its first part; returns all message ids. */
async function deliver(ctx: Context, deps: BotDeps, a: Answer, previewId: number | undefined, replyTo: number | undefined): Promise<number[]> {
  const chatId = ctx.chat!.id;
  const chunks = splitHtml(renderAnswerHtml(a));
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
      deps.log.warn('preview_finalize_failed', { chat_id: chatId, error: errorFields(err) });
      ctx.api.deleteMessage(chatId, previewId).catch(() => undefined);
    }
    if (edited) return [previewId, ...(await sendChunks(ctx.api, chatId, chunks.slice(1), options))];
  }
  return sendChunks(ctx.api, chatId, chunks, { ...options, ...(replyTo === undefined ? {} : { replyTo }) });
}
