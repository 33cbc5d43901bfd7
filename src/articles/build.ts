/**
 * The last step every format shares: a parsed draft becomes an `Article`, or a skip reason.
 */

import { createHash } from 'node:crypto';
import type { Article, LoadIssue } from '../types.js';
import { describeDateValue, hasDateValue, normalizeDate } from './dates.js';
import { cleanTitle, normalizeText, oneLine, titleFromText } from './text.js';

/** Texts shorter than this after parsing are not articles (a caption, a stray line). */
export const MIN_TEXT_CHARS = 20;

/** What a format parser extracted from one article, before validation. */
export interface Draft {
  title?: unknown;
  /** The date as written in the source; normalised here. */
  date?: unknown;
  url?: unknown;
  source?: unknown;
  text: string;
}

/** An article plus the label issues about it use (`file`, or `file:line` for a record). */
export interface Entry {
  article: Article;
  label: string;
}

/** What parsing one file produced, with record labels kept for duplicate reports. */
export interface ParseOutput {
  entries: Entry[];
  skipped: LoadIssue[];
  warnings: LoadIssue[];
}

/** An empty ParseOutput. */
export function emptyOutput(): ParseOutput {
  return { entries: [], skipped: [], warnings: [] };
}

/** sha256 hex of a string. */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The article hash: changes whenever anything that gets indexed or shown changes. */
function articleHash(a: Pick<Article, 'title' | 'date' | 'url' | 'text'>): string {
  // JSON framing keeps field boundaries unambiguous ("ab"+"c" must differ from "a"+"bc").
  return sha256(JSON.stringify([a.title, a.date, a.url, a.text]));
}

function optionalString(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const s = oneLine(value);
  return s === '' ? null : s;
}

/**
 * Validates and completes a draft, adding the article, skip or warnings to `out`.
 * `label` names the file (or record) in issues.
 */
export function finishDraft(draft: Draft, where: { id: string; path: string; label: string }, out: ParseOutput): void {
  const text = normalizeText(draft.text);
  if (text.length < MIN_TEXT_CHARS) {
    out.skipped.push({ file: where.label, reason: 'no article text' });
    return;
  }
  const date = normalizeDate(draft.date);
  if (date === null && hasDateValue(draft.date)) {
    out.warnings.push({ file: where.label, reason: `unparseable date "${describeDateValue(draft.date)}"` });
  }
  const title = cleanTitle(draft.title) ?? titleFromText(text);
  const url = optionalString(draft.url);
  const partial = { id: where.id, title, date, url, source: optionalString(draft.source), text, path: where.path };
  out.entries.push({ article: { ...partial, hash: articleHash(partial) }, label: where.label });
}
