/**
 * Readiness checks: the index is open, the database answers, Telegram was reached (each only where
 * the process has it: an embedding worker has only the database).
 */
import type pg from 'pg';
import type { ReadinessCheck } from './http.js';

/** What the checks look at. */
export interface ReadinessSources {
  /** Non-null once an index is open and served. */
  searchIndex?(): unknown;
  /** The PostgreSQL pool (DATABASE_URL), or null in embedded mode (no database check). */
  database: pg.Pool | null;
  /** True once the Bot API answered (getMe at start-up). */
  telegramReached?(): boolean;
}

export function readinessChecks(sources: ReadinessSources): ReadinessCheck[] {
  const { searchIndex, telegramReached } = sources;
  const checks: ReadinessCheck[] = [];
  if (searchIndex) checks.push({ name: 'index', check: async () => (searchIndex() ? null : 'no index is open') });
  const db = sources.database;
  if (db) {
    checks.push({
      name: 'database',
      check: async () => {
        await db.query('SELECT 1');
        return null;
      },
    });
  }
  if (telegramReached) {
    checks.push({ name: 'telegram', check: async () => (telegramReached() ? null : 'the Bot API has not answered yet') });
  }
  return checks;
}
