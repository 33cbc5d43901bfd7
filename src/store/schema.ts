/**
 * SQLite schema of one index generation: articles, chunks (with their vectors) and two FTS5
 * lexical indexes: one over chunks (which passages) and one over whole articles, title and text
 * (which articles: a question about a story names facts spread over the article, and one chunk
 * rarely holds them all). The article index is contentless (the text is already in `articles`)
 * and keyed by the article's rowid. `stems` (of an article's title and text, of a chunk's text;
 * `encodeStems`) is worked out once here so queries never stem whole texts; generations written
 * before it existed gain the column empty, and readers stem those rows as before.
 */
import type Database from 'better-sqlite3';

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
  stems TEXT,
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
  vector BLOB,
  stems TEXT
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

/** The stored-stems column, added to a generation copied from one written before it existed. */
export function addStemColumns(db: Database.Database): void {
  for (const table of ['articles', 'chunks']) {
    if (!hasColumn(db, table, 'stems')) db.exec(`ALTER TABLE ${table} ADD COLUMN stems TEXT`);
  }
}

/** The article-language column, added (null for every row) to a generation written before languages were recorded. */
export function addLanguageColumn(db: Database.Database): void {
  if (!hasColumn(db, 'articles', 'lang')) db.exec('ALTER TABLE articles ADD COLUMN lang TEXT');
}

/** True when `table` has `column` (older generations lack newer columns). */
export function hasColumn(db: Database.Database, table: string, column: string): boolean {
  return (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).some((c) => c.name === column);
}
