/**
 * File names and ids: which files are articles, how their ids are derived, and how an
 * uploaded file's name becomes a safe name inside the articles folder.
 */

import { randomBytes } from 'node:crypto';

/** File extensions (lower case, with the dot) that the loader reads. */
export const SUPPORTED_EXTENSIONS: readonly string[] = Object.freeze([
  '.txt',
  '.md',
  '.markdown',
  '.html',
  '.htm',
  '.pdf',
  '.json',
  '.jsonl',
]);

/** The article formats, one per parser. */
export type ArticleFormat = 'text' | 'markdown' | 'html' | 'pdf' | 'json' | 'jsonl';

const FORMAT_BY_EXTENSION: Record<string, ArticleFormat> = {
  '.txt': 'text',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.html': 'html',
  '.htm': 'html',
  '.pdf': 'pdf',
  '.json': 'json',
  '.jsonl': 'jsonl',
};

/**
 * The lower-cased extension of a file name including the dot, or '' when it has none.
 * Only a short alphanumeric suffix after at least one other character counts: neither
 * `Report v1.2 final` nor `.env` has an extension.
 */
function extensionOf(name: string): string {
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  const m = /.(\.[A-Za-z0-9]{1,10})$/.exec(base);
  return m ? m[1]!.toLowerCase() : '';
}

/** The parser for a file name, or null when the extension is not supported. */
export function formatOf(name: string): ArticleFormat | null {
  return FORMAT_BY_EXTENSION[extensionOf(name)] ?? null;
}

/**
 * True for documentation that lives next to articles (README.md, SOURCES.txt, ...):
 * such files describe a corpus and must not be indexed as if they were news.
 */
export function isDocumentationFile(name: string): boolean {
  return /^readme(\.(md|markdown|txt))?$/i.test(name) || /^SOURCES/.test(name);
}

/** Forward-slash form of a relative path, without a leading `./`. */
export function toPosixPath(relPath: string): string {
  return relPath
    .replace(/\\/g, '/')
    .replace(/^(\.\/)+/, '')
    .normalize('NFC');
}

/**
 * Stable article id: the path relative to the articles folder without its extension,
 * e.g. `wikinews/2019-01-04-foo` for `wikinews/2019-01-04-foo.md`.
 */
export function articleId(relPath: string): string {
  const p = toPosixPath(relPath);
  const ext = extensionOf(p);
  return ext ? p.slice(0, p.length - ext.length) : p;
}

/** Lower-case ASCII slug (`a-z0-9` joined by `-`, at most `max` characters), '' when nothing is left. */
export function slugify(text: string, max = 60): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug.slice(0, max).replace(/-+$/, '');
}

/** A slug naming a record: the last meaningful part of its URL, else its title. */
export function recordSlug(url: string | null, title: string | null): string {
  if (url) {
    try {
      const u = new URL(url);
      const segments = u.pathname.split('/').filter((s) => s !== '');
      let last = segments.at(-1) ?? '';
      try {
        last = decodeURIComponent(last);
      } catch {
        // A malformed escape is still usable as slug material as it is.
      }
      const slug = slugify(last.replace(/\.(s?html?|php|aspx?)$/i, '')) || slugify(u.hostname);
      if (slug) return slug;
    } catch {
      // Not an absolute URL: fall through to the title.
    }
  }
  return title ? slugify(title) : '';
}

/** File systems limit names to 255 bytes; staying well below leaves room for suffixes. */
const MAX_NAME_BYTES = 200;

/**
 * Turns an uploaded or remote file name into a safe base name for the articles folder:
 * no directories, no `..`, no control or reserved characters, not hidden, not a name the
 * loader ignores. The extension is kept lower-cased (callers check it against
 * SUPPORTED_EXTENSIONS); a missing one becomes `.txt`. Falls back to a generated `upload-...` name when nothing usable is left.
 */
export function safeArticleFileName(name: string): string {
  const base = name.normalize('NFC').split(/[/\\]/).pop() ?? '';
  const cleaned = base
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/[<>:"|?*]/g, '_')
    .replace(/\s+/g, ' ')
    .trim();
  let ext = extensionOf(cleaned);
  let stem = ext ? cleaned.slice(0, cleaned.length - ext.length) : cleaned;
  if (!ext) ext = '.txt';
  // Leading dots would hide the file from the loader (and `..` must never survive).
  stem = stem
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '')
    .replace(/\.{2,}/g, '.');
  if (!/[\p{L}\p{N}]/u.test(stem)) stem = `upload-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const chars = [...stem];
  while (Buffer.byteLength(chars.join('') + ext) > MAX_NAME_BYTES) chars.pop();
  stem = chars.join('').trimEnd();
  if (isDocumentationFile(stem + ext)) stem = `article-${stem}`;
  return stem + ext;
}
