/**
 * The in-memory BM25 of one open generation (`memory-bm25.ts`): read in slices after the first
 * lexical search, while FTS5 answers; then both lexical searches are answered from memory, with FTS5's exact
 * scores and order. Queries it cannot answer exactly (a date range, a term FTS5 reads as a phrase
 * of several tokens) and generations over the token budget keep going to FTS5.
 */
import Database from 'better-sqlite3';
import { errorMessage } from '../util/errors.js';
import { fts5Tokens, MemoryBm25, readLexicalDelta, readLexicalMemory, tokenizerSpec, type LexicalMemoryData } from './memory-bm25.js';
import type { ArticleFieldWeights, ArticleHit, Hit } from './search-index.js';

/**
 * Largest generation (tokens in both lexical indexes together) searched from memory: about 9 bytes
 * per token are held (about 4 MB for the 313 Wikinews articles, 1,611 chunks; measured sizes in
 * docs/performance.md), so this bounds the cost at roughly 180 MB; larger generations (a
 * PostgreSQL replica's copy of a million chunks) stay on FTS5.
 */
export const LEXICAL_MEMORY_MAX_TOKENS = 20_000_000;

/** Query terms tokenised so far are kept up to this many (then forgotten all at once). */
const TOKEN_CACHE = 50_000;

/**
 * Share of one core a background load may use: after each slice it waits as long as the slice
 * took, so a serving process keeps at least half a core for queries, the graph and switches.
 */
export const LEXICAL_MEMORY_DUTY = 0.5;

/** How the memory index of a generation was built. */
export type LexicalMemorySource = 'full' | 'delta';

interface Loaded {
  data: LexicalMemoryData;
  source: LexicalMemorySource;
  chunks: MemoryBm25;
  articles: MemoryBm25;
  articleOf: Map<number, { id: string; date: string | null }>;
}

export class LexicalMemory {
  private loaded: Loaded | null = null;
  private loading: Promise<boolean> | null = null;
  private off: string | null = null;
  private tokenize: ((terms: readonly string[]) => string[][]) | null = null;
  private readonly tokens = new Map<string, string[]>();
  private base: LexicalMemory | null = null;
  /** A successor waits for this load: closing does not stop it. */
  private handedOver = false;

  /**
   * `base`: the memory of a generation this one was patched from (a replica following an `/add`).
   * When it is loaded, or loading, this one is worked out from it and the diff (a fraction of a
   * full load), starting now, instead of read in full after the first search.
   */
  constructor(
    private readonly db: Database.Database,
    private readonly dbPath: string,
    maxTokens: number = LEXICAL_MEMORY_MAX_TOKENS,
    base: LexicalMemory | null = null,
  ) {
    try {
      const tokens = fts5Tokens(db, 'chunks_fts') + fts5Tokens(db, 'articles_fts');
      if (maxTokens <= 0 || tokens > maxTokens) this.off = `${tokens} tokens, over the budget of ${maxTokens}`;
    } catch (err) {
      this.off = errorMessage(err);
    }
    if (base && this.off === null && (base.loaded || (base.loading && base.off === null))) {
      this.base = base;
      void this.whenReady();
    }
  }

  /**
   * What the memory holds, for a successor's diff: now when loaded, after the load when one is
   * running (which then goes on even if this generation is closed), else null.
   */
  private async handOver(): Promise<LexicalMemoryData | null> {
    if (this.loaded) return this.loaded.data;
    if (!this.loading || this.off !== null) return null;
    this.handedOver = true;
    return (await this.loading) ? this.data : null;
  }

  /** What the loaded memory holds (null before). */
  private get data(): LexicalMemoryData | null {
    return this.loaded?.data ?? null;
  }

  /** How the loaded memory was built (null before). */
  get source(): LexicalMemorySource | null {
    return this.loaded?.source ?? null;
  }

  /** Why searches go to FTS5 for good (null while the memory index is loading or in use). */
  get disabled(): string | null {
    return this.off;
  }

  /** Bytes of the loaded postings (0 before). */
  get bytes(): number {
    return this.loaded ? this.loaded.chunks.bytes + this.loaded.articles.bytes : 0;
  }

  /** Starts loading (once); true when the searches are answered from memory. */
  whenReady(): Promise<boolean> {
    if (this.loaded) return Promise.resolve(true);
    if (this.off !== null) return Promise.resolve(false);
    this.loading ??= this.load().then(
      (loaded) => {
        this.loaded = loaded;
        return true;
      },
      (err: unknown) => {
        this.off = errorMessage(err);
        return false;
      },
    );
    return this.loading;
  }

  /** Chunk BM25 from memory; null when FTS5 must answer (not loaded yet, or a phrase term). */
  chunks(match: string, limit: number): Hit[] | null {
    const m = this.ready();
    const phrases = m && this.phrasesOf(match);
    if (!m || !phrases) return null;
    return m.chunks.search(phrases, [], limit).map((h) => ({ label: h.rowid, score: h.score }));
  }

  /** Whole-article BM25 from memory; null when FTS5 must answer. */
  articles(match: string, limit: number, weights: ArticleFieldWeights): ArticleHit[] | null {
    const m = this.ready();
    const phrases = m && this.phrasesOf(match);
    if (!m || !phrases) return null;
    return m.articles.search(phrases, [weights.title, weights.text], limit).flatMap((h) => {
      const a = m.articleOf.get(h.rowid);
      return a ? [{ articleId: a.id, date: a.date, score: h.score }] : [];
    });
  }

  /** Stops a load in progress (at its next slice), unless a successor waits for it. */
  close(): void {
    if (!this.handedOver) this.off ??= 'closed';
  }

  private ready(): Loaded | null {
    if (this.loaded) return this.loaded;
    void this.whenReady();
    return null;
  }

  /**
   * The FTS5 tokens of each OR-ed term of `match` (as `ftsQuery` writes it), or null when a term
   * is not exactly one token: FTS5 matches those as phrases, by position, which is not kept here.
   */
  private phrasesOf(match: string): string[] | null {
    const terms = [...match.matchAll(/"((?:[^"]|"")*)"/g)].map((m) => m[1]!.replace(/""/g, '"'));
    if (terms.length === 0 || terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(' OR ') !== match) return null;
    const unknown = terms.filter((t) => !this.tokens.has(t));
    if (unknown.length > 0) {
      let found: string[][];
      try {
        found = this.tokenizer()(unknown);
      } catch (err) {
        this.off = errorMessage(err);
        this.loaded = null;
        return null;
      }
      if (this.tokens.size + unknown.length > TOKEN_CACHE) this.tokens.clear();
      for (const [i, t] of unknown.entries()) this.tokens.set(t, found[i]!);
    }
    const out: string[] = [];
    for (const term of terms) {
      const tokens = this.tokens.get(term)!;
      if (tokens.length !== 1) return null;
      out.push(tokens[0]!);
    }
    return out;
  }

  /**
   * Tokenises query terms with the lexical indexes' own tokenizer, through a scratch FTS5 table
   * in the connection's temporary schema (so stems and case folding are FTS5's, not a copy's):
   * one row per term, all of a query's new terms in one transaction (a statement per term cost
   * several times more).
   */
  private tokenizer(): (terms: readonly string[]) => string[][] {
    if (this.tokenize) return this.tokenize;
    const specs = ['chunks_fts', 'articles_fts'].map((t) => tokenizerSpec(this.db, t));
    if (specs[0] !== specs[1]) throw new Error('The two lexical indexes use different tokenizers.');
    this.db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.lexical_memory_query USING fts5(x, tokenize = ${specs[0]});
      CREATE VIRTUAL TABLE IF NOT EXISTS temp.lexical_memory_query_tokens USING fts5vocab(temp, lexical_memory_query, 'instance');`);
    const insert = this.db.prepare('INSERT INTO temp.lexical_memory_query (rowid, x) VALUES (?, ?)');
    const read = this.db.prepare('SELECT doc, term FROM temp.lexical_memory_query_tokens ORDER BY doc, offset').raw();
    const clear = this.db.prepare('DELETE FROM temp.lexical_memory_query');
    this.tokenize = this.db.transaction((terms: readonly string[]) => {
      for (const [i, t] of terms.entries()) insert.run(i, t);
      const out: string[][] = terms.map(() => []);
      for (const [doc, token] of read.all() as [number, string][]) out[doc]!.push(token);
      clear.run();
      return out;
    });
    return this.tokenize;
  }

  private async load(): Promise<Loaded> {
    const baseData = await this.base?.handOver();
    this.base = null;
    // A diff that does not apply (or is most of the index) falls back to the full read.
    let data = baseData ? await this.readInSlices((db) => readLexicalDelta(db, baseData)).catch(() => null) : null;
    const source: LexicalMemorySource = data ? 'delta' : 'full';
    data ??= await this.readInSlices(readLexicalMemory);
    // SQLite's ln() is the C library's log, as FTS5's bm25 calls it.
    // Prepared at the first query: a load handed over may finish after this connection closed.
    let lnStmt: Database.Statement | null = null;
    const ln = (x: number) => {
      lnStmt ??= this.db.prepare('SELECT ln(?)').pluck();
      return lnStmt.get(x) as number;
    };
    return {
      data,
      source,
      chunks: new MemoryBm25(data.chunks, ln),
      articles: new MemoryBm25(data.articles, ln),
      articleOf: new Map(data.articleRows.map(([rowid, id, date]) => [rowid, { id, date }])),
    };
  }

  /**
   * Reads the postings on a connection of its own, a slice at a time with the event loop free in
   * between (queries wait a few milliseconds at most), pausing after each slice so the load uses
   * at most `LEXICAL_MEMORY_DUTY` of a core (a full load at 100k chunks is seconds of CPU, which
   * would otherwise contend with every query and with a replica's switch to a new generation). A
   * worker thread would keep the serving thread free entirely, but its own V8 heap and module
   * loading cost 20–50 MB of RSS, several times the postings of a Wikinews-sized index.
   */
  private async readInSlices<T>(read: (db: Database.Database) => Generator<void, T>): Promise<T> {
    const db = new Database(this.dbPath, { readonly: true, fileMustExist: true });
    try {
      const reader = read(db);
      for (;;) {
        const t0 = performance.now();
        const step = reader.next();
        if (step.done) return step.value;
        const busy = performance.now() - t0;
        const pause = (busy * (1 - LEXICAL_MEMORY_DUTY)) / LEXICAL_MEMORY_DUTY;
        await new Promise((resolve) => (pause >= 1 ? setTimeout(resolve, pause) : setImmediate(resolve)));
        if (this.off !== null) throw new Error(this.off);
      }
    } finally {
      db.close();
    }
  }
}
