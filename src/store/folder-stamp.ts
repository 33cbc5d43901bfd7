/**
 * A no-change `npm run index` without reading the articles: after a run, the size and modification
 * time of every file in the articles folder are recorded next to the generation it left serving
 * (`folder-stamp.json` in the index folder). The next run lists the folder (one `stat` per file),
 * and when every file, the generation's own files and the settings are exactly as recorded, the
 * articles cannot have changed: it reports the recorded outcome without parsing, hashing or loading
 * the embedding model. Any difference (a file touched, added or removed, another generation
 * published, other settings) falls back to the full comparison, which is always right.
 *
 * Like git's index, a file modified within the clock's granularity of the listing could change
 * again without its time changing, so such "racy" files are recorded as unknown and the next run
 * takes the full path once.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { IndexSummary } from '../types.js';
import { currentGeneration } from './generations.js';

const STAMP_FILE = 'folder-stamp.json';
// Bump when what a stamp records changes.
const STAMP_VERSION = 1;
// Files modified this close to the listing are not trusted (coarse filesystem clocks).
const RACY_MS = 2_000;

/** One file: path relative to the folder, size in bytes, modification time in ms (-1: not trusted). */
type FileStamp = [rel: string, size: number, mtimeMs: number];

/** Every file under a folder at one moment. */
export interface FolderListing {
  /** When the listing was taken (ms since the epoch). */
  at: number;
  files: FileStamp[];
}

/** What a no-change run reports again: the recorded run's outcome. */
export type StampedSummary = Omit<IndexSummary, 'seconds'>;

interface Stamp {
  version: number;
  /** Settings and code the outcome depends on (the caller's fingerprint). */
  fingerprint: string;
  articlesDir: string;
  generation: number;
  /** The generation's own files, so a rewritten or replaced index is noticed. */
  generationFiles: FileStamp[];
  files: FileStamp[];
  summary: StampedSummary;
}

/**
 * Size and modification time of every file under `dir`, following symbolic links like the loader
 * (each real folder once). Hidden files are listed too: listing more than the loader reads can
 * only make a run take the full path, never skip a change.
 */
export function listFolder(dir: string, options: { trustRecent?: boolean } = {}): FolderListing {
  const at = Date.now();
  const racyFrom = options.trustRecent ? Number.POSITIVE_INFINITY : at - RACY_MS;
  const files: FileStamp[] = [];
  const visited = new Set<string>();
  const visit = (abs: string, rel: string): void => {
    let real: string;
    try {
      real = fs.realpathSync(abs);
    } catch {
      real = abs;
    }
    if (visited.has(real)) return;
    visited.add(real);
    let names: string[];
    try {
      names = fs.readdirSync(abs);
    } catch {
      files.push([rel || '.', -1, -1]);
      return;
    }
    for (const name of names) {
      const childAbs = path.join(abs, name);
      const childRel = rel ? `${rel}/${name}` : name;
      let st: fs.Stats;
      try {
        st = fs.statSync(childAbs);
      } catch {
        files.push([childRel, -1, -1]);
        continue;
      }
      if (st.isDirectory()) visit(childAbs, childRel);
      else files.push([childRel, st.size, st.mtimeMs >= racyFrom ? -1 : st.mtimeMs]);
    }
  };
  visit(dir, '');
  files.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { at, files };
}

/** Size and modification time of single files (a missing one as unknown). */
export function statFiles(files: readonly string[]): FileStamp[] {
  return files.map((f) => {
    try {
      const st = fs.statSync(f);
      return [f, st.size, st.mtimeMs];
    } catch {
      return [f, -1, -1];
    }
  });
}

/**
 * The recorded outcome when nothing can have changed since it was recorded: same fingerprint,
 * same folder, the same generation serving with its files untouched, and every file of `listing`
 * as recorded. Null otherwise (run the full comparison).
 */
export function unchangedSince(
  indexDir: string,
  expected: { fingerprint: string; articlesDir: string; listing: FolderListing },
): StampedSummary | null {
  const stamp = readStamp(indexDir);
  if (!stamp || stamp.fingerprint !== expected.fingerprint || stamp.articlesDir !== expected.articlesDir) return null;
  const cur = currentGeneration(indexDir);
  if (!cur || cur.n !== stamp.generation) return null;
  if (!sameFiles(generationFiles(cur.dir), stamp.generationFiles)) return null;
  return sameFiles(expected.listing.files, stamp.files) ? stamp.summary : null;
}

/**
 * Records the outcome of a run that started with `listing` and left the current generation
 * serving. A run that cannot be trusted to be repeatable is not recorded, and the old record is
 * removed, so the next run compares everything.
 */
export function recordStamp(
  indexDir: string,
  run: { fingerprint: string; articlesDir: string; listing: FolderListing; summary: IndexSummary; repeatable: boolean },
): void {
  const file = path.join(indexDir, STAMP_FILE);
  const cur = currentGeneration(indexDir);
  if (!cur || !run.repeatable) {
    fs.rmSync(file, { force: true });
    return;
  }
  const { seconds: _seconds, ...summary } = run.summary;
  const stamp: Stamp = {
    version: STAMP_VERSION,
    fingerprint: run.fingerprint,
    articlesDir: run.articlesDir,
    generation: cur.n,
    generationFiles: generationFiles(cur.dir),
    files: run.listing.files,
    summary,
  };
  // Written beside and renamed over, so a reader never sees half a stamp.
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(stamp));
  fs.renameSync(tmp, file);
}

/** Forgets the record (a run that failed or was interrupted leaves nothing to trust). */
export function forgetStamp(indexDir: string): void {
  fs.rmSync(path.join(indexDir, STAMP_FILE), { force: true });
}

/** A published generation's files never change in place, so a recent time is no reason to distrust them. */
function generationFiles(dir: string): FileStamp[] {
  return listFolder(dir, { trustRecent: true }).files;
}

function sameFiles(a: readonly FileStamp[], b: readonly FileStamp[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    // An untrusted time (-1) never matches, not even another -1.
    if (x[0] !== y[0] || x[1] !== y[1] || x[2] !== y[2] || x[2] < 0 || x[1] < 0) return false;
  }
  return true;
}

function readStamp(indexDir: string): Stamp | null {
  try {
    const stamp = JSON.parse(fs.readFileSync(path.join(indexDir, STAMP_FILE), 'utf8')) as Stamp;
    return stamp.version === STAMP_VERSION && Array.isArray(stamp.files) ? stamp : null;
  } catch {
    return null;
  }
}
