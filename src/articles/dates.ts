/**
 * Publication dates: whatever a source wrote, reduced to ISO `YYYY-MM-DD`.
 */

const MONTHS: Record<string, number> = {
  jan: 1,
  january: 1,
  feb: 2,
  february: 2,
  mar: 3,
  march: 3,
  apr: 4,
  april: 4,
  may: 5,
  jun: 6,
  june: 6,
  jul: 7,
  july: 7,
  aug: 8,
  august: 8,
  sep: 9,
  sept: 9,
  september: 9,
  oct: 10,
  october: 10,
  nov: 11,
  november: 11,
  dec: 12,
  december: 12,
};

const WEEKDAY_PREFIX = /^(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+/i;
// Anything after the date (a time, a zone) is allowed but must be separated from it.
const REST = String.raw`(?:[\sT,].*)?$`;
const ISO = new RegExp(String.raw`^(\d{4})-(\d{1,2})-(\d{1,2})` + REST, 'i');
const SLASHED = new RegExp(String.raw`^(\d{4})[/.](\d{1,2})[/.](\d{1,2})` + REST);
const COMPACT = /^(\d{4})(\d{2})(\d{2})$/;
const MONTH_FIRST = new RegExp(String.raw`^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})` + REST, 'i');
const DAY_FIRST = new RegExp(String.raw`^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4})` + REST, 'i');

function ymd(year: number, month: number, day: number): string | null {
  if (year < 1000 || month < 1 || month > 12 || day < 1) return null;
  // Day 0 of the next month is the last day of this one.
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > lastDay) return null;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/**
 * Normalises a date value to `YYYY-MM-DD`, or null when it is not a recognisable date.
 * The calendar date is taken as written, not shifted to UTC: a story stamped
 * `2024-06-27T23:30-05:00` was published on the 27th where it was published.
 */
export function normalizeDate(value: unknown): string | null {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? null : value.toISOString().slice(0, 10);
  }
  if (typeof value === 'number') return fromEpoch(value);
  if (typeof value !== 'string') return null;
  const s = value.trim().replace(WEEKDAY_PREFIX, '');
  let m = ISO.exec(s) ?? SLASHED.exec(s) ?? COMPACT.exec(s);
  if (m) return ymd(Number(m[1]), Number(m[2]), Number(m[3]));
  m = MONTH_FIRST.exec(s);
  if (m) {
    const month = MONTHS[m[1]!.toLowerCase()];
    return month ? ymd(Number(m[3]), month, Number(m[2])) : null;
  }
  m = DAY_FIRST.exec(s);
  if (m) {
    const month = MONTHS[m[2]!.toLowerCase()];
    return month ? ymd(Number(m[3]), month, Number(m[1])) : null;
  }
  return null;
}

/**
 * A Unix time in a JSON export: seconds (10 digits, 2001–2286) or milliseconds (13 digits).
 * Other numbers ("20240627", a year) are not dates: guessing would misdate the article.
 */
function fromEpoch(n: number): string | null {
  if (!Number.isFinite(n)) return null;
  const ms = n >= 1e9 && n < 1e10 ? n * 1000 : n >= 1e12 && n < 1e13 ? n : null;
  return ms === null ? null : new Date(ms).toISOString().slice(0, 10);
}

/** True when a raw date value is present at all (so failing to parse it deserves a warning). */
export function hasDateValue(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'string') return value.trim() !== '';
  return true;
}

/** How a raw date value is quoted in a warning. */
export function describeDateValue(value: unknown): string {
  const s =
    value instanceof Date ? value.toISOString() : typeof value === 'string' ? value.trim() : (JSON.stringify(value) ?? String(value));
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}
