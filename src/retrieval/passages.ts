/**
 * Passages inside the chosen articles: once ranking has decided which articles answer the
 * question, each article's best chunks (by their own lexical and dense evidence) become one
 * passage, adjacent chunks merged into one excerpt.
 */
import type { StoredChunk } from '../store/reader.js';
import type { SearchIndex } from '../store/search-index.js';
import type { Passage } from '../types.js';
import type { RankedArticle } from './rank.js';
import { countStoredStems } from '../util/stems.js';
import { stemSet } from './terms.js';

/** Separates non-adjacent excerpts of one article inside a passage. */
export const EXCERPT_GAP = '\n\n[…]\n\n';

/** A further chunk of an article is shown only when it scores at least this share of the article's best. */
const EXTRA_CHUNK_SHARE = 0.6;

/** What the passage picker needs to score chunks inside the chosen articles. */
export interface ChunkScoring {
  /** Lexical BM25 of chunks (by label), from the searches already run. */
  lexical: Map<number, number>;
  /** Stems of the question's topic terms, for chunks the lexical search did not reach. */
  queryStems: readonly string[];
  /** Dense similarity of chunks (by label), from the dense search already run. */
  dense: Map<number, number>;
  maxChunksPerArticle: number;
}

/** One passage per ranked article, in ranking order. */
export async function passagesFor(reader: SearchIndex, ranked: RankedArticle[], scoring: ChunkScoring): Promise<Passage[]> {
  const topLexical = Math.max(0, ...scoring.lexical.values());
  const passages: Passage[] = [];
  for (const a of ranked) {
    const art = reader.article(a.articleId);
    if (!art) continue;
    const found = await pickedExcerpt(reader, a.articleId, scoring, topLexical);
    if (!found) continue;
    passages.push({
      articleId: a.articleId,
      title: art.title,
      date: art.date,
      url: art.url,
      source: art.source,
      ...found,
      score: a.score,
      ...(a.denseScore !== undefined ? { denseScore: a.denseScore } : {}),
      ...(a.lexicalScore !== undefined ? { lexicalScore: a.lexicalScore } : {}),
    });
  }
  return passages;
}

/**
 * The article's chosen chunks as one excerpt; null when it has no text or no chunks. A store that
 * counts stems where its rows are (`chunkMatches`) is asked for chunk positions and counts only,
 * and the excerpt is put together from the chosen chunks' own text (a chunk's text is its
 * article's text between its offsets); an excerpt with a gap between two adjacent chunks needs
 * the article's text.
 */
async function pickedExcerpt(
  reader: SearchIndex,
  articleId: string,
  scoring: ChunkScoring,
  topLexical: number,
): Promise<ReturnType<typeof excerpt> | null> {
  const matches = reader.chunkTexts ? await reader.chunkMatches?.(articleId, scoring.queryStems) : undefined;
  if (matches?.every((c) => c.found !== null)) {
    const stems = scoring.queryStems.length;
    const chunks = chooseChunks(matches, (c) => (stems === 0 ? 0 : (c.found ?? 0) / stems), scoring, topLexical);
    if (chunks.length === 0) return null;
    const texts = await reader.chunkTexts!(chunks.map((c) => c.label));
    const joined = joinedRuns(chunks, texts);
    if (joined) return joined;
    const text = await reader.articleText(articleId);
    return text === undefined ? null : excerpt(chunks, text);
  }
  const text = await reader.articleText(articleId);
  if (text === undefined) return null;
  const chunks = chooseChunks(await reader.chunksOf(articleId), (c) => overlap(c, scoring.queryStems), scoring, topLexical);
  return chunks.length === 0 ? null : excerpt(chunks, text);
}

/** A chunk as the picker sees it. */
type Span = Pick<StoredChunk, 'label' | 'id' | 'ordinal' | 'start' | 'end'>;

/**
 * The article's best chunk, plus up to `maxChunksPerArticle - 1` more that score nearly as
 * well, in reading order. An article found by its title or by words spread over it, with no
 * single chunk standing out, is represented by its lead (news puts the essentials first).
 */
function chooseChunks<C extends Span>(chunks: C[], overlapOf: (c: C) => number, scoring: ChunkScoring, topLexical: number): C[] {
  if (chunks.length === 0) return [];
  const scored = chunks.map((c) => {
    const bm25 = scoring.lexical.get(c.label);
    // A chunk the BM25 search ranked counts by its score; any other by the share of the
    // question's topic terms it holds, at half weight (it was not among the best matches).
    const lex = bm25 !== undefined && topLexical > 0 ? bm25 / topLexical : 0.5 * overlapOf(c);
    return { c, score: lex + Math.max(0, scoring.dense.get(c.label) ?? 0) };
  });
  const best = scored.reduce((a, b) => (b.score > a.score ? b : a));
  if (best.score <= 0) return [chunks[0]!];
  const picked = scored
    .filter((s) => s.score > 0 && s.score >= EXTRA_CHUNK_SHARE * best.score)
    .sort((a, b) => b.score - a.score || a.c.ordinal - b.c.ordinal)
    .slice(0, Math.max(1, scoring.maxChunksPerArticle))
    .map((s) => s.c);
  return picked.sort((a, b) => a.ordinal - b.ordinal);
}

/** Runs of consecutive chunks merged, from the chunks' own text; null when a text is missing or adjacent chunks leave a gap. */
function joinedRuns(chunks: Span[], texts: Map<number, string>): ReturnType<typeof excerpt> | null {
  const runs: string[] = [];
  let prev: { ordinal: number; end: number } | null = null;
  for (const c of chunks) {
    const t = texts.get(c.label);
    if (t === undefined || t.length !== c.end - c.start) return null;
    if (prev && c.ordinal === prev.ordinal + 1) {
      if (c.start > prev.end) return null;
      if (c.end > prev.end) runs[runs.length - 1] += t.slice(prev.end - c.start);
      prev = { ordinal: c.ordinal, end: Math.max(prev.end, c.end) };
    } else {
      runs.push(t);
      prev = { ordinal: c.ordinal, end: c.end };
    }
  }
  const spans = excerptSpans(chunks);
  return { chunkIds: chunks.map((c) => c.id), start: spans[0]!.start, end: spans[spans.length - 1]!.end, text: runs.join(EXCERPT_GAP) };
}

/** Runs of consecutive chunks merged through their offsets; runs joined with `EXCERPT_GAP`. */
function excerpt(chunks: Span[], text: string): Pick<Passage, 'chunkIds' | 'start' | 'end' | 'text'> {
  const runs = excerptSpans(chunks);
  return {
    chunkIds: chunks.map((c) => c.id),
    start: runs[0]!.start,
    end: runs[runs.length - 1]!.end,
    text: runs.map((r) => text.slice(r.start, r.end)).join(EXCERPT_GAP),
  };
}

/** The offsets of each run of consecutive chunks. */
function excerptSpans(chunks: Span[]): { start: number; end: number }[] {
  const runs: { start: number; end: number }[] = [];
  let prevOrdinal = Number.NaN;
  for (const c of chunks) {
    const last = runs[runs.length - 1];
    if (last && c.ordinal === prevOrdinal + 1) last.end = Math.max(last.end, c.end);
    else runs.push({ start: c.start, end: c.end });
    prevOrdinal = c.ordinal;
  }
  return runs;
}

function overlap(chunk: StoredChunk, stems: readonly string[]): number {
  if (stems.length === 0) return 0;
  // The index's stored stems when it keeps them; stemming the text here costs far more.
  if (chunk.stems != null) return countStoredStems(chunk.stems, stems) / stems.length;
  const have = stemSet(chunk.text);
  return stems.filter((s) => have.has(s)).length / stems.length;
}
