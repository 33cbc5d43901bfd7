/**
 * SQLite schema of one index generation: articles, chunks (with their vectors) and two FTS5
 * lexical indexes: one over chunks (which passages) and one over whole articles, title and text
 * (which articles: a question about a story names facts spread over the article, and one chunk
 * rarely holds them all). The article index is contentless (the text is already in `articles`)
 * and keyed by the article's rowid.
 */
/** Columns added after the first release: a copied base generation gains them (name → definition). */
export const ADDED_ARTICLE_COLUMNS: Readonly<Record<string, string>> = { lang: 'TEXT' };

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS articles (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  date TEXT,
  url TEXT,
  source TEXT,
  path TEXT NOT NULL,
  hash TEXT NOT NULL,
  text TEXT NOT NULL,
  -- ISO 639-1 code detected at indexing; null when unsure (or indexed before languages were recorded).
  lang TEXT
);
CREATE INDEX IF NOT EXISTS articles_date ON articles(date);
-- AUTOINCREMENT: a chunk's rowid is its label in the HNSW index, and labels of deleted
-- chunks must never be reused while the old point is only marked deleted there.
CREATE TABLE IF NOT EXISTS chunks (
  rowid INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  article_id TEXT NOT NULL REFERENCES articles(id),
  ordinal INTEGER NOT NULL,
  start INTEGER NOT NULL,
  end INTEGER NOT NULL,
  text TEXT NOT NULL,
  embed_text TEXT NOT NULL,
  tokens INTEGER NOT NULL,
  vector BLOB
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id, ordinal);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
  embed_text,
  tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
  title,
  text,
  content = '',
  contentless_delete = 1,
  tokenize = 'porter unicode61 remove_diacritics 2'
);
`;
