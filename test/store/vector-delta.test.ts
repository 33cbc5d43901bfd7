/**
 * A generation whose graph is kept as changes beside its base's graph (`vectorDelta`, what a
 * replica's local copy of a PostgreSQL generation uses): it searches exactly as a generation whose
 * graph was copied and written whole, never writes to the base's file, and past its limit writes
 * the whole graph again.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/store/manifest.js';
import { IndexReader } from '../../src/store/reader.js';
import type { OpenFailure } from '../../src/store/search-index.js';
import { type ArticleRecord, GenerationWriter, type StoreSettings } from '../../src/store/writer.js';
import { tempDir } from '../support/stack.js';

const DIM = 16;
const settings: StoreSettings = { embedder: { id: 'test-emb', dimension: DIM }, chunker: 'c1', hnsw: { m: 8, efConstruction: 50 } };

/** A deterministic pseudo-random unit vector. */
function vec(seed: number): Float32Array {
  const v = new Float32Array(DIM);
  let x = seed * 2654435761;
  for (let i = 0; i < DIM; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    v[i] = x / 2147483648 - 0.5;
  }
  const n = Math.hypot(...v);
  return v.map((y) => y / n);
}

function record(n: number): ArticleRecord {
  const id = `a${n}`;
  const text = `Article ${n} about topic ${n % 7}.`;
  const chunks = [0, 1, 2].map((o) => ({
    id: `${id}#${o}`,
    articleId: id,
    ordinal: o,
    start: 0,
    end: text.length,
    text,
    embedText: text,
    tokens: 5,
  }));
  return {
    article: { id, title: `Title ${n}`, date: '2024-01-01', url: null, source: null, path: `${id}.md`, hash: `h${n}`, text },
    chunks,
    vectors: chunks.map((_, o) => vec(n * 10 + o)),
    rowid: n,
    labels: chunks.map((_, o) => n * 10 + o),
  } as ArticleRecord;
}

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

/** Writes generation `n` in `dir` from `base` (a generation number or null), removing and adding articles. */
function write(dir: string, n: number, base: number | null, remove: string[], add: number[], vectorDelta?: number): string {
  const baseDir = base === null ? null : path.join(dir, `gen-${String(base).padStart(6, '0')}`);
  const w = GenerationWriter.begin({
    indexDir: dir,
    base: baseDir ? { dir: baseDir, manifest: (readManifest(baseDir, false) as { manifest: never }).manifest } : null,
    settings,
    generation: n,
    storeVectors: false,
    ...(vectorDelta !== undefined ? { vectorDelta } : {}),
  });
  if (remove.length > 0) w.removeArticles(remove);
  w.addArticles(add.map(record));
  w.commit();
  return path.join(dir, `gen-${String(n).padStart(6, '0')}`);
}

const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

async function neighbours(dir: string): Promise<number[][]> {
  const r = await IndexReader.openFolder(dir);
  if (!(r instanceof IndexReader)) throw new Error((r as OpenFailure).message);
  try {
    return Array.from({ length: 20 }, (_, q) => r.denseSearch(vec(1000 + q), 8).map((h) => h.label));
  } finally {
    r.close();
  }
}

describe('a graph kept as changes beside its base', () => {
  it('searches as the graph copied and written whole, leaves the base file alone, and writes whole past its limit', async () => {
    const dir = tempDir();
    roots.push(dir);
    const base = write(
      dir,
      1,
      null,
      [],
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
    const baseSha = sha(path.join(base, 'vectors.hnsw'));
    // The same change three ways: copied and written whole; as changes; as changes, twice in a row.
    const whole = write(dir, 2, 1, ['a3', 'a10'], [61, 62]);
    const delta = write(dir, 3, 1, ['a3', 'a10'], [61, 62], 100);
    expect(fs.statSync(path.join(delta, 'vectors.hnsw')).ino).toBe(fs.statSync(path.join(base, 'vectors.hnsw')).ino);
    expect(readManifest(delta, true)).toHaveProperty('manifest.files.vectors\\.delta');
    expect(await neighbours(delta)).toEqual(await neighbours(whole));
    expect((await neighbours(delta)).flat()).toContain(610);
    expect((await neighbours(delta)).flat()).not.toContain(30);

    const wholeNext = write(dir, 4, 2, ['a20'], [63]);
    const deltaNext = write(dir, 5, 3, ['a20'], [63], 100);
    expect(fs.statSync(path.join(deltaNext, 'vectors.hnsw')).ino).toBe(fs.statSync(path.join(base, 'vectors.hnsw')).ino);
    expect(await neighbours(deltaNext)).toEqual(await neighbours(wholeNext));
    // Past the limit (3 + 3 + 3 added points > 8): a whole graph of its own, with no changes file.
    const folded = write(dir, 6, 5, [], [64], 8);
    expect(fs.statSync(path.join(folded, 'vectors.hnsw')).ino).not.toBe(fs.statSync(path.join(base, 'vectors.hnsw')).ino);
    expect(fs.existsSync(path.join(folded, 'vectors.delta'))).toBe(false);
    const wholeFolded = write(dir, 7, 4, [], [64]);
    expect(await neighbours(folded)).toEqual(await neighbours(wholeFolded));
    // The base generation's graph never changed, and still opens as it was.
    expect(sha(path.join(base, 'vectors.hnsw'))).toBe(baseSha);
    expect(readManifest(base, true)).toHaveProperty('manifest');
  });
});
