/**
 * PDF text extraction with pdf.js. Only text is wanted, so no rendering, fonts or canvas.
 */

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { errorMessage } from '../util/errors.js';

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');

/** Why a PDF yielded no text; the message is the user-facing skip reason. */
export class PdfError extends Error {
  override name = 'PdfError';
}

const PDF_TIMEOUT_MS = 30_000;

let pdfjsPromise: Promise<PdfJs> | undefined;

/**
 * Loads pdf.js once. On import it tries to polyfill canvas APIs (only needed for
 * rendering) and prints "Warning: Cannot polyfill ..." when they are missing; those lines
 * are dropped until that attempt has finished, which a worker's readiness waits for.
 */
function loadPdfJs(): Promise<PdfJs> {
  pdfjsPromise ??= (async () => {
    const original = console.log;
    console.log = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].startsWith('Warning: Cannot polyfill')) return;
      original.apply(console, args);
    };
    try {
      const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
      const warmup = new pdfjs.PDFWorker({ verbosity: 0 });
      await warmup.promise;
      warmup.destroy();
      return pdfjs;
    } finally {
      console.log = original;
    }
  })();
  return pdfjsPromise;
}

function assetDir(name: string): string | undefined {
  try {
    const root = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
    return join(root, name) + '/';
  } catch {
    return undefined;
  }
}

interface Line {
  text: string;
  y: number;
  height: number;
}

interface PositionedText {
  str: string;
  transform: number[];
  height: number;
  hasEOL: boolean;
}

function isPositionedText(item: unknown): item is PositionedText {
  return typeof item === 'object' && item !== null && typeof (item as { str?: unknown }).str === 'string';
}

/** Groups text items into lines; an empty line marks an explicit break. */
function toLines(items: readonly unknown[]): Line[] {
  const lines: Line[] = [];
  let text = '';
  let y = NaN;
  let height = 0;
  const push = () => {
    lines.push({ text: text.replace(/\s+/g, ' ').trim(), y, height });
    text = '';
    y = NaN;
  };
  for (const item of items) {
    if (!isPositionedText(item)) continue;
    const itemY = item.transform[5] ?? 0;
    const itemHeight = item.height || Math.abs(item.transform[3] ?? 0);
    // A jump in baseline without an end-of-line flag still starts a new line.
    if (text !== '' && !Number.isNaN(y) && Math.abs(itemY - y) > Math.max(itemHeight, height) * 0.5) push();
    if (Number.isNaN(y) && item.str.trim() !== '') {
      y = itemY;
      height = itemHeight;
    }
    text += item.str;
    if (item.hasEOL) push();
  }
  if (text.trim() !== '') push();
  return lines;
}

/**
 * Joins a page's lines into paragraphs. A paragraph ends at an empty line or where the gap
 * to the next line is clearly wider than the page's usual line spacing.
 */
function linesToParagraphs(lines: Line[]): string {
  const gaps: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const a = lines[i - 1]!;
    const b = lines[i]!;
    if (a.text && b.text && a.y - b.y > 0) gaps.push(a.y - b.y);
  }
  gaps.sort((x, y) => x - y);
  // The lower quartile, not the median: on a short page paragraph gaps can be half of all gaps.
  const usual = gaps.length ? gaps[Math.floor((gaps.length - 1) / 4)]! : 0;
  const paragraphs: string[] = [];
  let current = '';
  let prev: Line | undefined;
  for (const line of lines) {
    if (line.text === '') {
      if (current) paragraphs.push(current);
      current = '';
      prev = undefined;
      continue;
    }
    const gap = prev ? prev.y - line.y : 0;
    // Too few lines to know the page's spacing: compare with the font size instead.
    const wide = prev !== undefined && (gap < 0 || (gaps.length >= 4 ? gap > usual * 1.4 : gap > line.height * 1.6));
    if (wide && current) {
      paragraphs.push(current);
      current = '';
    }
    // Lines in a PDF are wrapped by layout, not by the author: rejoin them.
    current = current === '' ? line.text : current.endsWith('-') ? current + line.text : `${current} ${line.text}`;
    prev = line;
  }
  if (current) paragraphs.push(current);
  return paragraphs.join('\n\n');
}

function shortReason(err: unknown): string {
  const name = err instanceof Error ? err.name : '';
  if (name === 'PasswordException') return 'password-protected';
  const message = errorMessage(err).split('\n', 1)[0]!.replace(/\.$/, '');
  return message.length > 80 ? message.slice(0, 77) + '...' : message || 'unknown error';
}

/** Text of a PDF, pages and paragraphs separated by blank lines, plus its metadata title. Throws PdfError. */
export async function extractPdf(bytes: Uint8Array): Promise<{ title: string | null; text: string }> {
  const pdfjs = await loadPdfJs();
  const task = pdfjs.getDocument({
    // A plain copy: pdf.js rejects Node Buffers and may take ownership of what it is given.
    data: new Uint8Array(bytes),
    verbosity: 0,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
    standardFontDataUrl: assetDir('standard_fonts'),
    cMapUrl: assetDir('cmaps'),
    cMapPacked: true,
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PdfError('could not read PDF: timed out')), PDF_TIMEOUT_MS);
  });
  try {
    const read = (async () => {
      let doc: Awaited<typeof task.promise>;
      try {
        doc = await task.promise;
      } catch (err) {
        throw new PdfError(`could not read PDF: ${shortReason(err)}`);
      }
      try {
        const metadata = await doc.getMetadata().catch(() => null);
        const info = metadata?.info as Record<string, unknown> | undefined;
        const title = typeof info?.Title === 'string' ? info.Title : null;
        const pages: string[] = [];
        for (let n = 1; n <= doc.numPages; n++) {
          const page = await doc.getPage(n);
          const content = await page.getTextContent();
          pages.push(linesToParagraphs(toLines(content.items)));
          page.cleanup();
        }
        return { title, text: pages.filter((p) => p !== '').join('\n\n') };
      } catch (err) {
        throw err instanceof PdfError ? err : new PdfError(`could not read PDF: ${shortReason(err)}`);
      }
    })();
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
    await task.destroy().catch(() => undefined);
  }
}

/** A metadata title worth showing: not empty and not an authoring tool's file name. */
export function usablePdfTitle(title: string | null): string | null {
  const t = title?.replace(/\s+/g, ' ').trim() ?? '';
  if (!t || /^(untitled|document\d*|microsoft word\b.*)$/i.test(t) || /\.(docx?|pdf|odt|rtf|txt|indd|pages)$/i.test(t)) return null;
  return t;
}
