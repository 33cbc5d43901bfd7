/**
 * Time expressions in news questions ("in June 2024", "last week", "recently") → a date range.
 *
 * Expressions are resolved against "now": when the question was asked (the Telegram message's
 * date, the clock in the terminal, `asked_at` in the eval). Each range says whether the reader
 * named a period ('absolute': "in June 2024", "on 12 March", "in 2019") or spoke loosely of
 * recent time ('relative': "this week", "recently", "yesterday", "last month"). Retrieval may
 * narrow the search to an absolute range, but only prefers recent articles for a relative one:
 * readers say "this week" about a story that broke ten days ago.
 * All arithmetic is on UTC calendar dates so the result never depends on the host time zone.
 */

/** A date range named in a query. */
export interface TimeFilter {
  /** Inclusive ISO `YYYY-MM-DD`. */
  from: string;
  /** Inclusive ISO `YYYY-MM-DD`. */
  to: string;
  /** The phrase as written in the query, including its preposition ("in June 2024"). */
  matched: string;
  /** The query with the phrase removed, for retrieval. */
  cleanedQuery: string;
  /** 'absolute' for a named period, 'relative' for loose recent time ("this week", "recently"). */
  kind: TimeKind;
  /**
   * True for recent time with no calendar edge ("recently", "the latest", "these days"): "the
   * latest on Brexit" still wants the newest article there is. False for a calendar period
   * ("this week", "yesterday", "last month"), which a reader means literally.
   */
  vague: boolean;
}

export type TimeKind = 'absolute' | 'relative';

const MONTH_NAMES = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
// Full names first so the alternation prefers "june" over "jun" + stray letters.
const MONTH = `(${[...MONTH_NAMES, 'sept', ...MONTH_NAMES.map((m) => m.slice(0, 3))].join('|')})\\.?`;
const DAY = `(\\d{1,2})(?:st|nd|rd|th)?`;
const YEAR = `(\\d{4})`;
const PREP = `(?:\\b(in|on|during|since|from)\\s+)?`;
const NUMBER_WORDS: Record<string, number> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
};
const COUNT = `(\\d{1,3}|${Object.keys(NUMBER_WORDS).join('|')})`;
const UNIT = `(days?|weeks?|months?|years?)`;

/** A calendar date as days since the epoch: easy to add to and compare. */
type Day = number;
const MS_PER_DAY = 86_400_000;

interface Candidate {
  index: number;
  length: number;
  range: [Day, Day];
  kind: TimeKind;
  vague: boolean;
}

interface Rule {
  pattern: RegExp;
  kind: TimeKind;
  vague?: true;
  /** The range for a match, or null when the match is not a real date (e.g. 31 June). */
  resolve: (m: RegExpExecArray, ref: Day) => [Day, Day] | null;
}

const RULES: Rule[] = [
  {
    kind: 'absolute',
    // ISO 2024-06-27; the lookarounds keep it from matching inside longer digit runs.
    pattern: new RegExp(`${PREP}(?<![\\d-])${YEAR}-(\\d{2})-(\\d{2})(?![\\d-])`, 'giu'),
    resolve: (m, ref) => dayRange(m[1], ref, num(m[2]), num(m[3]), num(m[4])),
  },
  {
    kind: 'absolute',
    pattern: new RegExp(`${PREP}\\b${DAY}\\s+(?:of\\s+)?${MONTH},?\\s+${YEAR}\\b`, 'giu'),
    resolve: (m, ref) => dayRange(m[1], ref, num(m[4]), monthIndex(m[3]) + 1, num(m[2])),
  },
  {
    kind: 'absolute',
    pattern: new RegExp(`${PREP}\\b${MONTH}\\s+${DAY},?\\s+${YEAR}\\b`, 'giu'),
    resolve: (m, ref) => dayRange(m[1], ref, num(m[4]), monthIndex(m[2]) + 1, num(m[3])),
  },
  {
    kind: 'absolute',
    pattern: new RegExp(`${PREP}\\b${MONTH},?\\s+${YEAR}\\b`, 'giu'),
    resolve: (m, ref) => monthRange(m[1], ref, num(m[3]), monthIndex(m[2]) + 1),
  },
  {
    kind: 'absolute',
    // A day without a year means its latest occurrence the collection could cover.
    pattern: new RegExp(`${PREP}\\b${DAY}\\s+(?:of\\s+)?${MONTH}(?![\\p{L}\\p{N}])`, 'giu'),
    resolve: (m, ref) => dayWithoutYear(m[1], ref, monthIndex(m[3]) + 1, num(m[2])),
  },
  {
    kind: 'absolute',
    pattern: new RegExp(`${PREP}\\b${MONTH}\\s+${DAY}\\b`, 'giu'),
    resolve: (m, ref) => dayWithoutYear(m[1], ref, monthIndex(m[2]) + 1, num(m[3])),
  },
  {
    kind: 'absolute',
    // A bare month needs a preposition: "May" and "March" are also ordinary words.
    pattern: new RegExp(`\\b(in|during|since)\\s+${MONTH}(?![\\p{L}\\p{N}])`, 'giu'),
    resolve: (m, ref) => {
      const month = monthIndex(m[2]) + 1;
      const [y, refMonth] = parts(ref);
      return monthRange(m[1], ref, month <= refMonth ? y : y - 1, month);
    },
  },
  {
    kind: 'absolute',
    // A standalone year, not a piece of a number ("2019.5", "US$2019", "1,2019") or a range "2019-20".
    pattern: new RegExp(`${PREP}(?<![\\p{L}\\p{N}$€£¥_]|\\d[.,])(\\d{4})(?![\\p{L}\\p{N}%_]|[.,]\\d|-\\d)`, 'giu'),
    resolve: (m, ref) => {
      const y = num(m[2]);
      if (y < 1900 || y > 2100) return null;
      return withPrep(m[1], ref, [fromParts(y, 1, 1), fromParts(y, 12, 31)]);
    },
  },
  {
    kind: 'relative',
    // "in the last 3 weeks", "past month", "over the past two years": a rolling window ending at the reference.
    // Without "the" or a count, "last week" is the calendar week, handled by the next rule.
    pattern: new RegExp(`(?:\\b(?:in|over|during|within)\\s+)?(?:\\b(the)\\s+)?\\b(last|past)\\s+(?:${COUNT}\\s+)?${UNIT}\\b`, 'giu'),
    resolve: (m, ref) => {
      const the = m[1] !== undefined;
      const count = m[3] === undefined ? undefined : (NUMBER_WORDS[m[3].toLowerCase()] ?? num(m[3]));
      if (!the && count === undefined && m[2]?.toLowerCase() === 'last') return null;
      const n = count ?? 1;
      if (n < 1) return null;
      const unit = (m[4] ?? '').toLowerCase().replace(/s$/, '');
      if (unit === 'day') return [ref - n + 1, ref];
      if (unit === 'week') return [ref - 7 * n + 1, ref];
      return [addMonths(ref, unit === 'month' ? -n : -12 * n) + 1, ref];
    },
  },
  {
    kind: 'relative',
    pattern: /\b(this|last|previous)\s+(week(?:end)?|month|year)\b/giu,
    resolve: (m, ref) => {
      const last = m[1]?.toLowerCase() !== 'this';
      const [y, mo] = parts(ref);
      switch (m[2]?.toLowerCase()) {
        case 'weekend': {
          // "This weekend" is the one under way or just past; "last weekend" the one before it when asked during one.
          const dow = new Date(ref * MS_PER_DAY).getUTCDay();
          if (dow === 6) return last ? [ref - 7, ref - 6] : [ref, ref];
          const sunday = ref - dow;
          return last && dow === 0 ? [sunday - 8, sunday - 7] : [sunday - 1, sunday];
        }
        case 'week': {
          // ISO weeks start on Monday.
          const monday = ref - ((new Date(ref * MS_PER_DAY).getUTCDay() + 6) % 7);
          return last ? [monday - 7, monday - 1] : [monday, ref];
        }
        case 'month':
          return last ? [fromParts(y, mo - 1, 1), fromParts(y, mo, 0)] : [fromParts(y, mo, 1), ref];
        default:
          return last ? [fromParts(y - 1, 1, 1), fromParts(y - 1, 12, 31)] : [fromParts(y, 1, 1), ref];
      }
    },
  },
  { kind: 'relative', pattern: /\b(?:today|tonight|this morning)\b/giu, resolve: (_m, ref) => [ref, ref] },
  { kind: 'relative', pattern: /\byesterday\b/giu, resolve: (_m, ref) => [ref - 1, ref - 1] },
  {
    kind: 'relative',
    vague: true,
    pattern: /\b(?:recently|lately|latest|newest|these days|the other day|(?:a few|several|a couple of) days ago)\b/giu,
    resolve: (_m, ref) => [ref - 29, ref],
  },
];

/** Finds the time expression in `query`, resolved against `reference` ("now": when it was asked); null when there is none. */
export function parseTimeFilter(query: string, reference: Date | string): TimeFilter | null {
  const ref = toDay(reference);
  let best: Candidate | null = null;
  for (const rule of RULES) {
    for (const m of query.matchAll(rule.pattern)) {
      const range = rule.resolve(m, ref);
      if (!range) continue;
      const c: Candidate = { index: m.index, length: m[0].length, range, kind: rule.kind, vague: rule.vague === true };
      // Leftmost wins; at the same start the longest ("June 27, 2024" over "June 27").
      if (!best || c.index < best.index || (c.index === best.index && c.length > best.length)) best = c;
    }
  }
  if (!best) return null;
  const matched = query.slice(best.index, best.index + best.length);
  return {
    from: formatDay(best.range[0]),
    to: formatDay(best.range[1]),
    matched,
    cleanedQuery: tidy(query.slice(0, best.index) + ' ' + query.slice(best.index + best.length)),
    kind: best.kind,
    vague: best.vague,
  };
}

function tidy(q: string): string {
  return q
    .replace(/\s+/g, ' ')
    .replace(/\s+([?!.,;:])/g, '$1')
    .replace(/^[\s,;:]+|[\s,;:]+$/g, '')
    .replace(/,([?!.])/g, '$1');
}

function num(s: string | undefined): number {
  return s === undefined ? NaN : Number.parseInt(s, 10);
}

function monthIndex(name: string | undefined): number {
  const i = MONTH_NAMES.findIndex((m) => m.startsWith((name ?? '').toLowerCase().slice(0, 3)));
  if (i < 0) throw new Error(`not a month: ${name}`);
  return i;
}

function fromParts(y: number, month: number, d: number): Day {
  return Math.floor(Date.UTC(y, month - 1, d) / MS_PER_DAY);
}

function parts(day: Day): [number, number, number] {
  const dt = new Date(day * MS_PER_DAY);
  return [dt.getUTCFullYear(), dt.getUTCMonth() + 1, dt.getUTCDate()];
}

/** Same day of the month `n` months away, clamped to the month's end (31 March - 1 month = 29 February). */
function addMonths(day: Day, n: number): Day {
  const [y, month, d] = parts(day);
  const lastDay = parts(fromParts(y, month + n + 1, 0))[2];
  return fromParts(y, month + n, Math.min(d, lastDay));
}

function validDay(y: number, month: number, d: number): Day | null {
  if (!Number.isInteger(y) || y < 1900 || y > 2100 || month < 1 || month > 12 || d < 1) return null;
  const day = fromParts(y, month, d);
  const [, m2, d2] = parts(day);
  return m2 === month && d2 === d ? day : null;
}

/** "since X" keeps X's start and runs to the reference; other prepositions do not change the range. */
function withPrep(prep: string | undefined, ref: Day, range: [Day, Day]): [Day, Day] {
  if (prep?.toLowerCase() === 'since' && range[0] <= ref) return [range[0], ref];
  return range;
}

function dayRange(prep: string | undefined, ref: Day, y: number, month: number, d: number): [Day, Day] | null {
  const day = validDay(y, month, d);
  return day === null ? null : withPrep(prep, ref, [day, day]);
}

function monthRange(prep: string | undefined, ref: Day, y: number, month: number): [Day, Day] | null {
  if (validDay(y, month, 1) === null) return null;
  return withPrep(prep, ref, [fromParts(y, month, 1), fromParts(y, month + 1, 0)]);
}

function dayWithoutYear(prep: string | undefined, ref: Day, month: number, d: number): [Day, Day] | null {
  const [y] = parts(ref);
  // Try this year first, then last year; 29 February may need to go back further.
  for (let year = y; year >= y - 8; year--) {
    const day = validDay(year, month, d);
    if (day !== null && day <= ref) return withPrep(prep, ref, [day, day]);
    if (day === null && !(month === 2 && d === 29)) return null;
  }
  return null;
}

function toDay(reference: Date | string): Day {
  if (typeof reference === 'string') {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(reference.trim());
    if (m) {
      const day = validDay(num(m[1]), num(m[2]), num(m[3]));
      if (day !== null) return day;
    }
  }
  const dt = typeof reference === 'string' ? new Date(reference) : reference;
  const t = dt.getTime();
  if (Number.isNaN(t)) throw new RangeError(`invalid reference date: ${String(reference)}`);
  return Math.floor(t / MS_PER_DAY);
}

function formatDay(day: Day): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}
