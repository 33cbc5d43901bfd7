/**
 * Generations make rebuilds atomic: each (re)index writes a fresh `gen-N` folder and then
 * switches the one-line `CURRENT` pointer with a rename, which readers never see half-done.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isProcessAlive } from '../util/process.js';

const CURRENT = 'CURRENT';
const LOCK = 'index.lock';
const GEN_RE = /^gen-(\d+)$/;

/** The folder name of generation `n`. */
export function genName(n: number): string {
  return `gen-${String(n).padStart(6, '0')}`;
}

/** The generation `CURRENT` points to, or null when there is none. */
export function currentGeneration(indexDir: string): { n: number; dir: string } | null {
  let name: string;
  try {
    name = fs.readFileSync(path.join(indexDir, CURRENT), 'utf8').trim();
  } catch {
    return null;
  }
  const m = GEN_RE.exec(name);
  if (!m) return null;
  return { n: Number(m[1]), dir: path.join(indexDir, name) };
}

/** Highest generation number present on disk (finished or not), so new ones never collide. */
export function highestGeneration(indexDir: string): number {
  let max = 0;
  for (const entry of safeReaddir(indexDir)) {
    const m = /^gen-(\d+)/.exec(entry);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max;
}

/** fsyncs a file or folder so a rename after it cannot expose unwritten data after a power loss. */
export function fsyncPath(p: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(p, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on folders; the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Points `CURRENT` at generation `n` atomically (write a temp file, then rename over). */
export function switchTo(indexDir: string, n: number): void {
  const tmp = path.join(indexDir, `${CURRENT}.tmp-${process.pid}`);
  fs.writeFileSync(tmp, genName(n) + '\n');
  fsyncPath(tmp);
  fs.renameSync(tmp, path.join(indexDir, CURRENT));
  fsyncPath(indexDir);
}

/**
 * Removes unfinished generations (left by a killed run) and old ones, keeping the current
 * one and its predecessor (a reader in another process may still be opening it).
 */
export function cleanup(indexDir: string): void {
  const cur = currentGeneration(indexDir);
  const finished = safeReaddir(indexDir)
    .map((e) => GEN_RE.exec(e))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  const keep = new Set<number>();
  if (cur) {
    keep.add(cur.n);
    const prev = finished.find((n) => n < cur.n);
    if (prev !== undefined) keep.add(prev);
  }
  for (const entry of safeReaddir(indexDir)) {
    const m = GEN_RE.exec(entry);
    const unfinished = /^gen-\d+\.tmp/.test(entry) || /^CURRENT\.tmp-/.test(entry);
    const stale = m !== null && !keep.has(Number(m[1])) && cur !== null;
    if (unfinished || stale) fs.rmSync(path.join(indexDir, entry), { recursive: true, force: true });
  }
}

/**
 * Takes the cross-process writer lock. A lock left by a dead process is taken over.
 * Returns a release function, or null when another live process holds the lock.
 */
export function acquireLock(indexDir: string): (() => void) | null {
  fs.mkdirSync(indexDir, { recursive: true });
  const file = path.join(indexDir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(file, 'utf8').trim());
      if (pid && pid !== process.pid && isProcessAlive(pid)) return null;
      fs.rmSync(file, { force: true });
    }
  }
  return null;
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
