/** The readiness checks of a running bot: the index is open, the database answers, Telegram was reached. */
import type pg from 'pg';
import type { ReadinessCheck } from './http.js';

/** What the checks look at. */
export interface ReadinessSources {
  /** Non-null once an index is open and served. */
  searchIndex(): unknown;
  /** The PostgreSQL pool (DATABASE_URL), or null in embedded mode (no database check). */
  database: pg.Pool | null;
  /** True once the Bot API answered (getMe at start-up). */
  telegramReached(): boolean;
}

export function readinessChecks(sources: ReadinessSources): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [{ name: 'index', check: async () => (sources.searchIndex() ? null : 'no index is open') }];
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
  checks.push({ name: 'telegram', check: async () => (sources.telegramReached() ? null : 'the Bot API has not answered yet') });
  return checks;
}
