/**
 * BM25 computed in PostgreSQL from its full-text search: candidates come from the GIN-indexed
 * tsvector match (an OR of the query's lexemes, as the embedded store's FTS5 query), and each is
 * scored with the same formula FTS5's bm25() uses (k1 = 1.2, b = 0.75, idf = ln((N - df + 0.5) /
 * (df + 0.5)) floored at 1e-6), from the term frequencies in its tsvector and its length. N and
 * the average length belong to the generation and are passed in; df is counted over the match.
 * The whole-article variant weights title and body occurrences like FTS5's column weights.
 */
import type { Queryable } from '../../db/client.js';
import type { ArticleFieldWeights, ArticleHit, DateRange, Hit } from '../reader.js';
import { visible } from './sql.js';

/** Collection statistics of one generation BM25 normalises with. */
export interface Bm25Stats {
  docs: number;
  avgTokens: number;
}

/**
 * The words of an FTS5 query built by `ftsQuery` (`"a" OR "b"`), split into letter/digit runs:
 * what is left is safe inside any tsquery.
 */
export function termsOfMatch(match: string): string {
  const words: string[] = [];
  for (const m of match.matchAll(/"((?:[^"]|"")*)"/g)) {
    for (const w of m[1]!.replace(/""/g, '"').matchAll(/[\p{L}\p{N}]+/gu)) words.push(w[0]);
  }
  return words.join(' ');
}

const K1 = 1.2;
const B = 0.75;

/** Scores rows of table `m` (label/key, tsv, tokens) holding only query lexemes' tf rows. */
function scoreSql(f: string): string {
  return `sum(greatest(ln(($N - df.d + 0.5) / (df.d + 0.5)), 1e-6) * ${f} * ${K1 + 1} / (${f} + ${K1} * (${1 - B} + ${B} * tf.tokens / $AVG)))::float8`;
}

// The OR query over the query's words and the array of their lexemes, both from parameters through
// immutable functions: the planner folds them to constants and can use the GIN index.
const QUERY = `to_tsquery('english', $Q)`;
const LEXEMES = `tsvector_to_array(to_tsvector('english', $1))`;

/**
 * The query lexemes' entries of a tsvector, without unnesting the whole document: mark their
 * positions with weight B, keep only B. (Stored vectors use A and D only.)
 */
function onlyQueryLexemes(tsv: string): string {
  return `unnest(ts_filter(setweight(${tsv}, 'B', ${LEXEMES}), '{b}'))`;
}

/** Chunk BM25 over a generation, optionally inside a date range or a set of articles. */
export async function chunkBm25(
  db: Queryable,
  args: { match: string; generation: number; limit: number; stats: Bm25Stats; range?: DateRange; articleIds?: readonly string[] },
): Promise<Hit[]> {
  const terms = termsOfMatch(args.match);
  if (!terms) return [];
  const params: unknown[] = [terms, args.generation, args.limit, args.stats.docs, Math.max(1e-9, args.stats.avgTokens)];
  let filter = '';
  if (args.range) {
    params.push(args.range.from, args.range.to);
    filter = 'JOIN index_articles a ON a.row_id = s.article_row WHERE a.date BETWEEN $6 AND $7';
  } else if (args.articleIds) {
    params.push(args.articleIds);
    filter = 'WHERE s.article_id = ANY($6::text[])';
  }
  const sql = `WITH
  m AS (SELECT c.label, c.tsv, c.tokens, c.article_row, c.article_id FROM index_chunks c WHERE c.tsv @@ ${QUERY} AND ${visible('c', '$2')}),
  tf AS (SELECT m.label, m.article_row, m.article_id, m.tokens, u.lexeme, coalesce(array_length(u.positions, 1), 1)::float8 AS f
         FROM m, ${onlyQueryLexemes('m.tsv')} u),
  df AS (SELECT lexeme, count(*)::float8 AS d FROM tf GROUP BY lexeme),
  s AS (SELECT tf.label, tf.article_row, tf.article_id, ${scoreSql('tf.f')} AS score FROM tf JOIN df USING (lexeme) GROUP BY tf.label, tf.article_row, tf.article_id)
  SELECT s.label, s.score FROM s ${filter} ORDER BY s.score DESC, s.label LIMIT $3`;
  return (await db.query<Hit>(bind(sql, params, terms), params)).rows;
}

/** Whole-article BM25, title occurrences counted `weights.title` times and body ones `weights.text` times. */
export async function articleBm25(
  db: Queryable,
  args: { match: string; generation: number; limit: number; stats: Bm25Stats; range?: DateRange; weights: ArticleFieldWeights },
): Promise<ArticleHit[]> {
  const terms = termsOfMatch(args.match);
  if (!terms) return [];
  const params: unknown[] = [
    terms,
    args.generation,
    args.limit,
    args.stats.docs,
    Math.max(1e-9, args.stats.avgTokens),
    args.weights.title,
    args.weights.text,
  ];
  let filter = '';
  if (args.range) {
    params.push(args.range.from, args.range.to);
    filter = 'WHERE s.date BETWEEN $8 AND $9';
  }
  const sql = `WITH
  m AS (SELECT a.row_id, a.id, a.date, a.tsv, a.title_tsv, a.tokens FROM index_articles a WHERE a.tsv @@ ${QUERY} AND ${visible('a', '$2')}),
  tf AS (SELECT m.row_id, m.id, m.date, m.tokens, u.lexeme,
                coalesce((SELECT array_length(t.positions, 1) FROM unnest(m.title_tsv) t WHERE t.lexeme = u.lexeme), 0)::float8 AS title_n,
                coalesce(array_length(u.positions, 1), 1)::float8 AS all_n
         FROM m, ${onlyQueryLexemes('m.tsv')} u),
  df AS (SELECT lexeme, count(*)::float8 AS d FROM tf GROUP BY lexeme),
  s AS (SELECT tf.row_id, tf.id, tf.date, ${scoreSql('($6 * tf.title_n + $7 * (tf.all_n - tf.title_n))')} AS score
        FROM tf JOIN df USING (lexeme) GROUP BY tf.row_id, tf.id, tf.date)
  SELECT s.id AS "articleId", s.date, s.score FROM s ${filter} ORDER BY s.score DESC, s.id LIMIT $3`;
  return (await db.query<ArticleHit>(bind(sql, params, terms), params)).rows;
}

/** Fills the named placeholders: $N and $AVG (parameters 4 and 5) and $Q, the OR query appended last. */
function bind(sql: string, params: unknown[], terms: string): string {
  params.push(terms.split(' ').join(' | '));
  return sql.replaceAll('$N', '$4').replaceAll('$AVG', '$5').replaceAll('$Q', `$${params.length}`);
}
