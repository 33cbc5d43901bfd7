/** Plain-text rendering of answers and summaries for the terminal. */
import path from 'node:path';
import type { Answer, IndexSummary, LibraryStats } from '../types.js';
import { formatSeconds } from '../util/format.js';

/** Where a cited article lives, for citations without a URL (the library's `articleLocation`). */
export type Locate = (articleId: string) => string | null;

/** An answer with its label (extractive / not covered) and a numbered source list. */
export function formatAnswerText(answer: Answer, locate?: Locate): string {
  const lines: string[] = [answer.text.trim()];
  if (answer.note) lines.push('', `(${answer.note})`);
  if (answer.citations.length > 0) {
    lines.push('', 'Sources:');
    for (const c of answer.citations) {
      const where = c.url ?? locate?.(c.articleId) ?? null;
      lines.push(`[${c.n}] ${c.title}${c.date ? ` (${c.date})` : ''}${where ? ` ${where}` : ''}`);
    }
  }
  return lines.join('\n');
}

/**
 * The terminal note for an answer the model failed to write: which model, where, and why (the
 * answer itself only says the service is unavailable; chats never see addresses or errors).
 */
export function llmFailureNote(answer: Answer, llm: { model: string; baseURL?: string | undefined }): string | null {
  if (!answer.llmFailure) return null;
  return `Note: the answer model ${llm.model} at ${llm.baseURL ?? 'https://api.openai.com/v1'} did not answer (${answer.llmFailure}).`;
}

/** The quoted passages behind each citation (terminal `/sources`). */
export function formatQuotes(answer: Answer): string {
  if (answer.citations.length === 0) return 'The last answer cited no sources.';
  return answer.citations.map((c) => `[${c.n}] ${c.title}${c.date ? ` (${c.date})` : ''}\n    “${c.quote}”`).join('\n');
}

/** Multi-line summary of a (re)index run. */
export function formatSummary(s: IndexSummary): string {
  const lines = [
    `Indexed ${s.articles} article${s.articles === 1 ? '' : 's'} (${s.chunks} chunks) in ${formatSeconds(s.seconds)}: ` +
      `${s.added} added, ${s.changed} changed, ${s.removed} removed, ${s.unchanged} unchanged, ${s.skipped.length} skipped.`,
  ];
  if (!s.dense) lines.push('Retrieval mode: lexical only (no embedding model).');
  for (const k of s.skipped) lines.push(`  skipped ${k.file}: ${k.reason}`);
  for (const w of s.warnings) lines.push(`  warning ${w.file}: ${w.reason}`);
  return lines.join('\n');
}

/** A folder as the user would type it: relative to the working folder when inside it, else absolute. */
export function shownPath(dir: string, cwd = process.cwd()): string {
  const rel = path.relative(cwd, dir);
  if (rel === '') return '.';
  return !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : dir;
}

/**
 * The line printed before serving: which folder, how many articles, the newest date; with no
 * articles, why (an empty folder, or files that could not be read).
 */
export function formatServing(stats: LibraryStats, folder: string, skippedFiles: number): string {
  if (stats.articles === 0) {
    const why =
      skippedFiles > 0
        ? `none of the ${skippedFiles} file${skippedFiles === 1 ? '' : 's'} in ${folder} could be read (npm run index lists why)`
        : `${folder} holds no articles (.txt, .md, .html, .pdf, .json, .jsonl)`;
    return `Serving 0 articles: ${why}. Add articles there, or set ARTICLES_DIR to your articles folder.`;
  }
  const n = `${stats.articles} article${stats.articles === 1 ? '' : 's'}`;
  const newest = stats.lastDate ? `newest ${stats.lastDate}` : 'none dated';
  const skipped = skippedFiles > 0 ? `; ${skippedFiles} file${skippedFiles === 1 ? '' : 's'} skipped (npm run index lists why)` : '';
  return `Serving ${n} from ${folder} (${newest}${skipped}).`;
}
