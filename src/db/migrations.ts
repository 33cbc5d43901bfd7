/**
 * What a schema migration is. Each feature owns its SQL (the index in src/store/pg/schema.ts, the
 * bot's state in src/bot/pg-schema.ts, feeds, alerts, article sources, the embedding queue), and
 * the composition root (src/schema.ts) hands `migrate` the ordered list: nothing here imports
 * from the layers above. Each entry runs in one transaction, so it must not use statements that
 * refuse to (CREATE INDEX CONCURRENTLY, VACUUM).
 */

/** One schema change. */
export interface Migration {
  version: number;
  /** A few words saying what it adds, recorded in `schema_migrations`. */
  name: string;
  sql: string;
}
