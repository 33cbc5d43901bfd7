/**
 * SQL pieces shared by the PostgreSQL writer and reader.
 */

/** The rows of `alias` generation `$param` sees (see schema.ts). */
export function visible(alias: string, param: string): string {
  return `${alias}.added_gen <= ${param} AND (${alias}.removed_gen IS NULL OR ${alias}.removed_gen > ${param})`;
}

/** The tsvector of an article: title lexemes weighted A (counted twice by default), body D. */
export const ARTICLE_TSV = `setweight(to_tsvector('english', t.title), 'A') || setweight(to_tsvector('english', t.text), 'D')`;

/** Lexemes with repeats in a tsvector: the document length BM25 uses. */
export function tsvLength(expr: string): string {
  return `(SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0)::int FROM unnest(${expr}) u)`;
}

/** Channel a publish NOTIFYs, with the new generation number as payload. */
export const PUBLISHED_CHANNEL = 'index_published';

/** A float32 vector as pgvector's text input, `[0.1,0.2,…]`. */
export function vectorLiteral(v: Float32Array | readonly number[]): string {
  return `[${Array.from(v).join(',')}]`;
}
