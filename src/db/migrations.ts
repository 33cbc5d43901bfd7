/**
 * The schema, as one ordered list of migrations. To change the schema, append an entry with the
 * next version number; never edit or reorder one that has shipped (databases record which
 * versions they ran). Each entry runs in one transaction, so it must not use statements that
 * refuse to (CREATE INDEX CONCURRENTLY, VACUUM). Features may define their SQL in their own
 * module and list it here.
 */

import { BOT_STATE_SQL } from '../bot/pg-schema.js';
import { ARTICLE_LANGUAGE_SQL, INDEX_SCHEMA_SQL } from '../store/pg/schema.js';
import { EMBEDDING_QUEUE_SQL } from '../workers/queue.js';
import { REINDEX_JOBS_SQL } from './reindex-jobs.js';

/** One schema change. */
export interface Migration {
  version: number;
  /** A few words saying what it adds, recorded in `schema_migrations`. */
  name: string;
  sql: string;
}

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  // 1–19: the index (src/store/pg); 20–39: the bot's shared state, reindex jobs and embedding work.
  { version: 1, name: 'index store: generations, articles, chunks, embeddings', sql: INDEX_SCHEMA_SQL },
  { version: 10, name: 'index store: article languages', sql: ARTICLE_LANGUAGE_SQL },
  { version: 20, name: 'bot state: conversations, quotes, counters, rate limits, undelivered answers, admin audit', sql: BOT_STATE_SQL },
  { version: 21, name: 'reindex jobs: one running across replicas', sql: REINDEX_JOBS_SQL },
  { version: 22, name: 'embedding queue: chunks to embed, worker heartbeats', sql: EMBEDDING_QUEUE_SQL },
];
