/**
 * Versioned schema migrations, run on start. One process migrates while the others wait on a
 * PostgreSQL advisory lock; each migration runs in its own transaction together with its row
 * in `schema_migrations`, so one interrupted (process killed, connection lost) is rolled back by
 * the server and applied in full by the next start.
 */
import type pg from 'pg';
import { UserError } from '../util/errors.js';
import { type Logger, silentLogger } from '../util/log.js';
import { ADVISORY_LOCKS } from './locks.js';
import type { Migration } from './migrations.js';
import { withClient } from './pool.js';

/** What one `migrate` call did. */
export interface MigrateResult {
  /** Versions this call applied (empty when another process had already applied them). */
  applied: number[];
  /** Highest version in the database afterwards. */
  version: number;
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/** Checks that versions are positive, unique and ascending: the order is the list's order. */
export function checkMigrations(list: readonly Migration[]): void {
  let prev = 0;
  for (const m of list) {
    if (!Number.isInteger(m.version) || m.version <= prev) {
      throw new Error(`Migration "${m.name}" has version ${m.version}; versions must be whole numbers, unique and ascending.`);
    }
    prev = m.version;
  }
}

/**
 * Applies every migration of `list` the database has not recorded yet, in order. Safe to call
 * from many processes at once: the first takes the lock and migrates, the others wait for it
 * and then find nothing left to do.
 */
export async function migrate(pool: pg.Pool, list: readonly Migration[], logger: Logger = silentLogger): Promise<MigrateResult> {
  checkMigrations(list);
  return withClient(pool, async (client) => {
    // Session-level lock: held across the per-migration transactions below, released in finally
    // (and by the server when this connection dies, so a killed migrator never blocks the rest).
    await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.migrations.toString()]);
    try {
      await client.query(CREATE_TABLE);
      const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      const known = new Set(list.map((m) => m.version));
      const newer = [...done].filter((v) => !known.has(v) && v > Math.max(0, ...known));
      if (newer.length > 0) {
        throw new UserError(
          `The database schema is at version ${Math.max(...newer)}, newer than this program knows (${Math.max(0, ...known)}). Update the program before running it against this database.`,
        );
      }
      const applied: number[] = [];
      for (const m of list) {
        if (done.has(m.version)) continue;
        const started = performance.now();
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw err;
        }
        applied.push(m.version);
        logger.info('db.migrated', { version: m.version, name: m.name, ms: Math.round(performance.now() - started) });
      }
      return { applied, version: Math.max(0, ...done, ...applied) };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.migrations.toString()]).catch(() => {});
    }
  });
}
