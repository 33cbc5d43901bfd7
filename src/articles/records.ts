/**
 * JSON (`.json`: one record or an array of records) and JSON Lines (`.jsonl`) articles.
 */

import { finishDraft, type Draft, type ParseOutput } from './build.js';
import { articleId, recordSlug } from './files.js';
import { oneLine } from './text.js';
import { errorMessage } from '../util/errors.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function first(record: Record<string, unknown>, keys: readonly string[]): unknown {
  for (const key of keys) {
    const v = record[key];
    if (v !== undefined && v !== null && v !== '') return v;
  }
  return undefined;
}

/** Reads the article fields of one record; null when it has no text field at all. */
function recordDraft(record: Record<string, unknown>): Draft | null {
  const text = first(record, ['text', 'body', 'content']);
  if (typeof text !== 'string') return null;
  return {
    title: first(record, ['title', 'headline']),
    date: first(record, [
      'date',
      'published',
      'published_at',
      'publishedAt',
      'datePublished',
      'pubDate',
      'published_date',
      'publication_date',
    ]),
    url: first(record, ['url', 'link']),
    source: first(record, ['source']),
    text,
  };
}

function jsonReason(err: unknown): string {
  const message = errorMessage(err);
  const short = message.split('\n', 1)[0] ?? '';
  return `invalid JSON: ${short.length > 80 ? short.slice(0, 77) + '...' : short}`;
}

/** Adds one record as an article, with an id unique within its file. */
function addRecord(value: unknown, where: { path: string; label: string; n: number }, usedIds: Set<string>, out: ParseOutput): void {
  if (!isRecord(value)) {
    out.skipped.push({ file: where.label, reason: 'not a JSON object' });
    return;
  }
  const draft = recordDraft(value);
  if (!draft) {
    out.skipped.push({ file: where.label, reason: 'no article text (expected a "text", "body" or "content" string)' });
    return;
  }
  const url = typeof draft.url === 'string' ? draft.url : null;
  const title = typeof draft.title === 'string' ? oneLine(draft.title) : null;
  const base = `${articleId(where.path)}/${recordSlug(url, title) || String(where.n)}`;
  let id = base;
  for (let k = 2; usedIds.has(id); k++) id = `${base}-${k}`;
  const before = out.entries.length;
  finishDraft(draft, { id, path: where.path, label: where.label }, out);
  if (out.entries.length > before) usedIds.add(id);
}

/**
 * Parses a `.json` file holding one record or an array of records (or `{"articles": [...]}`).
 * Records are labelled `file[i]` in issues; a bad record does not stop the others.
 */
export function parseJsonFile(content: string, path: string, out: ParseOutput): void {
  let data: unknown;
  try {
    data = JSON.parse(content);
  } catch (err) {
    out.skipped.push({ file: path, reason: jsonReason(err) });
    return;
  }
  if (isRecord(data) && Array.isArray(data.articles)) data = data.articles;
  const usedIds = new Set<string>();
  if (!Array.isArray(data)) {
    addRecord(data, { path, label: path, n: 1 }, usedIds, out);
    return;
  }
  if (data.length === 0) {
    out.skipped.push({ file: path, reason: 'empty file' });
    return;
  }
  for (const [i, value] of data.entries()) addRecord(value, { path, label: `${path}[${i}]`, n: i + 1 }, usedIds, out);
}

/**
 * Parses a `.jsonl` file, one record per line (blank lines ignored). A bad line becomes one
 * skipped `file:line` entry and the other lines still load.
 */
export function parseJsonLinesFile(content: string, path: string, out: ParseOutput): void {
  const usedIds = new Set<string>();
  const lines = content.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const label = `${path}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      out.skipped.push({ file: label, reason: jsonReason(err) });
      return;
    }
    addRecord(value, { path, label, n: i + 1 }, usedIds, out);
  });
}
