/**
 * The admin audit trail: every /add, upload, /remove and /reindex with who ran it, when, and how
 * it ended, kept in the state database (SQLite here, PostgreSQL in pg-state.ts) so it survives
 * restarts and, with a shared database, shows what admins did on every replica. `/audit` shows it.
 */
import type { StateDb } from './state.js';

/** What an admin did, as recorded. */
export interface AuditEntry {
  /** ms since epoch. */
  at: number;
  userId: number;
  /** @username or first name when Telegram gave one. */
  userName: string | null;
  /** `add`, `upload`, `remove`, `reindex`, `reindex full`. */
  action: string;
  /** The URL, file name or article id acted on (empty for a reindex). */
  target: string;
  /** `ok …` with what changed, `failed: …`, or `busy …`. */
  outcome: string;
}

/** Entries older than this many rows are dropped: the trail answers "what happened lately". */
export const AUDIT_KEEP = 10_000;

/** The audit trail in the SQLite state database. */
export class AuditTrail {
  constructor(private readonly state: StateDb) {}

  /** Appends an entry (ignored once the database is closed). */
  record(entry: AuditEntry): void {
    if (!this.state.isOpen()) return;
    const db = this.state.db;
    const info = db
      .prepare('INSERT INTO audit(at, user_id, user_name, action, target, outcome) VALUES (?, ?, ?, ?, ?, ?)')
      .run(entry.at, entry.userId, entry.userName, entry.action, entry.target, entry.outcome);
    db.prepare('DELETE FROM audit WHERE id <= ?').run(Number(info.lastInsertRowid) - AUDIT_KEEP);
  }

  /** The newest `limit` entries, newest first. */
  recent(limit: number): AuditEntry[] {
    if (!this.state.isOpen()) return [];
    const rows = this.state.db
      .prepare('SELECT at, user_id, user_name, action, target, outcome FROM audit ORDER BY id DESC LIMIT ?')
      .all(limit) as AuditRow[];
    return rows.map(fromRow);
  }
}

/** An audit row as both databases return it. */
export interface AuditRow {
  at: number | string;
  user_id: number | string;
  user_name: string | null;
  action: string;
  target: string;
  outcome: string;
}

/** Converts a stored row (PostgreSQL returns bigint columns as strings). */
export function fromRow(r: AuditRow): AuditEntry {
  return { at: Number(r.at), userId: Number(r.user_id), userName: r.user_name, action: r.action, target: r.target, outcome: r.outcome };
}
