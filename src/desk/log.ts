/**
 * The question log behind the editors' desk: every question a front end answered (or could not),
 * with its outcome, the articles it cited and the reader's feedback. Private by design: the reader
 * and the chat are stored only as keyed hashes (see desk.ts), never as Telegram ids or names.
 *
 * `QuestionLog` is the seam: one process on its own keeps it in SQLite under STATE_DIR
 * (`SqliteQuestionLog`), replicas share it in PostgreSQL (`PgQuestionLog` in pg-log.ts). The
 * contract test (test/desk/question-log.test.ts) runs the same cases against both.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

/** A value now or later. */
export type Awaitable<T> = T | Promise<T>;

/** How a question ended. `refused`: the bot would not take it (too long); `failed`: an error on our side. */
export type Outcome = 'answered' | 'not-covered' | 'refused' | 'rate-limited' | 'failed';
export const OUTCOMES: readonly Outcome[] = ['answered', 'not-covered', 'refused', 'rate-limited', 'failed'];

/** A reader's verdict on an answer. */
export type Vote = 'up' | 'down';

/** One article an answer cited, with the retrieval score of its passage (0 when it had none). */
export interface CitedArticle {
  articleId: string;
  title: string;
  score: number;
}

/** What is recorded for one question. */
export interface NewQuestion {
  /** ms since epoch. */
  at: number;
  text: string;
  /** Telegram's chat type (`private`, `group`, `supergroup`) or `terminal`. */
  chatType: string;
  outcome: Outcome;
  /** Answered, but without a citation to back it (counts as a gap). */
  weak: boolean;
  /** A guessed language code (`en`, `ru`), or null when none was recognised. */
  language: string | null;
  /** Keyed hash of the reader; null in group chats and the terminal. */
  reader: string | null;
  /** Keyed hash of the chat (feedback buttons check it); null in the terminal. */
  chat: string | null;
  cited: CitedArticle[];
}

/** A recorded question with its feedback. */
export interface QuestionRow extends NewQuestion {
  id: number;
  vote: Vote | null;
  /** The one-line reason given with a 👎, if any. */
  reason: string | null;
}

/** The question log's storage. Methods may answer at once (SQLite) or later (PostgreSQL). */
export interface QuestionLog {
  /** Records a question; returns its id. */
  add(q: NewQuestion): Awaitable<number>;
  get(id: number): Awaitable<QuestionRow | null>;
  /**
   * Sets (or with null clears) the vote on question `id` asked in `chat`; a new vote clears the
   * reason. False when no such question was asked there (another chat's button, or pruned).
   */
  setVote(id: number, chat: string, vote: Vote | null): Awaitable<boolean>;
  /** Stores the reason of a 👎 on question `id` asked in `chat`; false when it has no 👎 there. */
  setReason(id: number, chat: string, reason: string): Awaitable<boolean>;
  /** Questions asked in [from, to), oldest first. */
  between(from: number, to: number): Awaitable<QuestionRow[]>;
  /** Deletes every question of the reader; returns how many. */
  forgetReader(reader: string): Awaitable<number>;
  /** Deletes questions asked before `before`; returns how many. */
  prune(before: number): Awaitable<number>;
  /**
   * True for exactly one caller per `everyMs` across processes: the first call only records `now`
   * (a schedule starts a period from its first start), later calls claim when a period has passed.
   */
  claimEvery(key: string, now: number, everyMs: number): Awaitable<boolean>;
  /** A random secret created once per installation (the same for every replica), for when none is configured. */
  installSecret(candidate: string): Awaitable<string>;
  close(): Awaitable<void>;
}

/** A row as both databases return it (PostgreSQL gives bigints as strings, jsonb parsed). */
export interface StoredRow {
  id: number | string;
  at: number | string;
  text: string;
  chat_type: string;
  outcome: string;
  weak: number | boolean;
  language: string | null;
  reader: string | null;
  chat: string | null;
  cited: string | CitedArticle[];
  vote: string | null;
  reason: string | null;
}

/** The columns `fromStored` reads, in order. */
export const ROW_COLUMNS = 'id, at, text, chat_type, outcome, weak, language, reader, chat, cited, vote, reason';

/** Converts a stored row. */
export function fromStored(r: StoredRow): QuestionRow {
  return {
    id: Number(r.id),
    at: Number(r.at),
    text: r.text,
    chatType: r.chat_type,
    outcome: r.outcome as Outcome,
    weak: r.weak === true || r.weak === 1,
    language: r.language,
    reader: r.reader,
    chat: r.chat,
    cited: typeof r.cited === 'string' ? (JSON.parse(r.cited) as CitedArticle[]) : r.cited,
    vote: r.vote as Vote | null,
    reason: r.reason,
  };
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS questions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  text TEXT NOT NULL,
  chat_type TEXT NOT NULL,
  outcome TEXT NOT NULL,
  weak INTEGER NOT NULL,
  language TEXT,
  reader TEXT,
  chat TEXT,
  cited TEXT NOT NULL,
  vote TEXT,
  reason TEXT
);
CREATE INDEX IF NOT EXISTS questions_at ON questions(at);
CREATE INDEX IF NOT EXISTS questions_reader ON questions(reader);
CREATE TABLE IF NOT EXISTS desk_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/**
 * The question log in `questions.sqlite` under the state folder (one process, or several on one
 * machine: WAL). Opened on first use, so commands that never record (index, eval) create nothing.
 */
export class SqliteQuestionLog implements QuestionLog {
  private opened: Database.Database | null = null;
  private closed = false;

  constructor(private readonly stateDir: string) {}

  private get db(): Database.Database {
    if (!this.opened) {
      fs.mkdirSync(this.stateDir, { recursive: true });
      const db = new Database(path.join(this.stateDir, 'questions.sqlite'));
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // The bot and a terminal chat may write at once.
      db.pragma('busy_timeout = 5000');
      db.exec(SCHEMA);
      if (this.closed) db.close();
      this.opened = db;
    }
    return this.opened;
  }

  add(q: NewQuestion): number {
    if (!this.db.open) return -1;
    const info = this.db
      .prepare(
        'INSERT INTO questions(at, text, chat_type, outcome, weak, language, reader, chat, cited) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(q.at, q.text, q.chatType, q.outcome, q.weak ? 1 : 0, q.language, q.reader, q.chat, JSON.stringify(q.cited));
    return Number(info.lastInsertRowid);
  }

  get(id: number): QuestionRow | null {
    if (!this.db.open) return null;
    const row = this.db.prepare(`SELECT ${ROW_COLUMNS} FROM questions WHERE id = ?`).get(id) as StoredRow | undefined;
    return row ? fromStored(row) : null;
  }

  setVote(id: number, chat: string, vote: Vote | null): boolean {
    if (!this.db.open) return false;
    return this.db.prepare('UPDATE questions SET vote = ?, reason = NULL WHERE id = ? AND chat = ?').run(vote, id, chat).changes > 0;
  }

  setReason(id: number, chat: string, reason: string): boolean {
    if (!this.db.open) return false;
    return this.db.prepare(`UPDATE questions SET reason = ? WHERE id = ? AND chat = ? AND vote = 'down'`).run(reason, id, chat).changes > 0;
  }

  between(from: number, to: number): QuestionRow[] {
    if (!this.db.open) return [];
    const rows = this.db
      .prepare(`SELECT ${ROW_COLUMNS} FROM questions WHERE at >= ? AND at < ? ORDER BY at, id`)
      .all(from, to) as StoredRow[];
    return rows.map(fromStored);
  }

  forgetReader(reader: string): number {
    if (!this.db.open) return 0;
    return this.db.prepare('DELETE FROM questions WHERE reader = ?').run(reader).changes;
  }

  prune(before: number): number {
    if (!this.db.open) return 0;
    return this.db.prepare('DELETE FROM questions WHERE at < ?').run(before).changes;
  }

  claimEvery(key: string, now: number, everyMs: number): boolean {
    if (!this.db.open) return false;
    const inserted = this.db.prepare('INSERT INTO desk_meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING').run(key, String(now));
    if (inserted.changes > 0) return false;
    return (
      this.db.prepare('UPDATE desk_meta SET value = ? WHERE key = ? AND CAST(value AS INTEGER) <= ?').run(String(now), key, now - everyMs)
        .changes > 0
    );
  }

  installSecret(candidate: string): string {
    if (!this.db.open) return candidate;
    this.db.prepare(`INSERT INTO desk_meta(key, value) VALUES ('secret', ?) ON CONFLICT(key) DO NOTHING`).run(candidate);
    return (this.db.prepare(`SELECT value FROM desk_meta WHERE key = 'secret'`).get() as { value: string }).value;
  }

  close(): void {
    this.closed = true;
    if (this.opened?.open) this.opened.close();
  }
}
