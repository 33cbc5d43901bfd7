/**
 * The PostgreSQL schema, as one ordered list of the features' migrations, handed to `migrate` by
 * the composition root (src/app.ts) and the commands that open the database on their own (the
 * embedding worker, the benches). To change the schema, append an entry with the next version
 * number; never edit or reorder one that has shipped (databases record which versions they ran,
 * and an existing database upgrades in place by running only the entries it lacks).
 */
import { ALERTS_SQL } from './alerts/pg-store.js';
import { BOT_STATE_SQL, CHAT_LANGUAGES_SQL } from './bot/pg-schema.js';
import type { Migration } from './db/migrations.js';
import { REINDEX_JOBS_SQL } from './db/reindex-jobs.js';
import { FEEDS_SQL } from './feeds/pg-store.js';
import { SOURCES_SQL } from './library/pg-sources.js';
import { RECEIPTS_SQL } from './desk/corrections.js';
import { QUESTION_LOG_SQL } from './desk/pg-log.js';
import { ARTICLE_LANGUAGE_SQL, INDEX_SCHEMA_SQL, INDEX_SNAPSHOTS_SQL } from './store/pg/schema.js';
import { EMBEDDING_QUEUE_SQL } from './workers/queue.js';

export type { Migration } from './db/migrations.js';

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  // 1–19: the index (src/store/pg); 20–39: shared state (bot, reindex jobs, embedding work, feeds, alerts, article sources).
  { version: 1, name: 'index store: generations, articles, chunks, embeddings', sql: INDEX_SCHEMA_SQL },
  { version: 10, name: 'index store: article languages', sql: ARTICLE_LANGUAGE_SQL },
  { version: 11, name: 'index store: snapshots of generations for replicas to download', sql: INDEX_SNAPSHOTS_SQL },
  { version: 20, name: 'bot state: conversations, quotes, counters, rate limits, undelivered answers, admin audit', sql: BOT_STATE_SQL },
  { version: 21, name: 'reindex jobs: one running across replicas', sql: REINDEX_JOBS_SQL },
  { version: 22, name: 'embedding queue: chunks to embed, worker heartbeats', sql: EMBEDDING_QUEUE_SQL },
  { version: 23, name: 'feeds: the feed list, poll leases, handled items', sql: FEEDS_SQL },
  { version: 24, name: 'topic alerts: follows, known articles, outbox, send pace', sql: ALERTS_SQL },
  { version: 25, name: 'article sources: chat and feed additions with their bytes', sql: SOURCES_SQL },
  { version: 26, name: 'bot state: the language each chat chose', sql: CHAT_LANGUAGES_SQL },
  // 40–49: the editors' desk (src/desk).
  { version: 40, name: "editors' desk: question log, installation secret", sql: QUESTION_LOG_SQL },
  { version: 41, name: "editors' desk: correction receipts", sql: RECEIPTS_SQL },
];
