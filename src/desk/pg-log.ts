/**
 * The question log in PostgreSQL (DATABASE_URL), shared by every replica: a 👍 pressed on an
 * answer one replica sent reaches the question whichever replica gets the press, and /gaps sees
 * every replica's questions. Same rules as `SqliteQuestionLog`; the tables are migration 40
 * (src/db/migrations.ts). The pool belongs to the app, so `close` does not end it.
 */
import type pg from 'pg';
import { unavailable } from '../db/pool.js';
import { type NewQuestion, type QuestionLog, type QuestionRow, ROW_COLUMNS, type StoredRow, type Vote, fromStored } from './log.js';

/** Migration 40: the question log and the per-installation secret. */
export const QUESTION_LOG_SQL = `
CREATE TABLE desk_questions (
  id bigserial PRIMARY KEY,
  at bigint NOT NULL,
  text text NOT NULL,
  chat_type text NOT NULL,
  outcome text NOT NULL,
  weak boolean NOT NULL,
  language text,
  reader text,
  chat text,
  cited jsonb NOT NULL,
  vote text,
  reason text
);
CREATE INDEX desk_questions_at ON desk_questions (at);
CREATE INDEX desk_questions_reader ON desk_questions (reader);
CREATE TABLE desk_meta (
  key text PRIMARY KEY,
  value text NOT NULL
);
`;

/** The question log over `pool` (migrations must have run). */
export class PgQuestionLog implements QuestionLog {
  private closed = false;

  constructor(private readonly pool: pg.Pool) {}

  private async rows<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<{ rows: R[]; count: number }> {
    try {
      const r = await this.pool.query<R>(sql, params);
      return { rows: r.rows, count: r.rowCount ?? 0 };
    } catch (err) {
      throw unavailable(err);
    }
  }

  async add(q: NewQuestion): Promise<number> {
    if (this.closed) return -1;
    const { rows } = await this.rows<{ id: string }>(
      `INSERT INTO desk_questions(at, text, chat_type, outcome, weak, language, reader, chat, cited)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [q.at, q.text, q.chatType, q.outcome, q.weak, q.language, q.reader, q.chat, JSON.stringify(q.cited)],
    );
    return Number(rows[0]!.id);
  }

  async get(id: number): Promise<QuestionRow | null> {
    if (this.closed) return null;
    const { rows } = await this.rows<StoredRow>(`SELECT ${ROW_COLUMNS} FROM desk_questions WHERE id = $1`, [id]);
    return rows[0] ? fromStored(rows[0]) : null;
  }

  async setVote(id: number, chat: string, vote: Vote | null): Promise<boolean> {
    if (this.closed) return false;
    const { count } = await this.rows('UPDATE desk_questions SET vote = $1, reason = NULL WHERE id = $2 AND chat = $3', [vote, id, chat]);
    return count > 0;
  }

  async setReason(id: number, chat: string, reason: string): Promise<boolean> {
    if (this.closed) return false;
    const { count } = await this.rows(`UPDATE desk_questions SET reason = $1 WHERE id = $2 AND chat = $3 AND vote = 'down'`, [
      reason,
      id,
      chat,
    ]);
    return count > 0;
  }

  async between(from: number, to: number): Promise<QuestionRow[]> {
    if (this.closed) return [];
    const { rows } = await this.rows<StoredRow>(`SELECT ${ROW_COLUMNS} FROM desk_questions WHERE at >= $1 AND at < $2 ORDER BY at, id`, [
      from,
      to,
    ]);
    return rows.map(fromStored);
  }

  async forgetReader(reader: string): Promise<number> {
    if (this.closed) return 0;
    return (await this.rows('DELETE FROM desk_questions WHERE reader = $1', [reader])).count;
  }

  async prune(before: number): Promise<number> {
    if (this.closed) return 0;
    return (await this.rows('DELETE FROM desk_questions WHERE at < $1', [before])).count;
  }

  async claimEvery(key: string, now: number, everyMs: number): Promise<boolean> {
    if (this.closed) return false;
    const inserted = await this.rows('INSERT INTO desk_meta(key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, String(now)]);
    if (inserted.count > 0) return false;
    // One UPDATE decides: of two replicas claiming at once, the row lock lets only the first match.
    // CASE: the cast must never run on another key's value (the secret), whatever order the planner picks.
    const claimed = await this.rows(
      `UPDATE desk_meta SET value = $1 WHERE key = $2 AND CASE WHEN value ~ '^[0-9]+$' THEN value::bigint END <= $3`,
      [String(now), key, now - everyMs],
    );
    return claimed.count > 0;
  }

  async installSecret(candidate: string): Promise<string> {
    await this.rows(`INSERT INTO desk_meta(key, value) VALUES ('secret', $1) ON CONFLICT (key) DO NOTHING`, [candidate]);
    const { rows } = await this.rows<{ value: string }>(`SELECT value FROM desk_meta WHERE key = 'secret'`, []);
    return rows[0]!.value;
  }

  close(): void {
    this.closed = true;
  }
}
