/**
 * Turning bytes into clean article text, and guessing a title when a source has none.
 */

import { sentenceSpans } from '../util/text.js';
import { normalizeDate } from './dates.js';

/** Titles guessed from the body are cut to about this many characters. */
const GUESSED_TITLE_MAX = 80;
/** Explicit titles (front matter, metadata) are only cut when absurdly long. */
const EXPLICIT_TITLE_MAX = 300;
/** A first line longer than this reads as a paragraph, not a headline. */
const HEADLINE_MAX = 150;

/** Why some bytes could not be read as text; the message is the user-facing reason. */
export class NotTextError extends Error {
  override name = 'NotTextError';
}

/**
 * True for content that is clearly not text: any NUL byte, or more than 10% control
 * characters in the first 64 KB (text files have only tabs, newlines and form feeds).
 */
function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 64 * 1024);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0) return true;
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) || b === 0x7f) control++;
  }
  return n > 0 && control / n > 0.1;
}

/**
 * Decodes text bytes: UTF-16 when a byte-order mark says so, otherwise strict UTF-8
 * (a leading BOM is dropped). Throws NotTextError with the reason to report.
 */
export function decodeText(bytes: Uint8Array, fallbackEncoding?: string): string {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    // UTF-16 is full of NUL bytes, so it has to be recognised before the binary check.
    try {
      return new TextDecoder(bytes[0] === 0xff ? 'utf-16le' : 'utf-16be', { fatal: true }).decode(bytes);
    } catch {
      throw new NotTextError('not valid UTF-16 text');
    }
  }
  if (looksBinary(bytes)) throw new NotTextError('binary content, not text');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    if (fallbackEncoding) {
      try {
        return new TextDecoder(fallbackEncoding, { fatal: true }).decode(bytes);
      } catch {
        // An unknown or wrong label is no better than no label: report the UTF-8 failure.
      }
    }
    throw new NotTextError('not valid UTF-8 text');
  }
}

/**
 * Normalises article text: NFC, `\n` line ends, no control characters, no trailing
 * spaces, at most one blank line between paragraphs, no leading/trailing blank space.
 */
export function normalizeText(text: string): string {
  return (
    text
      .normalize('NFC')
      .replace(/^\uFEFF/, '')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: vertical tab and NEL are line breaks here
      .replace(/\r\n?|[\u2028\u0085\u000b]/g, '\n')
      .replace(/[\f\u2029]/g, '\n\n')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
      .replace(/[\u0000-\u0008\u000e-\u001f\u007f]/g, '')
      .replace(/[^\S\n]+$/gm, '')
      .replace(/\n{3,}/g, '\n\n')
      .trim()
  );
}

/** Collapses whitespace in a one-line string (titles, metadata values). */
export function oneLine(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim();
}

/** Cuts `text` to at most `max` characters at a word boundary, marking the cut with an ellipsis. */
function shortenAtWord(text: string, max: number): string {
  const s = oneLine(text);
  if (s.length <= max) return s;
  // One character is kept for the ellipsis, so the result is at most `max` long.
  const cut = s.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  // Without a space in a sensible place, cutting mid-word beats a one-word title.
  const base = space >= max / 2 ? cut.slice(0, space) : cut;
  return base.replace(/[\s,;:–—-]+$/, '') + '…';
}

/** Cleans an explicitly given title; empty → null. */
export function cleanTitle(title: unknown): string | null {
  if (typeof title !== 'string' && typeof title !== 'number') return null;
  const s = shortenAtWord(String(title), EXPLICIT_TITLE_MAX);
  return s === '' ? null : s;
}

/** The first sentence of `text` (looking at its first paragraph only), on one line. */
function firstSentence(text: string): string {
  const para = text.trimStart().split(/\n\s*\n/, 1)[0] ?? '';
  // Only the start matters, and segmenting a 50 KB single-paragraph dump would be waste.
  const head = para.slice(0, 2000);
  // Same sentence rule as chunking and quotes, so "Dr. Anna Smith said …" is not titled "Dr.".
  for (const { start, end } of sentenceSpans(head)) {
    const s = oneLine(head.slice(start, end));
    if (s !== '') return s;
  }
  return oneLine(head);
}

/** A title guessed from the body: its first sentence, cut at a word boundary to at most 80 characters (with an ellipsis when cut). */
export function titleFromText(text: string): string {
  return shortenAtWord(firstSentence(text), GUESSED_TITLE_MAX);
}

/**
 * When the text opens with a headline (a short line with no final period followed by a
 * blank line and more text), returns it and the text after it; otherwise null.
 */
export function splitHeadline(text: string): { title: string; rest: string } | null {
  const m = /^[^\S\n]*([^\n]+)\n[^\S\n]*\n([\s\S]*)$/.exec(text.replace(/^\s*\n/, ''));
  if (!m) return null;
  const line = m[1]!.trim();
  const rest = m[2]!.trim();
  if (line.length > HEADLINE_MAX || !/\p{L}/u.test(line) || /[.,;:]$/.test(line)) return null;
  if (rest === '') return null;
  return { title: oneLine(line), rest };
}

/**
 * Recognises the seed format's `date YYYY-MM-DD` prefix at the very start of a text and
 * removes it. `raw` is the written date, `date` its normalised form (null if invalid).
 */
export function takeDatePrefix(text: string): { raw: string; date: string | null; rest: string } | null {
  const m = /^\s*date[^\S\n]*:?[^\S\n]+(\d[\d./-]*\d)(?=\s|$)[^\S\n]*/i.exec(text);
  if (!m) return null;
  const raw = m[1]!;
  return { raw, date: normalizeDate(raw), rest: text.slice(m[0].length).replace(/^[^\S\n]*\n/, '') };
}
