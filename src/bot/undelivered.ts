/**
 * Answers that were ready but could not be delivered (Telegram unreachable even after one more
 * try). The last one per chat is kept in memory for a while, so "try again" sends it at once
 * instead of running retrieval and the LLM again. Bounded: one per chat, oldest chats dropped first.
 */
import type { Answer } from '../types.js';

/** An answer waiting to be sent again, with what is needed to record it in the conversation. */
export interface UndeliveredAnswer {
  question: string;
  answer: Answer;
  /** The exchange the question followed up (conversation memory). */
  parentId: number | null;
  /** The question's message, which the answer replies to in groups. */
  replyTo: number | undefined;
  /** The question's id in the question log, for its feedback buttons. */
  questionId?: number | null;
}

/** The last undelivered answer of each chat, for `ttlMs`, at most `maxChats` chats. */
export class UndeliveredAnswers {
  private readonly byChat = new Map<number, UndeliveredAnswer & { at: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxChats = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keeps `item` as the chat's answer to send again (replacing an older one). */
  keep(chatId: number, item: UndeliveredAnswer): void {
    this.byChat.delete(chatId);
    this.byChat.set(chatId, { ...item, at: this.now() });
    for (const key of this.byChat.keys()) {
      if (this.byChat.size <= this.maxChats) break;
      this.byChat.delete(key);
    }
  }

  /** True when the chat has an answer waiting that has not expired. */
  has(chatId: number): boolean {
    const item = this.byChat.get(chatId);
    if (item && this.now() - item.at > this.ttlMs) this.byChat.delete(chatId);
    return this.byChat.has(chatId);
  }

  /** Removes and returns the chat's waiting answer, if it has not expired. */
  take(chatId: number): UndeliveredAnswer | undefined {
    if (!this.has(chatId)) return undefined;
    const { at: _at, ...item } = this.byChat.get(chatId)!;
    this.byChat.delete(chatId);
    return item;
  }
}
