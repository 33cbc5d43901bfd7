import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, DatabaseUnavailableError, withClient, withTransaction } from '../../src/db/pool.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

describe('database pool', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('gives each test file its own empty database on the test server', async () => {
    const other = await createTestDatabase();
    const a = new pg.Client({ connectionString: db.url });
    const b = new pg.Client({ connectionString: other.url });
    await a.connect();
    await b.connect();
    try {
      await a.query('CREATE TABLE only_here (x int)');
      expect((await a.query('SELECT current_database() AS d')).rows[0].d).toBe(db.name);
      expect((await b.query(`SELECT to_regclass('only_here') AS t`)).rows[0].t).toBeNull();
      const { server_version_num } = (await a.query('SHOW server_version_num')).rows[0];
      // PostgreSQL 15 from TEST_DATABASE_URL on CI, the embedded 18 otherwise.
      expect(Number(server_version_num)).toBeGreaterThanOrEqual(process.env.TEST_DATABASE_URL ? 140000 : 180000);
    } finally {
      await a.end();
      await b.end();
    }
    await other.drop();
    const check = new pg.Client({ connectionString: db.url });
    await check.connect();
    const left = await check.query('SELECT 1 FROM pg_database WHERE datname = $1', [other.name]);
    await check.end();
    expect(left.rowCount).toBe(0);
  });

  it('makes a caller wait a bounded time for a full pool, then fails clearly; the pool works on', async () => {
    const pool = createPool({ url: db.url, poolMax: 1, connectTimeoutMs: 300 });
    try {
      let release!: () => void;
      const held = withClient(pool, () => new Promise<void>((r) => (release = r)));
      const second = withClient(pool, (c) => c.query('SELECT 1'));
      await expect(second).rejects.toBeInstanceOf(DatabaseUnavailableError);
      await expect(second).rejects.toThrow(/busy/);
      release();
      await held;
      expect((await withClient(pool, (c) => c.query('SELECT 2 AS n'))).rows[0].n).toBe(2);
    } finally {
      await pool.end();
    }
  });

  it('reports an unreachable server as DatabaseUnavailableError', async () => {
    const port = await closedPort();
    const pool = createPool({ url: `postgres://postgres@127.0.0.1:${port}/x`, poolMax: 2, connectTimeoutMs: 2000 });
    try {
      await expect(withClient(pool, (c) => c.query('SELECT 1'))).rejects.toThrow(/database is unreachable/);
    } finally {
      await pool.end();
    }
  });

  it('survives a connection killed mid-transaction (no uncaught error), rolls back, and reconnects', async () => {
    const pool = createPool({ url: db.url, poolMax: 2, connectTimeoutMs: 2000 });
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      await pool.query('CREATE TABLE t (x int)');
      const tx = withTransaction(pool, async (c) => {
        await c.query('INSERT INTO t VALUES (1)');
        const pid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        await c.query('SELECT pg_sleep(5)');
      });
      await expect(tx).rejects.toBeInstanceOf(DatabaseUnavailableError);
      expect((await withClient(pool, (c) => c.query('SELECT count(*)::int AS n FROM t'))).rows[0].n).toBe(0);
    } finally {
      await admin.end();
      await pool.end();
    }
  });
});

/** A port nothing listens on (taken, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
