/**
 * A soft preference for articles published shortly before the question was asked. Readers ask
 * about the news of their days ("what did the court decide?" the week it decided), so among
 * articles that match a question about equally well, the one from just before "now" is the
 * likelier answer. It only ever adds to a score: no article is excluded by it, and a clearly
 * better match from long ago still wins.
 */

const MS_PER_DAY = 86_400_000;

/** How strongly and how far back recency counts. */
export interface RecencyOptions {
  /** Days after which the preference has halved. */
  halfLifeDays: number;
  /** Weight for every question (in units of a best-match score, which is 1). */
  weight: number;
  /** Weight when the question itself speaks of recent time ("this week", "recently", "latest"). */
  relativeWeight: number;
}

/** Whole days from `date` (ISO `YYYY-MM-DD`) to `now`; negative for an article dated after `now`. */
export function daysBefore(date: string, now: Date): number {
  const t = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(t)) return Number.NaN;
  const today = Math.floor(now.getTime() / MS_PER_DAY);
  return today - Math.floor(t / MS_PER_DAY);
}

/**
 * The preference for an article of this date, in [0, 1]: 1 for an article from the day the
 * question was asked (or the day before), halving every `halfLifeDays` further back. Articles
 * without a date, and articles published after "now" (a reader cannot ask about what has not
 * happened yet), get 0; one day ahead is allowed for time zones.
 */
export function recencyPrior(date: string | null, now: Date, halfLifeDays: number): number {
  if (!date) return 0;
  const days = daysBefore(date, now);
  if (!Number.isFinite(days) || days < -1) return 0;
  return 0.5 ** (Math.max(0, days - 1) / Math.max(0.1, halfLifeDays));
}
