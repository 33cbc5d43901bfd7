/**
 * PostgreSQL schema of the index (migration 1 in src/schema.ts).
 *
 * Generations without copies: every article and chunk row records the generation that added it
 * (`added_gen`) and the one that removed it (`removed_gen`, null while live). Generation g sees
 * the rows with `added_gen <= g AND (removed_gen IS NULL OR removed_gen > g)`, so a build adds and
 * retires rows next to the published generation without readers seeing any of it, and publishing
 * is one small transaction that moves `index_current`. Unchanged articles keep their rows, chunks
 * and embeddings; nothing is copied per build.
 *
 * Embeddings live in their own table, keyed by chunk and embedder id: chunks are written first
 * and embedded afterwards (by this process, or later by workers claiming chunks that have none),
 * and a generation is published only when every chunk it shows has its embedding.
 *
 * Integer ids (not bigint) so every client, node-postgres and PGlite alike, returns JS numbers.
 */
export const INDEX_SCHEMA_SQL = `
CREATE TABLE index_generations (
  id integer PRIMARY KEY,
  state text NOT NULL DEFAULT 'building' CHECK (state IN ('building', 'published', 'abandoned')),
  base_id integer REFERENCES index_generations(id),
  embedder_id text,
  dimension integer,
  chunker text NOT NULL,
  articles_dir text,
  hnsw_m integer,
  hnsw_ef_construction integer,
  article_count integer,
  chunk_count integer,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
-- One row: the generation readers serve. Publishing updates it and NOTIFYs index_published.
CREATE TABLE index_current (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  generation_id integer NOT NULL REFERENCES index_generations(id)
);
CREATE TABLE index_articles (
  row_id serial PRIMARY KEY,
  id text NOT NULL,
  title text NOT NULL,
  date text COLLATE "C",
  url text,
  source text,
  path text NOT NULL,
  hash text NOT NULL,
  text text NOT NULL,
  -- Title and body lexemes (weights A and D), matched through the GIN index; the title's alone,
  -- for the whole-article BM25's field weights.
  tsv tsvector NOT NULL,
  title_tsv tsvector NOT NULL,
  -- Lexemes counted with repeats: the document length BM25 normalises by.
  tokens integer NOT NULL,
  added_gen integer NOT NULL,
  removed_gen integer
);
CREATE INDEX index_articles_live ON index_articles (id) WHERE removed_gen IS NULL;
CREATE INDEX index_articles_added ON index_articles (added_gen);
CREATE INDEX index_articles_removed ON index_articles (removed_gen) WHERE removed_gen IS NOT NULL;
CREATE INDEX index_articles_date ON index_articles (date);
CREATE INDEX index_articles_tsv ON index_articles USING gin (tsv);
CREATE TABLE index_chunks (
  label serial PRIMARY KEY,
  article_row integer NOT NULL REFERENCES index_articles(row_id) ON DELETE CASCADE,
  id text NOT NULL,
  article_id text NOT NULL,
  ordinal integer NOT NULL,
  start_offset integer NOT NULL,
  end_offset integer NOT NULL,
  text text NOT NULL,
  embed_text text NOT NULL,
  model_tokens integer NOT NULL,
  tsv tsvector NOT NULL,
  tokens integer NOT NULL,
  added_gen integer NOT NULL,
  removed_gen integer
);
CREATE INDEX index_chunks_article ON index_chunks (article_row, ordinal);
CREATE INDEX index_chunks_added ON index_chunks (added_gen);
CREATE INDEX index_chunks_removed ON index_chunks (removed_gen) WHERE removed_gen IS NOT NULL;
CREATE INDEX index_chunks_tsv ON index_chunks USING gin (tsv);
CREATE TABLE index_embeddings (
  chunk_label integer NOT NULL REFERENCES index_chunks(label) ON DELETE CASCADE,
  embedder_id text NOT NULL,
  vector real[] NOT NULL,
  PRIMARY KEY (chunk_label, embedder_id)
);
`;

/** Migration 10: the language detected for each article at indexing (null: unsure, or indexed before). */
export const ARTICLE_LANGUAGE_SQL = `ALTER TABLE index_articles ADD COLUMN lang text;`;

/**
 * Migration 11: snapshots of generations in the embedded format (SQLite + hnswlib files, see
 * local.ts), so a starting replica downloads a generation's search structures instead of
 * rebuilding them from rows. A snapshot is usable once `complete`; each file is stored in parts,
 * each deflated (raw deflate: level 1, or stored blocks when that saves under a tenth) with the sha256 of what is stored, and the whole file's
 * sha256 in the manifest. EXTERNAL storage: the parts are compressed already.
 */
export const INDEX_SNAPSHOTS_SQL = `
CREATE TABLE index_snapshots (
  generation_id integer PRIMARY KEY REFERENCES index_generations(id) ON DELETE CASCADE,
  embedder_id text,
  chunker text NOT NULL,
  manifest text NOT NULL,
  bytes bigint NOT NULL,
  complete boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE index_snapshot_parts (
  generation_id integer NOT NULL REFERENCES index_snapshots(generation_id) ON DELETE CASCADE,
  file text NOT NULL,
  part integer NOT NULL,
  bytes bytea NOT NULL,
  sha256 text NOT NULL,
  PRIMARY KEY (generation_id, file, part)
);
ALTER TABLE index_snapshot_parts ALTER COLUMN bytes SET STORAGE EXTERNAL;
`;
