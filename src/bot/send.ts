/**
 * Sending and editing HTML messages with the safety nets Telegram needs: split
 * at 4096 characters, and if Telegram still rejects the markup, the same text
 * goes out as plain text instead of failing the answer.
 */
import { GrammyError, type Api } from 'grammy';
import type { InlineKeyboardMarkup, ReplyParameters } from 'grammy/types';
import type { Logger } from '../util/log.js';
import { TELEGRAM_MAX_CHARS, htmlToPlain, splitHtml, splitPlain } from './format.js';
import { errorFields } from './logging.js';

/** Options shared by the send helpers. */
export interface SendOptions {
  /** Message the first part replies to. */
  replyTo?: number;
  /** Inline keyboard attached to the last part. */
  keyboard?: InlineKeyboardMarkup;
  log: Logger;
}

/** True when Telegram refused the message because its HTML did not parse. */
function isParseError(err: unknown): boolean {
  return (
    err instanceof GrammyError &&
    err.error_code === 400 &&
    /parse entities|can't find end|unsupported start tag|unclosed|entity/i.test(err.description ?? '')
  );
}

/** True when an edit was refused because nothing changed. */
export function isNotModified(err: unknown): boolean {
  return err instanceof GrammyError && err.error_code === 400 && /not modified/i.test(err.description ?? '');
}

function replyParameters(replyTo: number | undefined): { reply_parameters?: ReplyParameters } {
  return replyTo === undefined ? {} : { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } };
}

/** Sends `html` as one or more messages; returns their ids in order. */
export async function sendHtml(api: Api, chatId: number, html: string, options: SendOptions): Promise<number[]> {
  return sendChunks(api, chatId, splitHtml(html), options);
}

/** Sends already-split HTML parts, each falling back to plain text if Telegram rejects its markup. */
export async function sendChunks(api: Api, chatId: number, chunks: readonly string[], options: SendOptions): Promise<number[]> {
  const ids: number[] = [];
  for (const [i, chunk] of chunks.entries()) {
    const last = i === chunks.length - 1;
    const extra = {
      ...replyParameters(i === 0 ? options.replyTo : undefined),
      ...(last && options.keyboard ? { reply_markup: options.keyboard } : {}),
      link_preview_options: { is_disabled: true },
    };
    try {
      const msg = await api.sendMessage(chatId, chunk, { ...extra, parse_mode: 'HTML' });
      ids.push(msg.message_id);
    } catch (err) {
      if (!isParseError(err)) throw err;
      options.log.warn('bot.html_rejected', { chat_id: chatId, error: errorFields(err) });
      const pieces = splitPlain(htmlToPlain(chunk));
      for (const [k, piece] of pieces.entries()) {
        const keep = k === pieces.length - 1 ? extra : { ...extra, reply_markup: undefined };
        const msg = await api.sendMessage(chatId, piece, keep);
        ids.push(msg.message_id);
      }
    }
  }
  return ids;
}

/** Replaces a message's text with one HTML part (plain text if the markup is refused); "not modified" is fine. */
export async function editHtml(
  api: Api,
  chatId: number,
  messageId: number,
  html: string,
  options: Pick<SendOptions, 'keyboard' | 'log'>,
): Promise<void> {
  const extra = {
    ...(options.keyboard ? { reply_markup: options.keyboard } : {}),
    link_preview_options: { is_disabled: true },
  };
  try {
    await api.editMessageText(chatId, messageId, html, { ...extra, parse_mode: 'HTML' });
  } catch (err) {
    if (isNotModified(err)) return;
    if (!isParseError(err)) throw err;
    options.log.warn('bot.html_rejected', { chat_id: chatId, error: errorFields(err) });
    try {
      await api.editMessageText(chatId, messageId, htmlToPlain(html).slice(0, TELEGRAM_MAX_CHARS), extra);
    } catch (again) {
      if (!isNotModified(again)) throw again;
    }
  }
}

/** Sends plain text (split if needed); for short notices that must never fail on markup. */
export async function sendPlain(api: Api, chatId: number, text: string, options: Pick<SendOptions, 'replyTo'> = {}): Promise<number[]> {
  const ids: number[] = [];
  for (const [i, piece] of splitPlain(text).entries()) {
    const msg = await api.sendMessage(chatId, piece, replyParameters(i === 0 ? options.replyTo : undefined));
    ids.push(msg.message_id);
  }
  return ids;
}
