/**
 * Loading sources into `Article`s: walks the articles folder, parses each supported file,
 * and reports every file it could not use with a one-line reason instead of failing.
 */

import { type Dirent, statSync } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Article, LoadIssue, LoadResult } from '../types.js';
import { errorMessage, UserError } from '../util/errors.js';
import { emptyOutput, finishDraft, sha256, type Entry, type ParseOutput } from './build.js';
import { articleId, formatOf, isDocumentationFile, toPosixPath } from './files.js';
import { htmlDraft } from './html.js';
import { extractPdf, PdfError, usablePdfTitle } from './pdf.js';
import { parseMarkdown, parsePlainText } from './plain.js';
import { parseJsonFile, parseJsonLinesFile } from './records.js';
import { formatBytes } from '../util/format.js';
import { decodeText, NotTextError } from './text.js';

export { SUPPORTED_EXTENSIONS, articleId, safeArticleFileName } from './files.js';
export { articleFromHtml } from './html.js';
export { articleToMarkdown } from './plain.js';
export { normalizeDate } from './dates.js';
export { normalizeText } from './text.js';

/** Files larger than this (bytes) are skipped unless `maxFileBytes` says otherwise. */
const DEFAULT_MAX_FILE_BYTES = 20_000_000;

/** Options for loading articles. */
export interface LoadOptions {
  /** Largest file that is read at all, in bytes (default 20 MB). */
  maxFileBytes?: number;
}

/** A source that is not a file in the folder (an article added in the chat or by a feed, kept elsewhere). */
export interface ExtraSource {
  path: string;
  bytes: Uint8Array;
}

/** What parsing one file produced. */
export interface ParsedFile {
  articles: Article[];
  skipped: LoadIssue[];
  warnings: LoadIssue[];
}

const READ_CONCURRENCY = 8;

function tooLarge(size: number, limit: number): string {
  return `file too large (${formatBytes(size)} > ${formatBytes(limit)} limit)`;
}

function htmlDeclaredCharset(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.subarray(0, 2048)).toString('latin1');
  return /<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)/i.exec(head)?.[1];
}

async function parseDetailed(relPath: string, bytes: Uint8Array, maxFileBytes: number): Promise<ParseOutput> {
  const path = toPosixPath(relPath);
  const out = emptyOutput();
  const skip = (reason: string) => {
    out.skipped.push({ file: path, reason });
    return out;
  };
  const format = formatOf(path);
  if (!format) return skip('unsupported file type');
  if (bytes.length > maxFileBytes) return skip(tooLarge(bytes.length, maxFileBytes));
  if (bytes.length === 0) return skip('empty file');
  const where = { id: articleId(path), path, label: path };

  if (format === 'pdf') {
    let pdf: { title: string | null; text: string };
    try {
      pdf = await extractPdf(bytes);
    } catch (err) {
      if (err instanceof PdfError) return skip(err.message);
      throw err;
    }
    if (!/[\p{L}\p{N}]/u.test(pdf.text)) return skip('no text in PDF (scanned image?)');
    const draft = parsePlainText(pdf.text);
    const metaTitle = usablePdfTitle(pdf.title);
    if (metaTitle && typeof draft.title === 'string' && draft.title !== metaTitle) {
      // The first line was not the title after all: it stays part of the text.
      draft.text = `${draft.title}\n\n${draft.text}`;
    }
    finishDraft({ ...draft, title: metaTitle ?? draft.title }, where, out);
    return out;
  }

  let content: string;
  try {
    content = decodeText(bytes, format === 'html' ? htmlDeclaredCharset(bytes) : undefined);
  } catch (err) {
    if (err instanceof NotTextError) return skip(err.message);
    throw err;
  }
  if (content.trim() === '') return skip('empty file');
  switch (format) {
    case 'text':
      finishDraft(parsePlainText(content), where, out);
      break;
    case 'markdown': {
      const { draft, warnings } = parseMarkdown(content);
      for (const reason of warnings) out.warnings.push({ file: path, reason });
      finishDraft(draft, where, out);
      break;
    }
    case 'html':
      finishDraft(htmlDraft(content, null), where, out);
      break;
    case 'json':
      parseJsonFile(content, path, out);
      break;
    case 'jsonl':
      parseJsonLinesFile(content, path, out);
      break;
  }
  return out;
}

/** Drops later entries whose text duplicates an earlier one, and makes ids unique. */
function dedupe(entries: Entry[], out: ParseOutput): void {
  const byText = new Map<string, string>();
  const byId = new Map<string, string>();
  for (const entry of entries) {
    const textHash = sha256(entry.article.text);
    const original = byText.get(textHash);
    if (original !== undefined) {
      out.skipped.push({ file: entry.label, reason: `duplicate of ${original}` });
      continue;
    }
    byText.set(textHash, entry.label);
    let { id } = entry.article;
    const holder = byId.get(id);
    if (holder !== undefined) {
      // `a.txt` next to `a.md` would share an id; keep both rather than lose one.
      let k = 2;
      while (byId.has(`${id}-${k}`)) k++;
      const unique = `${id}-${k}`;
      out.warnings.push({ file: entry.label, reason: `id "${id}" is already used by ${holder}; using "${unique}"` });
      id = unique;
    }
    byId.set(id, entry.label);
    out.entries.push({ article: { ...entry.article, id }, label: entry.label });
  }
}

function byFile(a: LoadIssue, b: LoadIssue): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0;
}

/** Guards against a parser bug on one odd file taking down the whole load. */
async function parseSafely(relPath: string, bytes: Uint8Array, maxFileBytes: number): Promise<ParseOutput> {
  try {
    return await parseDetailed(relPath, bytes, maxFileBytes);
  } catch (err) {
    const out = emptyOutput();
    const message = errorMessage(err);
    out.skipped.push({ file: toPosixPath(relPath), reason: `could not parse file: ${message.split('\n', 1)[0]}` });
    return out;
  }
}

/**
 * Parses one file (from the articles folder or uploaded) into articles. Never throws for bad
 * content: problems come back as `skipped` (file unusable) or `warnings` (loaded anyway).
 */
export async function parseArticleFile(relPath: string, bytes: Uint8Array, options: LoadOptions = {}): Promise<ParsedFile> {
  const parsed = await parseSafely(relPath, bytes, options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
  const out = emptyOutput();
  out.skipped.push(...parsed.skipped);
  out.warnings.push(...parsed.warnings);
  dedupe(parsed.entries, out);
  return { articles: out.entries.map((e) => e.article), skipped: out.skipped, warnings: out.warnings };
}

function fsReason(err: unknown, what: 'file' | 'folder'): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const detail =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : code === 'ENOENT'
        ? 'it no longer exists (or is a broken link)'
        : code === 'ELOOP'
          ? 'too many levels of symbolic links'
          : errorMessage(err).split('\n', 1)[0];
  return `could not read ${what}: ${detail}`;
}

interface Candidate {
  rel: string;
  abs: string;
}

/** Lists article files under `root` (sorted), reporting unusable entries as it goes. */
async function walk(root: string, skipped: LoadIssue[]): Promise<Candidate[]> {
  const files: Candidate[] = [];
  const visited = new Set<string>();
  const visit = async (abs: string, rel: string): Promise<void> => {
    // Symlinked folders can form cycles; each real folder is listed once.
    const real = await realpath(abs).catch(() => abs);
    if (visited.has(real)) return;
    visited.add(real);
    let entries: Dirent[];
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch (err) {
      skipped.push({ file: rel || '.', reason: fsReason(err, 'folder') });
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const childAbs = join(abs, entry.name);
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const target = await stat(childAbs);
          isDir = target.isDirectory();
          isFile = target.isFile();
        } catch (err) {
          if (formatOf(entry.name)) skipped.push({ file: toPosixPath(childRel), reason: fsReason(err, 'file') });
          continue;
        }
      }
      if (isDir) {
        await visit(childAbs, childRel);
        continue;
      }
      if (isDocumentationFile(entry.name)) continue;
      if (!formatOf(entry.name)) {
        skipped.push({ file: toPosixPath(childRel), reason: 'unsupported file type' });
      } else if (!isFile) {
        // Reading a FIFO or device would block or never end.
        skipped.push({ file: toPosixPath(childRel), reason: 'not a regular file' });
      } else {
        files.push({ rel: toPosixPath(childRel), abs: childAbs });
      }
    }
  };
  await visit(root, '');
  return files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** Reads and parses one file, checking its size before reading any of it. */
async function loadFile(file: Candidate, maxFileBytes: number): Promise<ParseOutput> {
  const fail = (reason: string) => {
    const out = emptyOutput();
    out.skipped.push({ file: file.rel, reason });
    return out;
  };
  let bytes: Uint8Array;
  try {
    const handle = await open(file.abs, 'r');
    try {
      const { size } = await handle.stat();
      if (size > maxFileBytes) return fail(tooLarge(size, maxFileBytes));
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (err) {
    return fail(fsReason(err, 'file'));
  }
  return parseSafely(file.rel, bytes, maxFileBytes);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Checks that `dir` is a folder; returns its absolute path. Throws the one-line UserError a
 * command shows for a missing folder or a file, so callers check before saying anything else.
 */
export function assertArticlesFolder(dir: string): string {
  const root = resolve(dir);
  const info = statSync(root, { throwIfNoEntry: false });
  if (!info) throw new UserError(`Articles folder not found: ${root}. Create it or set ARTICLES_DIR to the folder with your articles.`);
  if (!info.isDirectory()) throw new UserError(`ARTICLES_DIR must be a folder, but ${root} is a file.`);
  return root;
}

/**
 * Loads every supported file under `dir` (recursively; dotfiles, README.md and SOURCES*
 * ignored). Bad files are reported in `skipped` and never stop the others; the result is
 * deterministic and sorted by id. Rejects with UserError only when `dir` is not a folder.
 */
export async function loadArticles(dir: string, options: LoadOptions & { extra?: readonly ExtraSource[] } = {}): Promise<LoadResult> {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const root = assertArticlesFolder(dir);

  const walkSkipped: LoadIssue[] = [];
  const files = await walk(root, walkSkipped);
  const parsed = await mapLimit(files, READ_CONCURRENCY, (file) => loadFile(file, maxFileBytes));
  // After the folder's files: a stored source repeating a folder article's text is the one skipped.
  for (const source of options.extra ?? [])
    parsed.push(await parseSafely(source.path, source.bytes, Math.max(maxFileBytes, source.bytes.byteLength)));

  const out = emptyOutput();
  out.skipped.push(...walkSkipped);
  const entries: Entry[] = [];
  // Files are in sorted path order here, so "keep the first duplicate" is deterministic.
  for (const p of parsed) {
    entries.push(...p.entries);
    out.skipped.push(...p.skipped);
    out.warnings.push(...p.warnings);
  }
  dedupe(entries, out);
  const articles = out.entries.map((e) => e.article).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { articles, skipped: out.skipped.sort(byFile), warnings: out.warnings.sort(byFile) };
}
