/**
 * Article → chunks small enough to embed.
 *
 * Text is cut by paragraphs, then sentences (util/text sentenceSpans: Intl.Segmenter, with title
 * abbreviations such as "Mr." kept with the name that follows), and consecutive sentences are
 * packed up to a token budget measured with the embedding model's own counter. The budget
 * applies to `embedText` (title/date header + text) including the model's special tokens,
 * because that is what the model truncates on.
 *
 * The counter may be a real tokenizer and therefore slow, so every sentence is counted once
 * and chunk sizes are estimated from those counts; only the finished chunk is counted again
 * to verify the estimate. Oversized sentences are split with a galloping search so the text
 * handed to the counter stays proportional to the piece being cut, never to the whole text.
 */
import type { Article, Chunk, TokenCounter } from '../types.js';
import { sentenceSpans } from '../util/text.js';

/** How a skipped article the chunker could not split is described: the pipeline tries it again on every run. */
export const UNCHUNKABLE = 'could not be chunked';

/** How to cut articles into chunks. */
export interface ChunkOptions {
  /** Token budget for each chunk's `embedText`, special tokens included. */
  maxTokens: number;
  /** How many trailing sentences of a chunk are repeated at the start of the next one. */
  overlapSentences: number;
  /** The embedding model's own token counter. */
  counter: TokenCounter;
}

/** What `chunkerSettingsId` needs: the settings, not a live tokenizer. */
export interface ChunkerSettings {
  maxTokens: number;
  overlapSentences: number;
  counter: { readonly id: string };
}

// Bump whenever the cutting rules change, so manifests built with older rules are re-chunked.
const CHUNKER_VERSION = 2;

// Below this fill a chunk keeps taking sentences from the next paragraph rather than stopping
// early: tiny chunks embed poorly and waste index slots.
const FULL_ENOUGH = 0.5;

const ELLIPSIS = '…';

const wordSegmenter = new Intl.Segmenter('en', { granularity: 'word' });
const graphemeSegmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** Records the settings that determine chunk boundaries, for the index manifest. */
export function chunkerSettingsId(options: ChunkerSettings): string {
  return `chunker-v${CHUNKER_VERSION};maxTokens=${options.maxTokens};overlap=${options.overlapSentences};counter=${options.counter.id}`;
}

/** A sentence, or a piece of a sentence too long to fit a chunk on its own. */
interface Unit {
  start: number;
  end: number;
  paragraph: number;
  /** Estimated tokens this unit adds to a chunk (special tokens excluded). */
  cost: number;
}

interface Piece {
  start: number;
  end: number;
  /** Exact token count of the piece embedded alone (header and special tokens included). */
  tokens: number;
}

/** Cuts `article` into chunks whose `embedText` each fit `options.maxTokens` by `options.counter`. */
export function chunkArticle(article: Article, options: ChunkOptions): Chunk[] {
  const { maxTokens, overlapSentences, counter } = options;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new RangeError(`maxTokens must be a positive integer, got ${maxTokens}`);
  if (!Number.isInteger(overlapSentences) || overlapSentences < 0) {
    throw new RangeError(`overlapSentences must be a non-negative integer, got ${overlapSentences}`);
  }
  const text = article.text;
  if (!/\S/.test(text)) return [];

  const empty = counter.count('');
  const header = buildHeader(article.title, article.date, counter, empty, Math.max(1, Math.floor(maxTokens / 4)));
  const prefix = header ? `${header}\n\n` : '';
  const base = counter.count(prefix);
  if (base >= maxTokens) {
    throw new RangeError(`maxTokens ${maxTokens} leaves no room for text after the ${base}-token header and special tokens`);
  }
  const embedTokens = (start: number, end: number): number => counter.count(prefix + text.slice(start, end));

  const splitter = new Splitter(text, embedTokens, maxTokens);
  const budget = maxTokens - base;
  const units: Unit[] = [];
  paragraphSpans(text).forEach(([pStart, pEnd], paragraph) => {
    for (const span of sentenceSpans(text.slice(pStart, pEnd))) {
      const start = pStart + span.start;
      const end = pStart + span.end;
      const cost = Math.max(0, counter.count(text.slice(start, end)) - empty);
      if (base + cost <= maxTokens) {
        units.push({ start, end, paragraph, cost });
      } else {
        // Aim for equal pieces: a greedy cut leaves a fragment like "the UN." as a chunk of its own.
        const pieces = Math.ceil(cost / budget);
        const target = Math.ceil(cost / pieces);
        const limit = Math.min(maxTokens, base + target + Math.ceil(target / 10));
        for (const p of splitter.split(start, end, limit)) units.push({ start: p.start, end: p.end, paragraph, cost: p.tokens - base });
      }
    }
  });

  const chunks: Chunk[] = [];
  let s = 0;
  // Units before `fresh` are already in earlier chunks; units s..fresh-1 are the overlap.
  let fresh = 0;
  while (fresh < units.length) {
    let used = 0;
    for (let i = s; i < fresh; i++) used += unitAt(units, i).cost;
    // Overlap is a nicety: give it up, oldest sentence first, before letting it crowd out new text.
    while (s < fresh && used + unitAt(units, fresh).cost > budget) used -= unitAt(units, s++).cost;
    used += unitAt(units, fresh).cost;
    let e = fresh + 1;
    while (e < units.length) {
      const next = unitAt(units, e);
      if (used + next.cost > budget) break;
      const startsParagraph = next.paragraph !== unitAt(units, e - 1).paragraph;
      if (startsParagraph && used >= budget * FULL_ENOUGH && !paragraphFits(units, e, budget - used)) break;
      used += next.cost;
      e++;
    }

    // Token counts are not exactly additive (merges across joins, separators that cost tokens),
    // so the estimate is checked and the chunk shrunk until the real count fits.
    let tokens: number;
    for (;;) {
      tokens = embedTokens(unitAt(units, s).start, unitAt(units, e - 1).end);
      if (tokens <= maxTokens) break;
      if (e - 1 > fresh) {
        e--;
      } else if (s < fresh) {
        s++;
      } else {
        const only = unitAt(units, s);
        const pieces = splitter.split(only.start, only.end, maxTokens);
        if (pieces.length < 2) throw new Error(`token counter ${counter.id} gave inconsistent counts for the same text`);
        units.splice(s, 1, ...pieces.map((p) => ({ start: p.start, end: p.end, paragraph: only.paragraph, cost: p.tokens - base })));
        e = s + 1;
      }
    }

    const start = unitAt(units, s).start;
    const end = unitAt(units, e - 1).end;
    const chunkText = text.slice(start, end);
    const ordinal = chunks.length;
    chunks.push({
      id: `${article.id}#${ordinal}`,
      articleId: article.id,
      ordinal,
      start,
      end,
      text: chunkText,
      embedText: prefix + chunkText,
      tokens,
    });
    // Starting at s + 1 at the latest keeps a chunk from swallowing the whole previous one.
    s = Math.max(s + 1, e - overlapSentences);
    fresh = e;
  }
  return chunks;
}

function unitAt(units: Unit[], i: number): Unit {
  const u = units[i];
  if (!u) throw new Error(`chunk unit ${i} out of range`);
  return u;
}

/** Whether the paragraph starting at unit `first` fits in `room` tokens. */
function paragraphFits(units: Unit[], first: number, room: number): boolean {
  const paragraph = unitAt(units, first).paragraph;
  let total = 0;
  for (let i = first; i < units.length && unitAt(units, i).paragraph === paragraph; i++) {
    total += unitAt(units, i).cost;
    if (total > room) return false;
  }
  return true;
}

/** Title and date line; the title is shortened so the header costs at most `limit` tokens. */
function buildHeader(rawTitle: string, date: string | null, counter: TokenCounter, empty: number, limit: number): string {
  const title = rawTitle.replace(/\s+/g, ' ').trim();
  const cost = (s: string): number => counter.count(s) - empty;
  const dateSuffix = date ? ` (${date})` : '';
  const full = title ? title + dateSuffix : (date ?? '');
  if (cost(full) <= limit) return full;
  if (title) {
    const withDate = truncateTitle(title, (t) => t + ELLIPSIS + dateSuffix, cost, limit);
    if (withDate !== null) return withDate;
  }
  // At tiny budgets the date is the more useful half of the header for news.
  if (date && cost(date) <= limit) return date;
  if (title) {
    const withoutDate = truncateTitle(title, (t) => t + ELLIPSIS, cost, limit);
    if (withoutDate !== null) return withoutDate;
  }
  return '';
}

function truncateTitle(title: string, wrap: (t: string) => string, cost: (s: string) => number, limit: number): string | null {
  const measure = (cut: number): number => cost(wrap(title.slice(0, cut).trimEnd()));
  for (const cuts of [wordEnds(title, 0, title.length), graphemeEnds(title, 0, title.length)]) {
    const found = lastFitting(cuts, 0, measure, limit);
    if (found) return wrap(title.slice(0, found.cut).trimEnd());
  }
  return null;
}

/**
 * Cuts a span that is too long for one chunk into pieces that each fit alone: at whitespace
 * first, then at Intl word boundaries (URLs, scripts without spaces), then between graphemes.
 */
class Splitter {
  constructor(
    private readonly text: string,
    private readonly embedTokens: (start: number, end: number) => number,
    private readonly maxTokens: number,
  ) {}

  /** Pieces of [start, end) whose embedded token count is at most `limit` (itself at most maxTokens). */
  split(start: number, end: number, limit: number): Piece[] {
    return this.splitAt(start, end, 0, Math.min(limit, this.maxTokens));
  }

  private splitAt(start: number, end: number, level: 0 | 1 | 2, limit: number): Piece[] {
    const text = this.text;
    const cuts =
      level === 0 ? wordEnds(text, start, end) : level === 1 ? wordSegmentEnds(text, start, end) : graphemeEnds(text, start, end);
    const pieces: Piece[] = [];
    let cur = start;
    let k = 0;
    let span: number | undefined;
    while (cur < end) {
      while (k < cuts.length && (cuts[k] as number) <= cur) k++;
      const measure = (cut: number): number => this.embedTokens(cur, trimEndAt(text, cur, cut));
      const found = lastFitting(cuts, k, measure, limit, span === undefined ? undefined : k + span);
      let next: number;
      if (found) {
        pieces.push({ start: cur, end: trimEndAt(text, cur, found.cut), tokens: found.tokens });
        span = found.index - k;
        next = found.cut;
      } else if (level < 2) {
        next = cuts[k] ?? end;
        pieces.push(...this.splitAt(cur, trimEndAt(text, cur, next), level === 0 ? 1 : 2, limit));
      } else if (limit < this.maxTokens) {
        // The balanced target was too tight for this one grapheme; the full budget may still hold it.
        return [...pieces, ...this.splitAt(cur, end, level, this.maxTokens)];
      } else {
        throw new RangeError(`maxTokens ${this.maxTokens} is too small to hold a single character after the header`);
      }
      cur = skipSpace(text, next, end);
    }
    return pieces;
  }
}

/**
 * Largest cut in `cuts[from..]` whose measure is within `limit`, assuming measures grow with the
 * cut. Galloping up from the smallest cut (or from `hint`, a guess taken from the previous piece)
 * keeps every measured string at most about twice the answer, and uniform text needs ~2 probes.
 */
function lastFitting(
  cuts: readonly number[],
  from: number,
  measure: (cut: number) => number,
  limit: number,
  hint?: number,
): { index: number; cut: number; tokens: number } | null {
  let good = -1;
  let goodTokens = 0;
  let bad = cuts.length;
  const probe = (i: number): boolean => {
    const t = measure(cuts[i] as number);
    if (t > limit) {
      bad = i;
      return false;
    }
    good = i;
    goodTokens = t;
    return true;
  };
  if (hint !== undefined && hint > from && hint < cuts.length) probe(hint);
  if (good < 0 && !probe(from)) return null;
  for (let step = 1; good + step < bad; step *= 2) {
    if (!probe(good + step)) break;
  }
  let lo = good + 1;
  while (lo < bad) {
    const mid = (lo + bad) >>> 1;
    if (probe(mid)) lo = mid + 1;
  }
  return { index: good, cut: cuts[good] as number, tokens: goodTokens };
}

const isSpace = (ch: string | undefined): boolean => ch !== undefined && /\s/.test(ch);

/** Spans between blank lines. */
function paragraphSpans(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  let start = 0;
  for (const m of text.matchAll(/\n[^\S\n]*\n\s*/g)) {
    spans.push([start, m.index]);
    start = m.index + m[0].length;
  }
  spans.push([start, text.length]);
  return spans;
}

function trimEndAt(text: string, start: number, end: number): number {
  let e = end;
  while (e > start && isSpace(text[e - 1])) e--;
  return e;
}

function skipSpace(text: string, from: number, end: number): number {
  let i = from;
  while (i < end && isSpace(text[i])) i++;
  return i;
}

/** Ends of whitespace-separated words in [start, end). */
function wordEnds(text: string, start: number, end: number): number[] {
  const cuts: number[] = [];
  for (let i = start + 1; i <= end; i++) {
    if (!isSpace(text[i - 1]) && (i === end || isSpace(text[i]))) cuts.push(i);
  }
  return cuts;
}

function wordSegmentEnds(text: string, start: number, end: number): number[] {
  const cuts: number[] = [];
  for (const seg of wordSegmenter.segment(text.slice(start, end))) cuts.push(start + seg.index + seg.segment.length);
  return cuts;
}

function graphemeEnds(text: string, start: number, end: number): number[] {
  const cuts: number[] = [];
  for (const seg of graphemeSegmenter.segment(text.slice(start, end))) cuts.push(start + seg.index + seg.segment.length);
  return cuts;
}
