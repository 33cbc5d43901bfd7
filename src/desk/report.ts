/**
 * `npm run gaps` output: the same topics /gaps shows, as text for reading aloud at an editors'
 * meeting, JSON for tools, or CSV for a spreadsheet (one row per example question). Like /gaps,
 * it holds question texts and counts, never who asked.
 */
import type { GapsReport } from './desk.js';

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Plain text. */
export function gapsText(r: GapsReport): string {
  const n = (count: number, what: string) => `${count} ${what}${count === 1 ? '' : 's'}`;
  const head = `Gaps from ${day(r.from)} to ${day(r.to)} (${n(r.days, 'day')}): ${n(r.gapQuestions, 'question')} not covered, answered without a source, or 👎, in ${n(r.topics.length, 'topic')}.`;
  if (r.topics.length === 0) return head;
  const lines = [head];
  r.topics.forEach((t, i) => {
    const trend = t.previous === 0 ? 'new' : `${t.previous} the ${r.days} days before`;
    lines.push(
      '',
      `${i + 1}. ${t.label}: ${n(t.readers, 'reader')}, ${n(t.count, 'question')} (${trend})`,
      ...t.examples.map((e) => `   - ${e}`),
    );
  });
  return lines.join('\n');
}

/** JSON: the report as it is. */
export function gapsJson(r: GapsReport): string {
  return JSON.stringify({ ...r, from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString() }, null, 2);
}

/** CSV: rank, topic, readers, questions, previous, example (one row per example). */
export function gapsCsv(r: GapsReport): string {
  const rows = [['rank', 'topic', 'readers', 'questions', 'previous_period', 'example']];
  r.topics.forEach((t, i) => {
    for (const e of t.examples) rows.push([String(i + 1), t.label, String(t.readers), String(t.count), String(t.previous), e]);
  });
  return rows.map((row) => row.map(csvField).join(',')).join('\n');
}

function csvField(v: string): string {
  // A leading = + - @ would be run as a formula by spreadsheets: readers' text must stay text.
  const safe = /^[=+\-@]/.test(v) ? `'${v}` : v;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
