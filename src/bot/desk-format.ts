/**
 * What the editors' desk shows in the chat: /gaps pages and the question figures of /stats.
 * Question texts and counts only, never who asked.
 */
import type { DeskStats, GapsReport } from '../desk/index.js';
import { escapeHtml } from './format.js';

/** Topics per /gaps page. */
export const GAPS_PAGE_SIZE = 5;

/** One page of /gaps: topics with readers, count, trend and example questions (never who asked). */
export function renderGapsHtml(report: GapsReport, page: number): string {
  const period = `the last ${report.days} day${report.days === 1 ? '' : 's'}`;
  if (report.topics.length === 0) {
    return `<b>Gaps</b> in ${period}: none. Every question was answered with a source and nobody pressed 👎.`;
  }
  const pages = Math.ceil(report.topics.length / GAPS_PAGE_SIZE);
  const lines = [
    `<b>Gaps</b> in ${period}: ${report.gapQuestions} question${report.gapQuestions === 1 ? '' : 's'} not covered, answered without a source, or 👎, in ${report.topics.length} topic${report.topics.length === 1 ? '' : 's'}${pages > 1 ? ` (page ${page + 1} of ${pages})` : ''}.`,
  ];
  report.topics.slice(page * GAPS_PAGE_SIZE, (page + 1) * GAPS_PAGE_SIZE).forEach((t, i) => {
    lines.push(
      '',
      `${page * GAPS_PAGE_SIZE + i + 1}. <b>${escapeHtml(t.label)}</b>: ${t.readers} reader${t.readers === 1 ? '' : 's'}, ${t.count} question${t.count === 1 ? '' : 's'} (${trend(t.count, t.previous)})`,
      ...t.examples.map((e) => `  • <i>${escapeHtml(e)}</i>`),
    );
  });
  return lines.join('\n');
}

/** The question figures /stats adds: volume per day, outcomes, feedback, most-cited articles, most-asked topics. */
export function renderDeskStatsHtml(s: DeskStats): string {
  const pct = (n: number) => (s.total === 0 ? '0%' : `${Math.round((100 * n) / s.total)}%`);
  const outcomes = (Object.entries(s.outcomes) as [string, number][])
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${o} ${pct(n)}`)
    .join(', ');
  const lines = [
    `<b>Questions, last ${s.days} days</b>: ${s.total}${outcomes ? ` (${escapeHtml(outcomes)})` : ''}`,
    `Per day: ${s.perDay.map((d) => `${d.day.slice(5)} ${d.count}`).join(' · ')}`,
    `Feedback: 👍 ${s.up} · 👎 ${s.down}`,
  ];
  if (s.topCited.length > 0) {
    lines.push('Most cited:', ...s.topCited.map((c, i) => `${i + 1}. ${escapeHtml(c.title)} (${c.count})`));
  }
  if (s.topTopics.length > 0) {
    lines.push('Most asked:', ...s.topTopics.map((t, i) => `${i + 1}. ${escapeHtml(t.label)} (${t.count})`));
  }
  return lines.join('\n');
}

/** The trend against the previous period, in words. */
export function trend(count: number, previous: number): string {
  if (previous === 0) return 'new';
  if (count === previous) return `as many as the period before`;
  return `${count > previous ? '↑' : '↓'} from ${previous} the period before`;
}
