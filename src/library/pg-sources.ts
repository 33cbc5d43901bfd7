/**
 * The article sources in PostgreSQL (DATABASE_URL): an `/add`, an upload or a feed item is a row
 * holding its original bytes, where it came from, who added it and when, so every replica loads it
 * whatever its own articles folder holds. Removing one is part of the transaction that publishes
 * the generation without it, so a refused or failed reindex leaves both the article and its source.
 * Same rules as `FileSources`; both pass test/library/sources-contract.test.ts.
 */
import type pg from 'pg';
import { queryRows } from '../db/pool.js';
import { articleId } from '../articles/index.js';
import { type ArticleSources, freePath, type PublishStep, type SourceMeta, type StoredSource } from './sources.js';

/** The sources table (a migration the composition root lists). */
export const SOURCES_SQL = `
CREATE TABLE article_sources (
  path text PRIMARY KEY,
  article_id text NOT NULL UNIQUE,
  origin text NOT NULL CHECK (origin IN ('chat', 'feed')),
  added_by text,
  added_at bigint NOT NULL,
  bytes bytea NOT NULL
);
`;

interface SourceRow {
  path: string;
  origin: 'chat' | 'feed';
  added_by: string | null;
  added_at: number;
  bytes: Buffer;
}

/** Stored sources over a pool (migrations must have run). */
export class PgSources implements ArticleSources {
  constructor(private readonly pool: pg.Pool) {}

  async list(): Promise<StoredSource[]> {
    const rows = await queryRows<SourceRow>(
      this.pool,
      'SELECT path, origin, added_by, added_at::float8 AS added_at, bytes FROM article_sources ORDER BY added_at, path',
    );
    return rows.map((r) => ({ path: r.path, origin: r.origin, addedBy: r.added_by, addedAt: r.added_at, bytes: new Uint8Array(r.bytes) }));
  }

  async add(name: string, folder: string, bytes: Uint8Array, meta: SourceMeta, taken: (id: string) => boolean): Promise<string> {
    const stored = new Set(
      (await queryRows<{ article_id: string }>(this.pool, 'SELECT article_id FROM article_sources')).map((r) => r.article_id),
    );
    for (;;) {
      const rel = freePath(name, folder, (_candidate, id) => stored.has(id) || taken(id));
      // Another replica may have taken the same name a moment ago: then try the next one.
      const rows = await queryRows(
        this.pool,
        `INSERT INTO article_sources (path, article_id, origin, added_by, added_at, bytes) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT DO NOTHING RETURNING path`,
        [rel, articleId(rel), meta.origin, meta.addedBy, Date.now(), Buffer.from(bytes)],
      );
      if (rows.length === 1) return rel;
      stored.add(articleId(rel));
    }
  }

  async delete(sourcePath: string): Promise<void> {
    await queryRows(this.pool, 'DELETE FROM article_sources WHERE path = $1', [sourcePath]);
  }

  deleteOnPublish(sourcePath: string): PublishStep {
    return async (tx) => {
      if (!tx) throw new Error('PostgreSQL sources are removed inside the index publish transaction; the index must be PostgreSQL too.');
      await tx.query('DELETE FROM article_sources WHERE path = $1', [sourcePath]);
    };
  }

  location(): string | null {
    return null;
  }
}
