/**
 * FTS5's BM25, answered from memory. A query's two FTS5 searches (whole articles and chunks) were
 * most of its cost: for every matching row FTS5 looks up the row's size in its docsize table and
 * walks its positions, and it reads each term's whole doclist a second time for the IDF. Here
 * each term's postings (document, occurrences per column) and every document's size are read
 * once per generation from FTS5's own tables (`fts5vocab`, `_docsize`, the totals record), so the
 * tokens, counts and sizes are FTS5's and the score is FTS5's `bm25()` computed the same way, in
 * the same order of floating-point operations: the ranking is FTS5's to the last bit.
 *
 * Only what FTS5's bm25 needs for OR-ed single-token terms is kept; a term FTS5 reads as a phrase
 * of several tokens ("don't", "covid-19") needs positions, and such queries, like date-filtered
 * ones, go to FTS5 (the caller's fallback). The postings take about 6 bytes per (term, document)
 * pair of the chunk index and 8 of the article index (two columns).
 */
import type Database from 'better-sqlite3';

/** One FTS5 table's postings and sizes, in transferable arrays. */
export interface Bm25Data {
  /** Distinct tokens, in the order of `starts`. */
  terms: string[];
  /** Postings of term i are `starts[i]` to `starts[i + 1]` (exclusive) in `docs` and `tfs`. */
  starts: Int32Array;
  /** Rowids, ascending within a term. */
  docs: Int32Array;
  /** Occurrences per column: `tfs[p * columns + c]`. */
  tfs: Uint16Array;
  columns: number;
  /** Tokens of each row (all columns) by rowid; -1 for rowids that are not in the table. */
  docLength: Int32Array;
  /** Rows and tokens in the table, from FTS5's totals record (what its bm25 divides by). */
  rows: number;
  tokens: number;
}

/** BM25 parameters of FTS5's built-in `bm25()` (fts5_aux.c). */
const K1 = 1.2;
const B = 0.75;

/** An FTS5 varint (SQLite's format: big-endian 7-bit groups, a full 8-bit ninth byte) at `at`. */
function readVarint(buf: Uint8Array, at: number): [value: number, next: number] {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    const byte = buf[at + i]!;
    v = v * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) return [v, at + i + 1];
  }
  return [v * 256 + buf[at + 8]!, at + 9];
}

function readVarints(buf: Uint8Array): number[] {
  const out: number[] = [];
  for (let at = 0; at < buf.length; ) {
    const [v, next] = readVarint(buf, at);
    out.push(v);
    at = next;
  }
  return out;
}

/** Tokens an FTS5 table holds in all (`readBm25Data` costs about this many row reads). */
export function fts5Tokens(db: Database.Database, table: string): number {
  const row = db.prepare(`SELECT block FROM "${table}_data" WHERE id = 1`).get() as { block: Buffer } | undefined;
  if (!row) return 0;
  const [, ...perColumn] = readVarints(row.block);
  return perColumn.reduce((s, n) => s + n, 0);
}

/** Rows read between two yields of the readers below (a few milliseconds of work). */
const SLICE_ROWS = 2_000;

/**
 * Reads an FTS5 table's postings, sizes and totals (`columnNames` as declared). Costs a few
 * microseconds per token the table holds, so it yields every `SLICE_ROWS` rows: the caller lets
 * queries run in between (`db` must then be a connection of its own, busy while this iterates).
 */
export function* readBm25Data(db: Database.Database, table: string, columnNames: readonly string[]): Generator<void, Bm25Data> {
  const { rows, tokens } = readTotals(db, table);
  const docLength = yield* readDocLengths(db, table);
  const vocab = `temp."${table}_bm25_instances"`;
  db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS ${vocab} USING fts5vocab(main, "${table}", 'instance')`);
  try {
    const postings = yield* readPostings(db, vocab, table, columnNames, docLength);
    return { ...postings, docLength, rows, tokens };
  } finally {
    db.exec(`DROP TABLE IF EXISTS ${vocab}`);
  }
}

/** Rows and tokens of an FTS5 table, from its totals record (what its bm25 divides by). */
function readTotals(db: Database.Database, table: string): { rows: number; tokens: number } {
  const totals = db.prepare(`SELECT block FROM "${table}_data" WHERE id = 1`).get() as { block: Buffer } | undefined;
  const [rows = 0, ...perColumn] = totals ? readVarints(totals.block) : [];
  return { rows, tokens: perColumn.reduce((s, x) => s + x, 0) };
}

/** Tokens of each row by rowid (-1: no such row), from the table's `_docsize`. */
function* readDocLengths(db: Database.Database, table: string): Generator<void, Int32Array> {
  const { max } = db.prepare(`SELECT coalesce(max(id), 0) AS max FROM "${table}_docsize"`).get() as { max: number };
  const docLength = new Int32Array(max + 1).fill(-1);
  for (const [id, sz] of db.prepare(`SELECT id, sz FROM "${table}_docsize"`).raw().iterate() as Iterable<[number, Buffer]>) {
    docLength[id] = readVarints(sz).reduce((s, n) => s + n, 0);
    if (id % SLICE_ROWS === 0) yield;
  }
  return docLength;
}

type Postings = Pick<Bm25Data, 'terms' | 'starts' | 'docs' | 'tfs' | 'columns'>;

/** The postings of an fts5vocab 'instance' table `vocab`, of the rows `docLength` holds. */
function* readPostings(
  db: Database.Database,
  vocab: string,
  table: string,
  columnNames: readonly string[],
  docLength: Int32Array,
): Generator<void, Postings> {
  const columns = columnNames.length;
  const terms: string[] = [];
  const starts: number[] = [];
  let docs = new Int32Array(1 << 16);
  let tfs = new Uint16Array((1 << 16) * columns);
  let n = 0;
  let lastTerm: string | null = null;
  let lastDoc = -1;
  // One row per occurrence, in the index's order (term, then rowid, then position): counted here
  // rather than with GROUP BY, whose sorter held tens of MB for a 10k-chunk index.
  const rowsOf = db.prepare(`SELECT term, doc, col FROM ${vocab}`).raw().iterate() as Iterable<[string, number, string]>;
  let read = 0;
  for (const [term, doc, col] of rowsOf) {
    if (++read % SLICE_ROWS === 0) yield;
    // Rows deleted from a contentless-delete table can linger in the index until a merge; FTS5's
    // queries skip them, and so does this (their size row is gone).
    if (doc >= docLength.length || docLength[doc]! < 0) continue;
    if (term !== lastTerm) {
      terms.push(term);
      starts.push(n);
      lastTerm = term;
      lastDoc = -1;
    }
    if (doc !== lastDoc) {
      if (doc < lastDoc) throw new Error(`${table}: fts5vocab rows out of rowid order.`);
      if (n === docs.length) {
        docs = grow(docs, docs.length * 2);
        tfs = grow(tfs, docs.length * columns);
      }
      n++;
      lastDoc = doc;
      docs[n - 1] = doc;
    }
    const c = columnNames.indexOf(col);
    if (c < 0) throw new Error(`Unknown column ${col} of ${table}.`);
    const at = (n - 1) * columns + c;
    if (tfs[at] === 0xffff) throw new Error(`A token occurs more than 65535 times in one row of ${table}.`);
    tfs[at]! += 1;
  }
  starts.push(n);
  return { terms, starts: Int32Array.from(starts), docs: docs.slice(0, n), tfs: tfs.slice(0, n * columns), columns };
}

/** The `tokenize = ...` argument an FTS5 table was declared with (FTS5's default when none). */
export function tokenizerSpec(db: Database.Database, table: string): string {
  const sql = db.prepare("SELECT sql FROM sqlite_master WHERE name = ? AND type = 'table'").pluck().get(table) as string;
  return /tokenize\s*=\s*('(?:[^']|'')*'|"(?:[^"]|"")*")/i.exec(sql)?.[1] ?? "'unicode61'";
}

/** Order of FTS5's terms (memcmp of their UTF-8 bytes, i.e. code points), for strings. */
function compareTerms(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // UTF-16 puts surrogates (code points past U+FFFF) below U+E000–U+FFFF; code points do not.
      const fix = (c: number) => (c >= 0xe000 ? c - 0x800 : c >= 0xd800 ? c + 0x2000 : c);
      return fix(x) - fix(y);
    }
  }
  return a.length - b.length;
}

/**
 * Table `table`'s BM25 data, worked out from `base` (the same table's data in an earlier
 * generation that this one was patched from: a rowid in both is the same row unless `changed`
 * names it or its size differs) instead of reading every posting: sizes and totals are this
 * generation's own, rows gone or changed lose their postings, and the rows new here are tokenised
 * by FTS5 itself (a scratch FTS5 table with the same tokenizer holding only them, read through
 * fts5vocab), then merged in. The result equals `readBm25Data`'s. `content` selects a row's
 * columns (in `columnNames`' order) by rowid. Null when most rows are new (a full read is cheaper).
 */
export function* deltaBm25Data(
  db: Database.Database,
  table: string,
  columnNames: readonly string[],
  content: string,
  base: Bm25Data,
  changed: ReadonlySet<number>,
): Generator<void, Bm25Data | null> {
  const columns = columnNames.length;
  if (base.columns !== columns) return null;
  const { rows, tokens } = readTotals(db, table);
  const docLength = yield* readDocLengths(db, table);
  const fresh = new Uint8Array(docLength.length);
  const added: number[] = [];
  for (let id = 0; id < docLength.length; id++) {
    const len = docLength[id]!;
    if (len < 0) continue;
    if (id >= base.docLength.length || base.docLength[id] !== len || changed.has(id)) {
      fresh[id] = 1;
      added.push(id);
    }
  }
  if (added.length > rows / 2) return null;
  const scratch = `${table}_bm25_delta`;
  const cols = columnNames.map((c) => `"${c}"`).join(', ');
  db.exec(`DROP TABLE IF EXISTS temp."${scratch}";
    CREATE VIRTUAL TABLE temp."${scratch}" USING fts5(${cols}, tokenize = ${tokenizerSpec(db, table)});
    CREATE VIRTUAL TABLE temp."${scratch}_instances" USING fts5vocab(temp, "${scratch}", 'instance');`);
  let more: Postings;
  try {
    const read = db.prepare(content).raw();
    const insert = db.prepare(`INSERT INTO temp."${scratch}" (rowid, ${cols}) VALUES (?${', ?'.repeat(columns)})`);
    for (const [i, id] of added.entries()) {
      const row = read.get(id) as unknown[] | undefined;
      if (!row) throw new Error(`${table}: row ${id} has no content.`);
      insert.run(id, ...row);
      if (i % SLICE_ROWS === SLICE_ROWS - 1) yield;
    }
    more = yield* readPostings(db, `temp."${scratch}_instances"`, table, columnNames, docLength);
  } finally {
    db.exec(`DROP TABLE IF EXISTS temp."${scratch}_instances"; DROP TABLE IF EXISTS temp."${scratch}";`);
  }
  // Merge: the base's postings of rows still here and unchanged, and the new rows', term by term
  // in FTS5's order, rowids ascending within a term.
  const docs = new Int32Array(base.docs.length + more.docs.length);
  const tfs = new Uint16Array(docs.length * columns);
  const terms: string[] = [];
  const starts: number[] = [];
  let n = 0;
  let i = 0;
  let j = 0;
  let work = 0;
  const keep = (doc: number) => doc < docLength.length && docLength[doc]! >= 0 && fresh[doc] === 0;
  // Most diffs only add rows: then a term the new rows lack keeps its postings as they were.
  let anyGone = false;
  for (let id = 0; id < base.docLength.length && !anyGone; id++) anyGone = base.docLength[id]! >= 0 && !keep(id);
  while (i < base.terms.length || j < more.terms.length) {
    const order = i >= base.terms.length ? 1 : j >= more.terms.length ? -1 : compareTerms(base.terms[i]!, more.terms[j]!);
    const term = order <= 0 ? base.terms[i]! : more.terms[j]!;
    let p = order <= 0 ? base.starts[i]! : 0;
    const pEnd = order <= 0 ? base.starts[i + 1]! : 0;
    let q = order >= 0 ? more.starts[j]! : 0;
    const qEnd = order >= 0 ? more.starts[j + 1]! : 0;
    if (order <= 0) i++;
    if (order >= 0) j++;
    const from = n;
    if (!anyGone && q === qEnd) {
      docs.set(base.docs.subarray(p, pEnd), n);
      tfs.set(base.tfs.subarray(p * columns, pEnd * columns), n * columns);
      n += pEnd - p;
      p = pEnd;
    }
    while (p < pEnd || q < qEnd) {
      while (p < pEnd && !keep(base.docs[p]!)) p++;
      if (p >= pEnd && q >= qEnd) break;
      const fromBase = q >= qEnd || (p < pEnd && base.docs[p]! < more.docs[q]!);
      const src = fromBase ? base : more;
      const at = fromBase ? p++ : q++;
      docs[n] = src.docs[at]!;
      for (let c = 0; c < columns; c++) tfs[n * columns + c] = src.tfs[at * columns + c]!;
      n++;
    }
    if (n > from) {
      terms.push(term);
      starts.push(from);
    }
    work += n - from + 1;
    if (work >= SLICE_ROWS * 20) {
      work = 0;
      yield;
    }
  }
  starts.push(n);
  return {
    terms,
    starts: Int32Array.from(starts),
    docs: docs.slice(0, n),
    tfs: tfs.slice(0, n * columns),
    columns,
    docLength,
    rows,
    tokens,
  };
}

function grow<T extends Int32Array | Uint16Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

/** A hit of the in-memory search: FTS5 rowid and `-bm25()`. */
export interface Bm25Hit {
  rowid: number;
  score: number;
}

/** BM25 over one table's postings, as FTS5's `bm25()` computes it. */
export class MemoryBm25 {
  private readonly index = new Map<string, number>();
  /** Each term's IDF once worked out (NaN before). */
  private readonly idf: Float64Array;
  private readonly scores: Float64Array;
  private readonly seen: Uint8Array;
  private readonly avgdl: number;

  /**
   * `ln` must be the C library's `log`, as FTS5 calls it (SQLite's `ln()`): V8's `Math.log` is
   * one unit in the last place off for some arguments, and the scores would no longer be FTS5's.
   */
  constructor(
    private readonly data: Bm25Data,
    private readonly ln: (x: number) => number,
  ) {
    for (const [i, t] of data.terms.entries()) {
      // Each term's rows come together in fts5vocab's order; a term seen twice means they did not.
      if (this.index.has(t)) throw new Error(`The postings of "${t}" are not contiguous.`);
      this.index.set(t, i);
    }
    this.idf = new Float64Array(data.terms.length).fill(Number.NaN);
    this.scores = new Float64Array(data.docLength.length);
    this.seen = new Uint8Array(data.docLength.length);
    this.avgdl = data.tokens / data.rows;
  }

  /** Bytes held (the arrays; the term map adds roughly 100 bytes per distinct token). */
  get bytes(): number {
    const d = this.data;
    return (
      d.starts.byteLength +
      d.docs.byteLength +
      d.tfs.byteLength +
      d.docLength.byteLength +
      this.idf.byteLength +
      this.scores.byteLength +
      this.seen.byteLength
    );
  }

  /** True when the table holds this token. */
  has(token: string): boolean {
    return this.index.has(token);
  }

  /** fts5Bm25GetData: IDF from the rows holding the phrase, floored just above 0. */
  private idfOf(t: number): number {
    let idf = this.idf[t]!;
    if (Number.isNaN(idf)) {
      const N = this.data.rows;
      const nHit = this.data.starts[t + 1]! - this.data.starts[t]!;
      idf = this.ln((N - nHit + 0.5) / (nHit + 0.5));
      if (idf <= 0.0) idf = 1e-6;
      this.idf[t] = idf;
    }
    return idf;
  }

  /**
   * The best `limit` rows for the OR of `phrases` (each one token, in the query's order) with
   * per-column `weights`: FTS5's `ORDER BY bm25(t, ...weights) LIMIT n`, ties by rowid.
   */
  search(phrases: readonly string[], weights: readonly number[], limit: number): Bm25Hit[] {
    const d = this.data;
    const { columns, docs, tfs, docLength } = d;
    const { scores, seen, avgdl } = this;
    const touched: number[] = [];
    for (const phrase of phrases) {
      const t = this.index.get(phrase);
      if (t === undefined) continue;
      const idf = this.idfOf(t);
      const to = d.starts[t + 1]!;
      for (let p = d.starts[t]!; p < to; p++) {
        const doc = docs[p]!;
        // fts5Bm25Function: each occurrence adds its column's weight, in column order.
        let freq = 0;
        for (let c = 0; c < columns; c++) {
          const w = c < weights.length ? weights[c]! : 1.0;
          for (let k = tfs[p * columns + c]!; k > 0; k--) freq += w;
        }
        if (seen[doc] === 0) {
          seen[doc] = 1;
          touched.push(doc);
        }
        scores[doc] = scores[doc]! + idf * ((freq * (K1 + 1.0)) / (freq + K1 * (1 - B + (B * docLength[doc]!) / avgdl)));
      }
    }
    // FTS5 returns bm25() negated (lower is better); the SQL negates it back.
    const best = topRows(touched, scores, limit).map((rowid) => ({ rowid, score: -(-1.0 * scores[rowid]!) }));
    for (const doc of touched) {
      scores[doc] = 0;
      seen[doc] = 0;
    }
    return best;
  }
}

/** The `limit` best rows by score (ties: lower rowid first), best first, with a bounded heap. */
function topRows(rows: readonly number[], scores: Float64Array, limit: number): number[] {
  // Worse-first heap: the root is the row to drop when a better one arrives.
  const worse = (a: number, b: number) => scores[a]! < scores[b]! || (scores[a] === scores[b] && a > b);
  const heap: number[] = [];
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && worse(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && worse(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (const row of rows) {
    if (heap.length < limit) {
      heap.push(row);
      for (let i = heap.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (!worse(heap[i]!, heap[parent]!)) break;
        [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
        i = parent;
      }
    } else if (limit > 0 && worse(heap[0]!, row)) {
      heap[0] = row;
      down(0);
    }
  }
  return heap.sort((a, b) => scores[b]! - scores[a]! || a - b);
}

/** What the in-memory lexical search of one generation holds. */
export interface LexicalMemoryData {
  chunks: Bm25Data;
  articles: Bm25Data;
  /** `[rowid, id, date, hash]` of every article (the article index is keyed by the article's rowid). */
  articleRows: [number, string, string | null, string][];
}

const ARTICLE_ROWS = 'SELECT rowid, id, date, hash FROM articles';

/** Reads both lexical indexes of a generation and its article keys, yielding between slices (`readBm25Data`). */
export function* readLexicalMemory(db: Database.Database): Generator<void, LexicalMemoryData> {
  return {
    chunks: yield* readBm25Data(db, 'chunks_fts', ['embed_text']),
    articles: yield* readBm25Data(db, 'articles_fts', ['title', 'text']),
    articleRows: db.prepare(ARTICLE_ROWS).raw().all() as LexicalMemoryData['articleRows'],
  };
}

/**
 * `readLexicalMemory`'s result for a generation patched from the one `base` was read from
 * (`deltaBm25Data`): chunk rowids are never reused for other text (AUTOINCREMENT, or the
 * database's labels for a replica's copy), and an article whose rowid now holds another id or
 * hash counts as changed. Null when a full read is cheaper.
 */
export function* readLexicalDelta(db: Database.Database, base: LexicalMemoryData): Generator<void, LexicalMemoryData | null> {
  const articleRows = db.prepare(ARTICLE_ROWS).raw().all() as LexicalMemoryData['articleRows'];
  const before = new Map(base.articleRows.map(([rowid, id, , hash]) => [rowid, `${id}\n${hash}`]));
  const changed = new Set(articleRows.filter(([rowid, id, , hash]) => before.get(rowid) !== `${id}\n${hash}`).map(([rowid]) => rowid));
  const chunks = yield* deltaBm25Data(
    db,
    'chunks_fts',
    ['embed_text'],
    'SELECT embed_text FROM chunks_fts WHERE rowid = ?',
    base.chunks,
    new Set(),
  );
  if (!chunks) return null;
  const articles = yield* deltaBm25Data(
    db,
    'articles_fts',
    ['title', 'text'],
    'SELECT title, text FROM articles WHERE rowid = ?',
    base.articles,
    changed,
  );
  return articles && { chunks, articles, articleRows };
}
