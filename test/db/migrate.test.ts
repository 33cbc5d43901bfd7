import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { MIGRATIONS, type Migration } from '../../src/schema.js';
import { createPool } from '../../src/db/pool.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

// Not idempotent on purpose: running either twice fails (CREATE TABLE without IF NOT EXISTS).
const FIRST: Migration = { version: 1, name: 'create a', sql: 'CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a VALUES (1);' };
const SECOND: Migration = { version: 2, name: 'create b', sql: 'CREATE TABLE b (id int); INSERT INTO b VALUES (1);' };
/** A second migration that stops half-way until the test releases advisory lock 4242. */
const BLOCKING: Migration = { ...SECOND, sql: 'CREATE TABLE b (id int); SELECT pg_advisory_xact_lock(4242); INSERT INTO b VALUES (1);' };

describe('schema migrations', () => {
  let db: TestDatabase;
  const pools: pg.Pool[] = [];
  const pool = (max = 4) => {
    const p = createPool({ url: db.url, poolMax: max, connectTimeoutMs: 10_000 });
    pools.push(p);
    return p;
  };
  const query = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => (await pools[0]!.query<T>(sql, params)).rows;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await db?.drop();
  });

  it('runs each migration once when two processes start at the same time', async () => {
    const a = pool();
    const b = pool();
    // Hold the second migration open so the two callers certainly overlap.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock(4242)');
    const first = migrate(a, [FIRST, BLOCKING]);
    const second = migrate(b, [FIRST, BLOCKING]);
    await waitFor(
      async () =>
        (await query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`))[0]!.n >= 2,
    );
    await holder.query('SELECT pg_advisory_unlock(4242)');
    await holder.end();
    const results = await Promise.all([first, second]);
    expect(results.flatMap((r) => r.applied).sort()).toEqual([1, 2]);
    expect(results.map((r) => r.version)).toEqual([2, 2]);
    expect(await query('SELECT version, name FROM schema_migrations ORDER BY version')).toEqual([
      { version: 1, name: 'create a' },
      { version: 2, name: 'create b' },
    ]);
    expect(await query('SELECT id FROM b')).toEqual([{ id: 1 }]);
    // A later start has nothing to do.
    expect(await migrate(pool(), [FIRST, SECOND])).toEqual({ applied: [], version: 2 });
  });

  it('finishes an interrupted migration on the next start', async () => {
    await pools[0]!.query('DROP TABLE a, b; DELETE FROM schema_migrations');
    const migrator = pool(1);
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock(4242)');
    const interrupted = migrate(migrator, [FIRST, BLOCKING]);
    // The migrator's connection dies half-way through the second migration (as when its process is killed).
    const waiting = await waitFor(async () => {
      const rows = await query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_advisory_xact_lock(4242)%' AND pid <> pg_backend_pid()`,
      );
      return rows[0]?.pid;
    });
    await query('SELECT pg_terminate_backend($1)', [waiting]);
    await expect(interrupted).rejects.toThrow(/unreachable|terminat/i);
    await holder.end();
    expect(await query('SELECT version FROM schema_migrations')).toEqual([{ version: 1 }]);
    expect(await query(`SELECT to_regclass('b') AS t`)).toEqual([{ t: null }]);

    expect(await migrate(pool(), [FIRST, SECOND])).toEqual({ applied: [2], version: 2 });
    expect(await query('SELECT id FROM b')).toEqual([{ id: 1 }]);
  });

  it('refuses a database migrated by a newer program, and a list out of order', async () => {
    await expect(migrate(pool(), [FIRST])).rejects.toThrow(/version 2, newer than this program knows \(1\)/);
    await expect(migrate(pool(), [SECOND, FIRST])).rejects.toThrow(/ascending/);
  });

  it("the project's own migrations apply to an empty database", async () => {
    const fresh = await createTestDatabase();
    const p = createPool({ url: fresh.url, poolMax: 2, connectTimeoutMs: 10_000 });
    try {
      const result = await migrate(p, MIGRATIONS);
      expect(result.applied).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await migrate(p, MIGRATIONS)).toEqual({ applied: [], version: result.version });
    } finally {
      await p.end();
      await fresh.drop();
    }
  });

  it('upgrades a database from before the feeds, alerts and sources migrations in place, keeping its rows', async () => {
    const old = await createTestDatabase();
    const p = createPool({ url: old.url, poolMax: 2, connectTimeoutMs: 10_000 });
    try {
      // The schema as it shipped before this change: versions 1 to 22.
      const before = MIGRATIONS.filter((m) => m.version <= 22);
      expect((await migrate(p, before)).version).toBe(22);
      await p.query(`INSERT INTO bot_counters (name, value) VALUES ('answered', 41)`);
      const result = await migrate(p, MIGRATIONS);
      expect(result.applied).toEqual(MIGRATIONS.filter((m) => m.version > 22).map((m) => m.version));
      expect((await p.query('SELECT value FROM bot_counters WHERE name = $1', ['answered'])).rows).toEqual([{ value: '41' }]);
      for (const table of ['feeds', 'feed_items', 'alert_follows', 'alert_outbox', 'alert_pace', 'article_sources']) {
        expect((await p.query('SELECT to_regclass($1) AS t', [table])).rows[0].t, table).toBe(table);
      }
    } finally {
      await p.end();
      await old.drop();
    }
  });
});

async function waitFor<T>(probe: () => Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
