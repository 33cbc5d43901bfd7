/**
 * The manifest says what an index generation was built with and lets us detect damage.
 * A generation is only valid when its manifest exists and every file matches its checksum.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../util/errors.js';

export const FORMAT_VERSION = 2;
export const DB_FILE = 'meta.sqlite';
export const VECTORS_FILE = 'vectors.hnsw';
/** Changes to replay on `vectors.hnsw` after loading it (replica-local copies only; see vectors.ts). */
export const VECTORS_DELTA_FILE = 'vectors.delta';
export const MANIFEST_FILE = 'manifest.json';

export interface Manifest {
  formatVersion: number;
  generation: number;
  builtAt: string;
  /** null for a lexical-only index (no embedding model was available). */
  embedder: { id: string; dimension: number } | null;
  /** Chunker settings, including the token counter id; changes force a full rebuild. */
  chunker: string;
  hnsw: { m: number; efConstruction: number; deleted: number } | null;
  counts: { articles: number; chunks: number };
  /**
   * The articles folder the generation was built from (absolute), so an index built from another
   * folder is noticed instead of served silently. Absent in generations written before it was recorded.
   */
  articlesDir?: string | null;
  /**
   * Articles per language (ISO 639-1, '' for unknown), detected at indexing: the languages the
   * collection holds. Absent in generations written before languages were recorded.
   */
  languages?: Record<string, number>;
  /** Files of the generation with size and sha256, checked when the index is opened. */
  files: Record<string, { bytes: number; sha256: string }>;
}

/** sha256 of a file, streamed so large indexes do not load into memory at once. */
function fileSha256(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n = fs.readSync(fd, buf, 0, buf.length, null); n > 0; n = fs.readSync(fd, buf, 0, buf.length, null)) {
      hash.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** Describes the given files of `dir` for the manifest. */
export function describeFiles(dir: string, names: string[]): Manifest['files'] {
  const files: Manifest['files'] = {};
  for (const name of names) {
    const p = path.join(dir, name);
    files[name] = { bytes: fs.statSync(p).size, sha256: fileSha256(p) };
  }
  return files;
}

/** Reads and checks a generation's manifest; returns the problem as a one-line string when it is not usable. */
export function readManifest(genDir: string, verifyChecksums = true): { manifest: Manifest } | { problem: string } {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(genDir, MANIFEST_FILE), 'utf8')) as Manifest;
  } catch (err) {
    return { problem: `manifest unreadable (${errorMessage(err).split('\n')[0]})` };
  }
  if (manifest.formatVersion !== FORMAT_VERSION) {
    return { problem: `index format ${String(manifest.formatVersion)} is not the supported format ${FORMAT_VERSION}` };
  }
  if (!manifest.files || typeof manifest.files !== 'object' || !manifest.files[DB_FILE]) {
    return { problem: 'manifest lists no database file' };
  }
  for (const [name, want] of Object.entries(manifest.files)) {
    const p = path.join(genDir, name);
    let size: number;
    try {
      size = fs.statSync(p).size;
    } catch {
      return { problem: `${name} is missing` };
    }
    if (size !== want.bytes) return { problem: `${name} has ${size} bytes, expected ${want.bytes} (truncated or modified)` };
    if (verifyChecksums && fileSha256(p) !== want.sha256) return { problem: `${name} does not match its checksum (corrupted)` };
  }
  return { manifest };
}
