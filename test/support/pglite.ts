/**
 * PGlite (PostgreSQL compiled to WebAssembly, in-process) as a `Db`, with pgvector loaded: the
 * test servers here have no pgvector, so this is where the pgvector SQL runs in tests.
 */
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import type { Db, Queryable } from '../../src/db/client.js';
import { MIGRATIONS } from '../../src/schema.js';

/** A fresh in-memory PGlite with pgvector and the project's schema; `close` frees it. */
export async function createPgliteDb(): Promise<{ db: Db; pglite: PGlite; close: () => Promise<void> }> {
  const pglite = await PGlite.create({ extensions: { vector } });
  for (const m of MIGRATIONS) await pglite.exec(m.sql);
  const wrap = (q: { query: PGlite['query'] }): Queryable => ({
    query: async <R extends object>(sql: string, params?: readonly unknown[]) => {
      const r = await q.query<R>(sql, params as unknown[]);
      return { rows: r.rows };
    },
  });
  const db: Db = {
    ...wrap(pglite),
    transaction: (fn) => pglite.transaction((tx) => fn(wrap(tx))),
    // One session: nobody else can hold the lock.
    withTryLock: async (_key, fn) => ({ locked: true, value: await fn() }),
    listen: async (channel, onNotify) => {
      const stop = await pglite.listen(channel, (payload) => onNotify(payload));
      return async () => stop();
    },
  };
  return { db, pglite, close: () => pglite.close() };
}
