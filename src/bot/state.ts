/**
 * The bot's persistent state: one SQLite file under the state directory holding
 * conversations, answer-message links, quote keys, counters, the admin audit trail and the
 * languages chats chose. It is not
 * rebuildable from the articles, which is why it lives apart from the index.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

/** An open state database; `close()` is idempotent. */
export interface StateDb {
  readonly db: Database.Database;
  /** False once closed: late writers (answers finishing after shutdown) check it and skip. */
  isOpen(): boolean;
  close(): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS exchanges (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  chat_id INTEGER NOT NULL,
  parent_id INTEGER,
  question TEXT NOT NULL,
  answer TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS exchanges_created ON exchanges(created_at);
CREATE TABLE IF NOT EXISTS heads (
  chat_id INTEGER PRIMARY KEY,
  exchange_id INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS answer_messages (
  chat_id INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  exchange_id INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (chat_id, message_id)
);
CREATE INDEX IF NOT EXISTS answer_messages_created ON answer_messages(created_at);
CREATE TABLE IF NOT EXISTS quotes (
  key TEXT PRIMARY KEY,
  chat_id INTEGER NOT NULL,
  payload TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS quotes_expires ON quotes(expires_at);
CREATE TABLE IF NOT EXISTS counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  user_name TEXT,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  outcome TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chat_languages (
  chat_id INTEGER PRIMARY KEY,
  lang TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
`;

/** Opens (creating if needed) `bot-state.sqlite` in `stateDir`. */
export function openStateDb(stateDir: string): StateDb {
  fs.mkdirSync(stateDir, { recursive: true });
  const db = new Database(path.join(stateDir, 'bot-state.sqlite'));
  // WAL keeps readers and the single writer from blocking each other and survives a crash mid-write.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  return {
    db,
    isOpen: () => db.open,
    close: () => {
      if (db.open) db.close();
    },
  };
}

/** A persisted counter (questions answered). */
export class Counters {
  constructor(private readonly state: StateDb) {}

  /** Adds `by` to the counter and returns the new value (0 when the database is closed). */
  increment(name: string, by = 1): number {
    if (!this.state.isOpen()) return 0;
    this.state.db
      .prepare('INSERT INTO counters(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value')
      .run(name, by);
    return this.get(name);
  }

  /** The counter's value (0 if never incremented). */
  get(name: string): number {
    if (!this.state.isOpen()) return 0;
    const row = this.state.db.prepare('SELECT value FROM counters WHERE name = ?').get(name) as { value: number } | undefined;
    return row?.value ?? 0;
  }
}
