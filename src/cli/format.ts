/** Plain-text rendering of answers and summaries for the terminal. */
import type { Answer, IndexSummary } from '../types.js';
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
