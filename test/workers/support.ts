/**
 * A database for queue tests: migrated, with the index's `index_embeddings` table as the vector
 * sink. Until the index store's migration creates it, the test creates the same columns itself;
 * when the store's table is there, its foreign key to `index_chunks` is dropped in this throwaway
 * database so tests can queue chunk labels without building an index.
 */
import pg from 'pg';
import { migrate } from '../../src/db/migrate.js';
import { MIGRATIONS } from '../../src/schema.js';
import { createPool } from '../../src/db/pool.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

/** A migrated test database with a usable `index_embeddings`, and a pool on it. */
export async function queueDatabase(): Promise<{ db: TestDatabase; pool: pg.Pool }> {
  const db = await createTestDatabase();
  const pool = createPool({ url: db.url, poolMax: 8, connectTimeoutMs: 5000 });
  await migrate(pool, MIGRATIONS);
  await pool.query(`CREATE TABLE IF NOT EXISTS index_embeddings (
    chunk_label integer NOT NULL, embedder_id text NOT NULL, vector real[] NOT NULL, PRIMARY KEY (chunk_label, embedder_id))`);
  const { rows } = await pool.query<{ name: string }>(
    `SELECT conname AS name FROM pg_constraint WHERE conrelid = 'index_embeddings'::regclass AND contype = 'f'`,
  );
  for (const r of rows) await pool.query(`ALTER TABLE index_embeddings DROP CONSTRAINT ${pg.escapeIdentifier(r.name)}`);
  return { db, pool };
}

/** Chunk texts numbered from `from`. */
export function tasks(n: number, from = 1): { label: number; text: string }[] {
  return Array.from({ length: n }, (_, i) => ({ label: from + i, text: `chunk ${from + i} about harbour cranes and river ferries` }));
}

/** Stored vectors per label for one embedder. */
export async function storedLabels(pool: pg.Pool, embedderId: string): Promise<number[]> {
  const { rows } = await pool.query<{ l: number }>('SELECT chunk_label AS l FROM index_embeddings WHERE embedder_id = $1 ORDER BY 1', [
    embedderId,
  ]);
  return rows.map((r) => r.l);
}
