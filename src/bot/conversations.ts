/**
 * Per-chat conversation memory, persisted in SQLite so a restart forgets nothing.
 *
 * Each question and its answer is an "exchange" pointing at the exchange it
 * followed. A chat's head is its latest exchange; replying to an older bot answer
 * starts from that answer's exchange instead, so the conversation branches there.
 * History is the chain of exchanges back from the starting point, bounded in
 * length, and everything idle for longer than the TTL is forgotten.
 */
import type { Turn } from '../types.js';
import type { StateDb } from './state.js';

/** How much to remember and for how long. */
export interface ConversationOptions {
  /** Idle time after which a conversation is forgotten. */
  ttlMs: number;
  /** Maximum history turns (user and assistant messages) handed to the answerer. */
  maxTurns: number;
  now?: () => number;
}

/** Where a new question continues from, and the history up to there. */
export interface ConversationContext {
  parentId: number | null;
  history: Turn[];
}

interface ExchangeRow {
  id: number;
  question: string;
  answer: string;
}

/** SQLite-backed conversation memory for all chats. */
export class ConversationStore {
  private readonly now: () => number;

  constructor(
    private readonly state: StateDb,
    private readonly options: ConversationOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The context for a new message in `chatId`: continues from the answer it replies to
   * (when that answer is known and not expired), else from the chat's current conversation.
   */
  contextFor(chatId: number, replyToMessageId?: number): ConversationContext {
    if (!this.state.isOpen()) return { parentId: null, history: [] };
    const since = this.now() - this.options.ttlMs;
    const db = this.state.db;
    let start: number | null = null;
    if (replyToMessageId !== undefined) {
      const row = db
        .prepare(
          `SELECT e.id FROM answer_messages m JOIN exchanges e ON e.id = m.exchange_id
           WHERE m.chat_id = ? AND m.message_id = ? AND e.created_at >= ?`,
        )
        .get(chatId, replyToMessageId, since) as { id: number } | undefined;
      start = row?.id ?? null;
    }
    if (start === null) {
      const head = db.prepare('SELECT exchange_id FROM heads WHERE chat_id = ? AND updated_at >= ?').get(chatId, since) as
        | { exchange_id: number | null }
        | undefined;
      start = head?.exchange_id ?? null;
    }
    if (start === null) return { parentId: null, history: [] };
    const depth = Math.ceil(this.options.maxTurns / 2);
    const chain = db
      .prepare(
        `WITH RECURSIVE chain(id, parent_id, question, answer, depth) AS (
           SELECT id, parent_id, question, answer, 0 FROM exchanges WHERE id = ? AND chat_id = ?
           UNION ALL
           SELECT e.id, e.parent_id, e.question, e.answer, c.depth + 1
           FROM exchanges e JOIN chain c ON e.id = c.parent_id
           WHERE c.depth + 1 < ? AND e.created_at >= ?
         )
         SELECT id, question, answer FROM chain ORDER BY depth DESC`,
      )
      .all(start, chatId, depth, since) as ExchangeRow[];
    if (chain.length === 0) return { parentId: null, history: [] };
    const history: Turn[] = chain.flatMap((e) => [
      { role: 'user' as const, content: e.question },
      { role: 'assistant' as const, content: e.answer },
    ]);
    // slice(-0) would keep everything: 0 turns means no memory.
    return { parentId: start, history: this.options.maxTurns > 0 ? history.slice(-this.options.maxTurns) : [] };
  }

  /** Stores a question and its answer after `parentId`, makes it the chat's head, and returns its id. */
  record(chatId: number, parentId: number | null, question: string, answer: string): number {
    if (!this.state.isOpen()) return -1;
    const now = this.now();
    const db = this.state.db;
    const id = db.transaction(() => {
      const info = db
        .prepare('INSERT INTO exchanges(chat_id, parent_id, question, answer, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(chatId, parentId, question, answer, now);
      const exchangeId = Number(info.lastInsertRowid);
      db.prepare(
        `INSERT INTO heads(chat_id, exchange_id, updated_at) VALUES (?, ?, ?)
         ON CONFLICT(chat_id) DO UPDATE SET exchange_id = excluded.exchange_id, updated_at = excluded.updated_at`,
      ).run(chatId, exchangeId, now);
      return exchangeId;
    })();
    this.prune();
    return id;
  }

  /** Remembers which bot messages carry an exchange's answer, so replies to them continue from it. */
  linkMessages(chatId: number, messageIds: readonly number[], exchangeId: number): void {
    if (!this.state.isOpen() || exchangeId < 0) return;
    const stmt = this.state.db.prepare(
      'INSERT OR REPLACE INTO answer_messages(chat_id, message_id, exchange_id, created_at) VALUES (?, ?, ?, ?)',
    );
    const now = this.now();
    this.state.db.transaction(() => {
      for (const m of messageIds) stmt.run(chatId, m, exchangeId, now);
    })();
  }

  /** Forgets everything about a chat's conversation, including branches reachable by replying. */
  reset(chatId: number): void {
    if (!this.state.isOpen()) return;
    const db = this.state.db;
    db.transaction(() => {
      db.prepare('DELETE FROM heads WHERE chat_id = ?').run(chatId);
      db.prepare('DELETE FROM answer_messages WHERE chat_id = ?').run(chatId);
      db.prepare('DELETE FROM exchanges WHERE chat_id = ?').run(chatId);
    })();
  }

  /** Deletes everything idle for longer than the TTL; keeps the file bounded. */
  prune(): void {
    if (!this.state.isOpen()) return;
    const since = this.now() - this.options.ttlMs;
    const db = this.state.db;
    db.transaction(() => {
      db.prepare('DELETE FROM exchanges WHERE created_at < ?').run(since);
      db.prepare('DELETE FROM answer_messages WHERE created_at < ?').run(since);
      db.prepare('DELETE FROM heads WHERE updated_at < ?').run(since);
    })();
  }
}
