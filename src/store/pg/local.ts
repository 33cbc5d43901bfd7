/**
 * A replica-local copy of the published PostgreSQL generation, in the embedded store's format
 * (SQLite with FTS5 + an hnswlib graph, opened by `IndexReader`): searches, passages and article
 * texts are read from local files at embedded speed, with the embedded ranking, and keep working
 * while the database is away. PostgreSQL stays the one source of truth; the local files are
 * derived from its rows.
 *
 * How a replica gets generation g (`LocalIndexCache.open`), cheapest first:
 * 1. `cached`: the folder `gen-<g>` is already in the local folder (written by this process or by
 *    another replica on the same machine, or before a restart).
 * 2. `delta`: a local generation p < g with the same settings is patched with the row diff (the
 *    articles of p no longer visible in g go, those added after p come in), as the embedded
 *    writer patches a copy of the previous generation, when the diff is at most half of g; the
 *    graph file is linked, not copied, with its changes beside it (`vectorDelta`, local-build.ts).
 * 3. `snapshot`: the newest snapshot ≤ g in the database (`index_snapshots`, uploaded by a replica
 *    that built a generation) is downloaded in parts, each checked against its sha256 and every
 *    file against the manifest's, then patched to g as in 2.
 * 4. `rows`: the generation is materialised from the rows (articles, chunks, vectors).
 * A snapshot that fails a check is never served: the replica logs it and falls back to 4.
 *
 * The files are written in a worker thread (local-build.ts) from rows read here asynchronously,
 * the graph is read asynchronously, and the previous generation serves until the new one is
 * open, so the bot answers during a switch.
 *
 * Snapshots: after opening g, a replica uploads g's files as a snapshot when there is none yet,
 * when the newest one is too far behind to patch (a full reindex), or when the chunks added and
 * removed since the newest one exceed `SNAPSHOT_AT` of g's chunks and `SNAPSHOT_MIN` (so a
 * starting replica never applies a large diff), one replica at a time (advisory lock). The two
 * newest complete snapshots are kept (a replica may be downloading the older one), the rest are
 * deleted.
 *
 * The local folder may be shared by several processes on one machine: every folder is written
 * under a name private to its process and renamed into place (a generation folder never changes
 * afterwards), and only old generation folders and the temp folders of dead processes are removed.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Worker } from 'node:worker_threads';
import zlib from 'node:zlib';
import type { Db, Queryable } from '../../db/client.js';
import { ADVISORY_LOCKS } from '../../db/locks.js';
import { errorMessage } from '../../util/errors.js';
import { type Logger, silentLogger } from '../../util/log.js';
import { isProcessAlive } from '../../util/process.js';
import { moduleWorker } from '../../util/worker.js';
import { fsyncPath, genName } from '../generations.js';
import { MANIFEST_FILE, type Manifest, readManifest, VECTORS_DELTA_FILE, VECTORS_FILE } from '../manifest.js';
import { IndexReader, loadGraph } from '../reader.js';
import type { IndexView, OpenFailure, StoredArticle } from '../search-index.js';
import { type ArticleRecord, COMPACT_AT, incompatibility, type StoreSettings } from '../writer.js';
import { type BuildStart, inThreadBuilder, type LocalBuilder } from './local-build.js';
import { visible } from './sql.js';
import type { PgGeneration } from './writer.js';

const deflateAsync = promisify(zlib.deflateRaw);
const inflateAsync = promisify(zlib.inflateRaw);
/**
 * A part as stored: raw deflate at level 1, or, when that saves under a tenth (the graph's float
 * vectors), in stored blocks (level 0), which a download inflates at copying speed.
 */
const pack = async (b: Buffer): Promise<Buffer> => {
  const packed = await deflateAsync(b, { level: 1 });
  return packed.length > 0.9 * b.length ? deflateAsync(b, { level: 0 }) : packed;
};
/**
 * Into one buffer: by default zlib hands the output over in 16 KB pieces, and joining a part's
 * 8 MB of them cost more main-thread time (callbacks, copies, garbage) than the download itself.
 */
const inflate = (b: Buffer) => inflateAsync(b, { chunkSize: PART_BYTES + (64 << 10) });

/** How a replica got the generation it opened. */
export type LocalSource = 'cached' | 'delta' | 'snapshot' | 'rows';

/** What the last `open` did (also logged as `index.pg_local`). */
export interface LocalOpenStatus {
  generation: number;
  source: LocalSource;
  /** The snapshot downloaded (source 'snapshot'), or the local generation patched (source 'delta'). */
  from: number | null;
  /** Chunks added by the diff applied on top of `from`. */
  addedChunks: number;
  /** Whole open; of it, getting the files (download, diff, build) and opening them. */
  seconds: number;
  fetchSeconds: number;
  openSeconds: number;
}

/** Options of the local copy. */
export interface LocalIndexOptions {
  efSearch: number;
  logger?: Logger;
  /** Bytes per stored snapshot part. */
  partBytes?: number;
  /** Snapshot parts downloaded at once (default 4; 1 fetches one part while the previous is written). */
  downloadAhead?: number;
  /** Read snapshot parts as base64 text even where binary COPY is available (a comparison in tools). */
  textParts?: boolean;
  /** Run the file work in this thread instead of a worker (tests of the fallback; tools). */
  inThread?: boolean;
}

/** A diff larger than this share of the target's chunks is not applied: a snapshot or the rows are used. */
const DELTA_AT = 0.5;
/**
 * Changed chunks since the newest snapshot above which a new one is uploaded: this share of the
 * generation's chunks, and at least `SNAPSHOT_MIN` (a starting replica applies a smaller diff in
 * well under a second).
 */
export const SNAPSHOT_AT = 0.1;
export const SNAPSHOT_MIN = 1000;
/** Articles read (with their chunks and vectors) per query when copying rows. */
const PAGE_ARTICLES = 200;
const PART_BYTES = 8 << 20;
/** Snapshot parts downloaded at once (each on its own pooled connection). */
const DOWNLOAD_AHEAD = 4;
/** Generation folders younger than this are never removed (another process may be copying one). */
const KEEP_YOUNG_MS = 60_000;

/** The replica-local copies of PostgreSQL generations in folder `dir`. */
export class LocalIndexCache {
  private builder: AsyncBuilder | null = null;
  private readonly log: Logger;
  /** What the last open did. */
  lastOpen: LocalOpenStatus | null = null;
  /** The graph of a downloaded snapshot, read while the rest of it still arrived; taken by the open of that generation. */
  private readAhead: { generation: number; graph: Promise<Graph> } | null = null;
  /** The reader `open` returned last: its in-memory BM25 seeds the next generation's. */
  private serving: IndexReader | null = null;
  /** The snapshot upload started after the last open (resolves when it is done or skipped). */
  snapshotting: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    readonly dir: string,
    private readonly options: LocalIndexOptions,
  ) {
    this.log = options.logger ?? silentLogger;
  }

  /** Opens generation `g` locally, building or fetching it first when this machine does not have it. */
  async open(g: PgGeneration): Promise<IndexView | OpenFailure> {
    const started = performance.now();
    fs.mkdirSync(this.dir, { recursive: true });
    this.removeDeadTemps();
    const target = path.join(this.dir, genName(g.id));
    let status: Omit<LocalOpenStatus, 'seconds' | 'fetchSeconds' | 'openSeconds'> = {
      generation: g.id,
      source: 'cached',
      from: null,
      addedChunks: 0,
    };
    let fetched = started;
    let reader = await this.openFolder(target);
    if (isOpenFailure(reader)) {
      if (fs.existsSync(target)) {
        this.log.warn('index.pg_local_damaged', { generation: g.id, problem: reader.message, action: 'building it again' });
        fs.rmSync(target, { recursive: true, force: true });
      }
      status = await this.build(g);
      fetched = performance.now();
      reader = await this.openFolder(target, g.id);
      if (isOpenFailure(reader)) return reader;
    }
    const now = performance.now();
    this.lastOpen = {
      ...status,
      seconds: (now - started) / 1000,
      fetchSeconds: (fetched - started) / 1000,
      openSeconds: (now - fetched) / 1000,
    };
    this.log.info('index.pg_local', { ...this.lastOpen });
    this.removeOld(g.id);
    // The worker starts now, so the next generation's diff does not wait for it to load.
    void this.worker()
      .call('abort', [])
      .catch(() => {});
    this.snapshotting = this.maybeSnapshot(g).catch((err) =>
      this.log.warn('index.snapshot_failed', { generation: g.id, problem: errorMessage(err) }),
    );
    return reader;
  }

  /** The newest generation kept in the folder (intact manifest), or null. */
  newestKept(): number | null {
    return newestKeptIn(this.dir);
  }

  /**
   * Opens the newest kept generation without the database (it is away): what a replica serves
   * when it starts or follows during an outage. Null when there is none or it does not open.
   */
  async openKept(): Promise<IndexView | null> {
    const n = this.newestKept();
    if (n === null) return null;
    const reader = await this.openFolder(path.join(this.dir, genName(n)));
    if (isOpenFailure(reader)) return null;
    this.log.warn('index.pg_local_kept', { generation: n, action: 'serving the local copy while the database is away' });
    return reader;
  }

  /** Stops the worker thread (the copies stay on disk for the next start). */
  async close(): Promise<void> {
    await this.snapshotting;
    await this.builder?.close();
    this.builder = null;
  }

  private async openFolder(dir: string, generation?: number): Promise<IndexReader | OpenFailure> {
    if (!fs.existsSync(dir)) return { kind: 'missing', message: `No local copy in ${dir}.` };
    const ahead = this.readAhead;
    this.readAhead = null;
    const graph = ahead && ahead.generation === generation ? ahead.graph : null;
    // Every local copy keys its rows by the database's row ids and chunk labels, which never name
    // other text, so the generation served until now seeds this one's in-memory BM25.
    const reader = await IndexReader.openFolder(dir, { efSearch: this.options.efSearch, graph, lexicalBase: this.serving });
    if (reader instanceof IndexReader) this.serving = reader;
    return reader;
  }

  /** Writes `gen-<g>` by the cheapest way available (see the module comment). */
  private async build(g: PgGeneration): Promise<Omit<LocalOpenStatus, 'seconds' | 'fetchSeconds' | 'openSeconds'>> {
    const settings = settingsOf(g);
    const base = this.newestLocal(g.id, settings);
    if (base) {
      const added = await countAdded(this.db, g.id, base.manifest.generation);
      if (patchable(base.manifest, added, g)) {
        await this.write(g, base.dir, base.manifest.generation);
        return { generation: g.id, source: 'delta', from: base.manifest.generation, addedChunks: added };
      }
    }
    const snap = await newestSnapshot(this.db, g.id, settings);
    if (snap) {
      const added = snap.id === g.id ? 0 : await countAdded(this.db, g.id, snap.id);
      if (patchable(snap.manifest, added, g)) {
        try {
          const dir = await this.download(snap.id, snap.manifest);
          if (snap.id !== g.id) await this.write(g, dir, snap.id);
          return { generation: g.id, source: 'snapshot', from: snap.id, addedChunks: added };
        } catch (err) {
          this.log.warn('index.snapshot_rejected', { snapshot: snap.id, problem: errorMessage(err), action: 'building from the rows' });
        }
      }
    }
    await this.write(g, null, null);
    return { generation: g.id, source: 'rows', from: null, addedChunks: g.manifest.counts.chunks };
  }

  /** The newest intact local generation before `n` that was built with these settings. */
  private newestLocal(n: number, settings: StoreSettings): { dir: string; manifest: Manifest } | null {
    for (const m of localGenerations(this.dir).filter((x) => x < n)) {
      const dir = path.join(this.dir, genName(m));
      const checked = readManifest(dir, false);
      if ('problem' in checked) continue;
      if (incompatibility(checked.manifest, settings) === null) return { dir, manifest: checked.manifest };
    }
    return null;
  }

  /**
   * Writes `gen-<g>` in the worker: a copy of `baseDir` (generation `baseGen`) patched with the
   * row diff, or from every row of g when there is no base.
   */
  private async write(g: PgGeneration, baseDir: string | null, baseGen: number | null): Promise<void> {
    const builder = this.worker();
    const start: BuildStart = {
      indexDir: this.dir,
      baseDir,
      settings: settingsOf(g),
      generation: g.id,
      builtAt: g.manifest.builtAt,
      articlesDir: g.manifest.articlesDir ?? null,
    };
    await builder.call('begin', [start]);
    try {
      if (baseDir !== null && baseGen !== null) {
        const local = await builder.call('articleRows', [baseDir]);
        const live = await visibleArticleRows(this.db, g.id);
        const gone = local.filter(([row]) => !live.has(row)).map(([, id]) => id);
        if (gone.length > 0) await builder.call('removeArticles', [gone]);
      }
      const pages = recordPages(this.db, g, baseGen);
      // One page read ahead while the worker writes the previous one.
      let next = pages.next();
      for (;;) {
        const page = await next;
        if (page.done) break;
        next = pages.next();
        await builder.call('addArticles', [page.value]);
      }
      await builder.call('commit', []);
    } catch (err) {
      await builder.call('abort', []).catch(() => {});
      throw err;
    }
  }

  /**
   * Downloads snapshot `n` into `gen-<n>`, checking every part and file; returns the folder. Up to
   * `DOWNLOAD_AHEAD` parts travel at once, each on its own pooled connection, and each is checked
   * and inflated (libuv's thread pool) as it arrives, while the parts before it are hashed and
   * written in order; a finished file is synced while the next one downloads.
   */
  private async download(n: number, manifest: Manifest): Promise<string> {
    const final = path.join(this.dir, genName(n));
    const tmp = path.join(this.dir, `${genName(n)}.dl-${process.pid}`);
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    const inFlight: Promise<Buffer>[] = [];
    const syncs: Promise<void>[] = [];
    try {
      const { rows } = await this.db.query<{ file: string; part: number; sha256: string }>(
        'SELECT file, part, sha256 FROM index_snapshot_parts WHERE generation_id = $1 ORDER BY file, part',
        [n],
      );
      // The graph first: it is read into memory while the SQLite file still arrives.
      const names = Object.keys(manifest.files).sort((a, b) => graphFirst(a) - graphFirst(b));
      const parts = names.flatMap((name) => {
        const mine = rows.filter((p) => p.file === name);
        mine.forEach((p, i) => {
          if (p.part !== i) throw new Error(`${name}: part ${i} is missing`);
        });
        return mine;
      });
      const fetchPart = async ({ file, part, sha256 }: (typeof parts)[number]): Promise<Buffer> => {
        const stored = await this.readPart(n, file, part);
        if (stored === null) throw new Error(`${file}: part ${part} disappeared`);
        if (createHash('sha256').update(stored).digest('hex') !== sha256)
          throw new Error(`${file}: part ${part} does not match its checksum`);
        return inflate(stored);
      };
      const ahead = this.options.downloadAhead ?? DOWNLOAD_AHEAD;
      const startFetch = (i: number) => {
        const p = parts[i];
        if (!p) return;
        const fetched = fetchPart(p);
        // Awaited in order below; a failure of a later part must not go unhandled meanwhile.
        fetched.catch(() => {});
        inFlight[i] = fetched;
      };
      for (let i = 0; i < ahead; i++) startFetch(i);
      let i = 0;
      for (const name of names) {
        const want = manifest.files[name]!;
        const count = parts.filter((p) => p.file === name).length;
        const whole = createHash('sha256');
        let bytes = 0;
        const out = await fs.promises.open(path.join(tmp, name), 'w');
        // Written back as it arrives, so the sync at the end of the file finds little left to write.
        let flushing: Promise<void> | null = null;
        try {
          for (let k = 0; k < count; k++, i++) {
            const buf = await inFlight[i]!;
            startFetch(i + ahead);
            whole.update(buf);
            bytes += buf.length;
            await out.write(buf);
            flushing ??= out.datasync().finally(() => {
              flushing = null;
            });
          }
          await flushing;
        } catch (err) {
          await Promise.allSettled([flushing]);
          await out.close();
          throw err;
        }
        if (bytes !== want.bytes || whole.digest('hex') !== want.sha256) {
          await out.close();
          throw new Error(`${name} does not match the snapshot's manifest`);
        }
        syncs.push(out.sync().finally(() => out.close()));
        if (name === VECTORS_FILE && manifest.embedder) {
          const graph = loadGraph(path.join(tmp, name), manifest.embedder.dimension);
          graph.catch(() => {});
          this.readAhead = { generation: n, graph };
        }
      }
      await Promise.all(syncs);
      await fs.promises.writeFile(path.join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
      fsyncPath(path.join(tmp, MANIFEST_FILE));
      try {
        fs.renameSync(tmp, final);
      } catch (err) {
        // Another process on this machine put the same generation there first: use that one.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        fs.rmSync(tmp, { recursive: true, force: true });
      }
      fsyncPath(this.dir);
      return final;
    } catch (err) {
      // The parts still travelling are left to finish: their results are dropped.
      this.readAhead = null;
      await Promise.allSettled([...inFlight, ...syncs]);
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  /** One stored part as stored, or null when it is gone. */
  private async readPart(n: number, file: string, part: number): Promise<Buffer | null> {
    if (this.db.readBytea && !this.options.textParts) {
      // Binary COPY: no text encoding on either side, a quarter less to send.
      return this.db.readBytea(
        `SELECT bytes FROM index_snapshot_parts WHERE generation_id = ${Number(n)} AND file = ${escapeLiteral(file)} AND part = ${Number(part)}`,
      );
    }
    // As base64 text: node-postgres decodes that natively, where its hex decoding of a large
    // bytea took over a second per 8 MB and held the event loop for a quarter of it.
    const { rows } = await this.db.query<{ b: string }>(
      `SELECT encode(bytes, 'base64') AS b FROM index_snapshot_parts WHERE generation_id = $1 AND file = $2 AND part = $3`,
      [n, file, part],
    );
    return rows[0] === undefined ? null : Buffer.from(rows[0].b, 'base64');
  }

  /** Uploads `gen-<g>` as a snapshot when the rule in the module comment says so. */
  private async maybeSnapshot(g: PgGeneration): Promise<void> {
    await this.db.withTryLock(ADVISORY_LOCKS.indexSnapshot, async () => {
      const { rows } = await this.db.query<{ id: number; chunks: number; embedder_id: string | null; chunker: string }>(
        `SELECT generation_id AS id, (manifest::json -> 'counts' ->> 'chunks')::int AS chunks, embedder_id, chunker
         FROM index_snapshots WHERE complete ORDER BY generation_id DESC LIMIT 1`,
      );
      const newest = rows[0];
      if (newest && newest.id >= g.id) return;
      const sameSettings = newest && newest.embedder_id === (g.manifest.embedder?.id ?? null) && newest.chunker === g.manifest.chunker;
      if (newest && sameSettings) {
        const added = await countAdded(this.db, g.id, newest.id);
        const removed = Math.max(0, newest.chunks + added - g.manifest.counts.chunks);
        const chunks = g.manifest.counts.chunks;
        // Too large a diff for a starting replica to apply (a full reindex): always a new one.
        const unusable = added > DELTA_AT * chunks;
        if (!unusable && added + removed <= Math.max(SNAPSHOT_AT * chunks, SNAPSHOT_MIN)) return;
      }
      await this.upload(g);
    });
  }

  private async upload(g: PgGeneration): Promise<void> {
    const dir = path.join(this.dir, genName(g.id));
    const checked = readManifest(dir, false);
    if ('problem' in checked) throw new Error(`the local copy of generation ${g.id} is unusable: ${checked.problem}`);
    const manifest = checked.manifest;
    const started = performance.now();
    const total = Object.values(manifest.files).reduce((s, f) => s + f.bytes, 0);
    // Leftovers of an upload that died (we hold the lock, so none is in progress).
    await this.db.query('DELETE FROM index_snapshots WHERE NOT complete OR generation_id = $1', [g.id]);
    await this.db.query('INSERT INTO index_snapshots (generation_id, embedder_id, chunker, manifest, bytes) VALUES ($1, $2, $3, $4, $5)', [
      g.id,
      manifest.embedder?.id ?? null,
      manifest.chunker,
      JSON.stringify(manifest),
      total,
    ]);
    const partBytes = this.options.partBytes ?? PART_BYTES;
    // The local copy records sizes only: the whole-file checksums a download checks are worked out here.
    const files: Manifest['files'] = {};
    for (const [name, { bytes: size }] of Object.entries(manifest.files)) {
      const whole = createHash('sha256');
      let read = 0;
      const file = await fs.promises.open(path.join(dir, name), 'r');
      try {
        const buf = Buffer.allocUnsafe(partBytes);
        for (let part = 0; ; part++) {
          const { bytesRead } = await file.read(buf, 0, partBytes, null);
          if (bytesRead === 0 && part > 0) break;
          whole.update(buf.subarray(0, bytesRead));
          read += bytesRead;
          // Deflated in libuv's thread pool: the SQLite file's texts shrink to about a third.
          const bytes = await pack(buf.subarray(0, bytesRead));
          await this.db.query('INSERT INTO index_snapshot_parts (generation_id, file, part, bytes, sha256) VALUES ($1, $2, $3, $4, $5)', [
            g.id,
            name,
            part,
            bytes,
            createHash('sha256').update(bytes).digest('hex'),
          ]);
          if (bytesRead < partBytes) break;
        }
      } finally {
        await file.close();
      }
      if (read !== size) throw new Error(`${name} changed size while it was uploaded`);
      files[name] = { bytes: size, sha256: whole.digest('hex') };
    }
    await this.db.transaction(async (tx) => {
      await tx.query('UPDATE index_snapshots SET complete = true, manifest = $2 WHERE generation_id = $1', [
        g.id,
        JSON.stringify({ ...manifest, files }),
      ]);
      // The two newest stay: a replica may be downloading the older one right now.
      await tx.query(
        `DELETE FROM index_snapshots WHERE generation_id NOT IN (
           SELECT generation_id FROM index_snapshots WHERE complete ORDER BY generation_id DESC LIMIT 2)`,
      );
    });
    this.log.info('index.snapshot_uploaded', { generation: g.id, bytes: total, seconds: (performance.now() - started) / 1000 });
  }

  /** Removes generation folders other than the newest two and `serving` (old enough that no one is copying them). */
  private removeOld(serving: number): void {
    const keep = new Set([serving, ...localGenerations(this.dir).slice(0, 2)]);
    for (const n of localGenerations(this.dir)) {
      if (keep.has(n)) continue;
      const dir = path.join(this.dir, genName(n));
      try {
        if (Date.now() - fs.statSync(dir).mtimeMs < KEEP_YOUNG_MS) continue;
        // A process still serving it keeps its open file; the name goes.
        fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        // Removed by another process meanwhile.
      }
    }
  }

  /** Removes temp folders left by processes that died while writing them. */
  private removeDeadTemps(): void {
    for (const entry of safeReaddir(this.dir)) {
      const m = /^gen-\d+\.(?:tmp|dl)-(\d+)$/.exec(entry);
      if (!m) continue;
      const pid = Number(m[1]);
      if (pid === process.pid || !isProcessAlive(pid)) fs.rmSync(path.join(this.dir, entry), { recursive: true, force: true });
    }
  }

  private worker(): AsyncBuilder {
    this.builder ??= this.options.inThread ? inThreadAsync() : workerBuilder(this.log);
    return this.builder;
  }
}

/**
 * True when a copy of generation `base` is worth patching into g with `added` new chunks: the
 * diff is at most `DELTA_AT` of g, and the graph's points marked deleted stay under the share at
 * which the embedded writer would compact it (the copies keep no vectors to compact from).
 */
function patchable(base: Manifest, added: number, g: PgGeneration): boolean {
  const chunks = g.manifest.counts.chunks;
  if (added > DELTA_AT * chunks) return false;
  const removed = Math.max(0, base.counts.chunks + added - chunks);
  const deleted = (base.hnsw?.deleted ?? 0) + removed;
  return deleted / Math.max(1, chunks + deleted) <= COMPACT_AT;
}

type Graph = Awaited<ReturnType<typeof loadGraph>>;

/** Sort key of a snapshot's files: the graph (and its changes) before the SQLite file. */
function graphFirst(name: string): number {
  return name === VECTORS_FILE ? 0 : name === VECTORS_DELTA_FILE ? 1 : 2;
}

/** The settings a generation was built with, as the embedded writer takes them. */
function settingsOf(g: PgGeneration): StoreSettings {
  const m = g.manifest;
  return { embedder: m.embedder, chunker: m.chunker, hnsw: { m: m.hnsw?.m ?? 16, efConstruction: m.hnsw?.efConstruction ?? 200 } };
}

/** A string as an SQL literal. */
function escapeLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function isOpenFailure(x: IndexReader | OpenFailure): x is OpenFailure {
  return !(x instanceof IndexReader);
}

/** The newest generation in `dir` whose manifest reads and whose files have their sizes, or null. */
export function newestKeptIn(dir: string): number | null {
  return localGenerations(dir).find((n) => !('problem' in readManifest(path.join(dir, genName(n)), false))) ?? null;
}

/** Generation numbers of the finished folders in `dir`, newest first. */
function localGenerations(dir: string): number[] {
  return safeReaddir(dir)
    .map((e) => /^gen-(\d+)$/.exec(e))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Chunks generation g shows that were added after generation `since`. */
async function countAdded(db: Queryable, g: number, since: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM index_chunks c WHERE c.added_gen > $2 AND ${visible('c', '$1')}`,
    [g, since],
  );
  return rows[0]!.n;
}

/** Row ids of the articles generation g shows. */
async function visibleArticleRows(db: Queryable, g: number): Promise<Set<number>> {
  const { rows } = await db.query<{ row_id: number }>(`SELECT a.row_id FROM index_articles a WHERE ${visible('a', '$1')}`, [g]);
  return new Set(rows.map((r) => r.row_id));
}

/** The newest complete snapshot at or before generation g built with these settings. */
async function newestSnapshot(db: Queryable, g: number, settings: StoreSettings): Promise<{ id: number; manifest: Manifest } | null> {
  const { rows } = await db.query<{ id: number; manifest: string }>(
    `SELECT generation_id AS id, manifest FROM index_snapshots
     WHERE complete AND generation_id <= $1 AND embedder_id IS NOT DISTINCT FROM $2 AND chunker = $3
     ORDER BY generation_id DESC LIMIT 1`,
    [g, settings.embedder?.id ?? null, settings.chunker],
  );
  const row = rows[0];
  if (!row) return null;
  const manifest = JSON.parse(row.manifest) as Manifest;
  return incompatibility(manifest, settings) === null ? { id: row.id, manifest } : null;
}

/**
 * The articles generation g shows (only those added after generation `since` when given), with
 * their chunks and vectors, in pages of whole articles, in row order: the order they were indexed
 * in, so chunk labels and the graph's insertion order are the indexing run's.
 */
async function* recordPages(db: Queryable, g: PgGeneration, since: number | null): AsyncGenerator<ArticleRecord[]> {
  const embedderId = g.manifest.embedder?.id ?? null;
  let after = 0;
  for (;;) {
    const { rows: arts } = await db.query<StoredArticle & { row_id: number; hash: string; text: string; lang: string | null }>(
      `SELECT a.row_id, a.id, a.title, a.date, a.url, a.source, a.path, a.hash, a.text, a.lang FROM index_articles a
       WHERE a.row_id > $2 AND ${visible('a', '$1')} ${since !== null ? 'AND a.added_gen > $4' : ''}
       ORDER BY a.row_id LIMIT $3`,
      since !== null ? [g.id, after, PAGE_ARTICLES, since] : [g.id, after, PAGE_ARTICLES],
    );
    if (arts.length === 0) return;
    after = arts[arts.length - 1]!.row_id;
    const { rows: chunks } = await db.query<{
      label: number;
      article_row: number;
      id: string;
      article_id: string;
      ordinal: number;
      start: number;
      end: number;
      text: string;
      embed_text: string;
      tokens: number;
      v: Buffer | null;
    }>(
      `SELECT c.label, c.article_row, c.id, c.article_id, c.ordinal, c.start_offset AS start, c.end_offset AS "end", c.text,
              c.embed_text, c.model_tokens AS tokens, ${embedderId !== null ? 'array_send(e.vector)' : 'NULL::bytea'} AS v
       FROM index_chunks c
       ${embedderId !== null ? 'LEFT JOIN index_embeddings e ON e.chunk_label = c.label AND e.embedder_id = $3' : ''}
       WHERE c.article_row = ANY($1::int[]) AND ${visible('c', '$2')}
       ORDER BY c.article_row, c.ordinal`,
      embedderId !== null ? [arts.map((a) => a.row_id), g.id, embedderId] : [arts.map((a) => a.row_id), g.id],
    );
    const byArticle = new Map<number, typeof chunks>();
    for (const c of chunks) {
      const list = byArticle.get(c.article_row);
      if (list) list.push(c);
      else byArticle.set(c.article_row, [c]);
    }
    yield arts.map((a) => {
      const cs = byArticle.get(a.row_id) ?? [];
      return {
        article: { id: a.id, title: a.title, date: a.date, url: a.url, source: a.source, path: a.path, hash: a.hash, text: a.text },
        chunks: cs.map((c) => ({
          id: c.id,
          articleId: c.article_id,
          ordinal: c.ordinal,
          start: c.start,
          end: c.end,
          text: c.text,
          embedText: c.embed_text,
          tokens: c.tokens,
        })),
        vectors: embedderId !== null ? cs.map((c) => (c.v ? floatArray(c.v) : new Float32Array(0))) : null,
        lang: a.lang,
        rowid: a.row_id,
        labels: cs.map((c) => c.label),
      };
    });
  }
}

/**
 * A one-dimensional real[] in PostgreSQL's binary array format (`array_send`): a 20-byte header
 * (dimensions, null flag, element type, length, lower bound), then per element a 4-byte length
 * and the big-endian float4.
 */
export function floatArray(buf: Buffer): Float32Array {
  const ndim = buf.readInt32BE(0);
  if (ndim === 0) return new Float32Array(0);
  const n = buf.readInt32BE(12);
  const out = new Float32Array(n);
  for (let i = 0, at = 20; i < n; i++, at += 8) out[i] = buf.readFloatBE(at + 4);
  return out;
}

/** The builder's operations as calls that resolve when done. */
interface AsyncBuilder {
  call<K extends keyof LocalBuilder>(method: K, args: Parameters<LocalBuilder[K]>): Promise<ReturnType<LocalBuilder[K]>>;
  close(): Promise<void>;
}

function inThreadAsync(): AsyncBuilder {
  const b = inThreadBuilder();
  return {
    call: async (method, args) => (b[method] as (...a: unknown[]) => never)(...args),
    close: async () => b.abort(),
  };
}

/**
 * The builder in a worker thread, started on first use. From the TypeScript sources (tsx, tests)
 * the worker registers tsx before importing its entry; from compiled JavaScript it starts directly.
 */
function workerBuilder(log: Logger): AsyncBuilder {
  let worker: Worker | null = null;
  let next = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    worker = null;
  };
  const start = (): Worker => {
    const entry = new URL(import.meta.url.endsWith('.ts') ? './local-worker.ts' : './local-worker.js', import.meta.url);
    const w = moduleWorker(entry);
    // The worker must never be what keeps the process alive.
    w.unref();
    w.on('message', (msg: { id: number; result?: unknown; error?: string }) => {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (pending.size === 0) w.unref();
      if (msg.error !== undefined) p.reject(new Error(msg.error));
      else p.resolve(msg.result);
    });
    w.on('error', (err) => {
      log.warn('index.pg_local_worker_failed', { problem: errorMessage(err) });
      failAll(err);
    });
    w.on('exit', (code) => failAll(new Error(`The local index worker exited (code ${code}).`)));
    return w;
  };
  return {
    call: (method, args) =>
      new Promise((resolve, reject) => {
        worker ??= start();
        // Held while a call is in flight: a command waiting for its index must not exit under it.
        worker.ref();
        const id = next++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        worker.postMessage({ id, method, args });
      }),
    close: async () => {
      const w = worker;
      worker = null;
      if (w) await w.terminate();
    },
  };
}
