/**
 * Showing an answer while it is generated. In private chats the partial text
 * goes out as a message draft (`sendMessageDraft`); elsewhere, or as soon as
 * drafts fail, one preview message is edited at most about once a second. The
 * final, formatted answer is delivered by the caller; a preview message, if
 * there is one, becomes its first part.
 */
import { randomInt } from 'node:crypto';
import type { Api } from 'grammy';
import type { Answer, AnswerStream } from '../types.js';
import type { Logger } from '../util/log.js';
import { TELEGRAM_MAX_CHARS, wellFormed } from './format.js';
import { errorFields } from './logging.js';
import { isNotModified } from './send.js';
import { LatestThrottle } from './throttle.js';

/** How often previews may be updated. */
export interface StreamTiming {
  draftIntervalMs: number;
  editIntervalMs: number;
}

/** Keeps the "typing…" indicator alive until stopped. */
export interface Typing {
  stop(): void;
}

/**
 * Sends the "typing" chat action now and every `intervalMs` (Telegram shows it for
 * about 5 s). Failures are ignored: the indicator is cosmetic and some servers lack it.
 */
export function startTyping(api: Api, chatId: number, intervalMs: number, log: Logger): Typing {
  let warned = false;
  const send = () => {
    api.sendChatAction(chatId, 'typing').catch((err: unknown) => {
      if (warned) return;
      warned = true;
      log.debug('bot.chat_action_failed', { chat_id: chatId, error: errorFields(err) });
    });
  };
  send();
  const timer = setInterval(send, intervalMs);
  return { stop: () => clearInterval(timer) };
}

/** Partial text as shown in a preview: capped at Telegram's size, marked as unfinished. */
function previewText(text: string): string {
  const limit = TELEGRAM_MAX_CHARS - 2;
  const body = text.length > limit ? text.slice(0, limit) : text;
  return `${wellFormed(body).trimEnd()} …`;
}

/** The live preview of one answer. */
class AnswerPreview {
  private mode: 'draft' | 'edit' | 'off';
  private messageId: number | undefined;
  private readonly draftId = randomInt(1, 2 ** 31 - 1);
  private readonly throttle: LatestThrottle<string>;

  constructor(
    private readonly api: Api,
    private readonly chatId: number,
    isPrivate: boolean,
    private readonly timing: StreamTiming,
    private readonly replyTo: number | undefined,
    private readonly log: Logger,
  ) {
    this.mode = isPrivate ? 'draft' : 'edit';
    this.throttle = new LatestThrottle(isPrivate ? timing.draftIntervalMs : timing.editIntervalMs, (t) => this.show(t));
  }

  /** Offers the text so far; shown when the throttle allows. */
  update(text: string): void {
    if (this.mode !== 'off' && text.trim()) this.throttle.push(text);
  }

  /** Stops previewing; returns the preview message's id when one was sent. */
  async finish(): Promise<number | undefined> {
    await this.throttle.close();
    return this.mode === 'edit' ? this.messageId : undefined;
  }

  private async show(text: string): Promise<void> {
    if (this.mode === 'draft') {
      try {
        await this.api.sendMessageDraft(this.chatId, this.draftId, previewText(text));
        return;
      } catch (err) {
        this.log.info('bot.draft_unavailable', { chat_id: this.chatId, error: errorFields(err) });
        this.mode = 'edit';
        this.throttle.intervalMs = this.timing.editIntervalMs;
      }
    }
    if (this.mode !== 'edit') return;
    try {
      if (this.messageId === undefined) {
        const msg = await this.api.sendMessage(this.chatId, previewText(text), {
          ...(this.replyTo === undefined ? {} : { reply_parameters: { message_id: this.replyTo, allow_sending_without_reply: true } }),
          link_preview_options: { is_disabled: true },
        });
        this.messageId = msg.message_id;
      } else {
        await this.api.editMessageText(this.chatId, this.messageId, previewText(text), { link_preview_options: { is_disabled: true } });
      }
    } catch (err) {
      if (isNotModified(err)) return;
      // Previews are a nicety: after a failure the final answer still arrives, just without live updates.
      this.log.warn('bot.preview_failed', { chat_id: this.chatId, error: errorFields(err) });
      if (this.messageId === undefined) this.mode = 'off';
    }
  }
}

/** Where and how to stream. */
export interface StreamTarget {
  api: Api;
  chatId: number;
  isPrivate: boolean;
  replyTo?: number;
  timing: StreamTiming;
  log: Logger;
}

/**
 * Reads an answer stream, previewing its text as it grows, and returns the final
 * answer plus the id of the preview message (edit mode only) for the caller to reuse.
 * Rejects only when the answer's result rejects.
 */
export async function streamAnswer(target: StreamTarget, stream: AnswerStream): Promise<{ answer: Answer; previewMessageId?: number }> {
  const result = stream.result;
  // Attach a handler now: the result may reject while the text is still being read.
  result.catch(() => undefined);
  const preview = new AnswerPreview(target.api, target.chatId, target.isPrivate, target.timing, target.replyTo, target.log);
  let previewMessageId: number | undefined;
  try {
    let text = '';
    try {
      for await (const delta of stream.text) {
        text += delta;
        preview.update(text);
      }
    } catch (err) {
      // The result still settles (the answerer falls back on its own); only the preview stops early.
      target.log.warn('bot.answer_stream_broken', { chat_id: target.chatId, error: errorFields(err) });
    }
  } finally {
    previewMessageId = await preview.finish();
  }
  const answer = await result;
  return previewMessageId === undefined ? { answer } : { answer, previewMessageId };
}
