/**
 * Times a replica's local copy getting a generation, one step per process, against a database kept
 * between runs, so two versions of the code can be timed alternately on the same data
 * (docs/postgresql.md). Usage:
 *   npx tsx scripts/pg-local-speed.ts setup CHUNKS URL   index the synthetic articles, build a copy, upload its snapshot
 *   npx tsx scripts/pg-local-speed.ts cold URL DIR       empty DIR, then open the published generation (download)
 *   npx tsx scripts/pg-local-speed.ts add URL N          publish a one-article /add (article number N)
 *   npx tsx scripts/pg-local-speed.ts open URL DIR       open the published generation in DIR (a delta when DIR has an older one)
 * Each step prints one JSON line with its seconds, `lastOpen` and the worst event-loop stall.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadArticles } from '../src/articles/index.js';
import { parseConfig } from '../src/config/index.js';
import { poolDb } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { approximateTokenCounter } from '../src/embedding/index.js';
import { indexArticles } from '../src/library/pipeline.js';
import { MIGRATIONS } from '../src/schema.js';
import { createRng, SyntheticSpace, sentencePool, syntheticArticles, syntheticEmbedder } from '../src/bench/synthetic.js';
import { isOpenFailure } from '../src/store/index-store.js';
import { PgIndexStore } from '../src/store/pg/index.js';
import { createLogger } from '../src/util/log.js';

const [step, a1, a2, a3] = process.argv.slice(2);
const url = step === 'setup' ? a2! : a1!;
const work = path.resolve('.cache', 'pg-local-speed');
fs.mkdirSync(work, { recursive: true });
const config = parseConfig({ ARTICLES_DIR: work, INDEX_DIR: path.join(work, 'unused'), STATE_DIR: work, EMBEDDING_PROVIDER: 'none' }, work);
const logger = createLogger('warn');
const seed = 20240501;
const space = new SyntheticSpace({ dimension: 384, clusters: 256, seed });
const settings = { ...config.database, url };
const p = createPool(settings, logger);
await migrate(p, MIGRATIONS, logger);
const db = poolDb(p, settings, logger);
const chunking = { ...config.chunking, counter: approximateTokenCounter };

async function corpus() {
  const articles = (await loadArticles(path.resolve('../shared/corpora/wikinews-en'), { maxFileBytes: 20e6 })).articles;
  return sentencePool(articles);
}

async function index(list: ReturnType<typeof syntheticArticles>, full: boolean) {
  const writer = await PgIndexStore.connect(db, { efSearch: config.hnsw.efSearch, search: 'database' });
  await indexArticles({
    indexDir: path.join(work, 'unused'),
    target: writer.target(),
    loaded: { articles: list, skipped: [], warnings: [] },
    embedder: syntheticEmbedder(space, approximateTokenCounter, seed + 2),
    counter: approximateTokenCounter,
    chunking: config.chunking,
    hnsw: config.hnsw,
    batchSize: 1024,
    full,
    logger,
  });
}

async function open(dir: string) {
  const s = await PgIndexStore.connect(db, { efSearch: config.hnsw.efSearch, localDir: dir });
  let last = performance.now();
  let worst = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 10);
    last = now;
  }, 10);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = await s.open(null);
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const cpuSeconds = (c.user + c.system) / 1e6;
  clearInterval(tick);
  if (isOpenFailure(r)) throw new Error(r.message);
  await s.local!.snapshotting;
  r.close();
  await s.close();
  return { seconds, cpuSeconds, stallMs: Math.round(worst), lastOpen: s.local!.lastOpen };
}

const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
let out: unknown;
if (step === 'setup') {
  const pool = await corpus();
  const target = Number(a1);
  const t = performance.now();
  fs.writeFileSync(path.join(work, 'target'), String(target));
  await index(syntheticArticles(pool, target, chunking, createRng(seed + target)), true);
  const built = (performance.now() - t) / 1000;
  out = { step, built, first: await open(path.join(work, 'first')) };
} else if (step === 'cold') {
  fs.rmSync(a2!, { recursive: true, force: true });
  out = { step, dir: a2, ...(await open(a2!)) };
} else if (step === 'add') {
  const pool = await corpus();
  const n = Number(a2);
  const target = Number(fs.readFileSync(path.join(work, 'target'), 'utf8'));
  // Every article indexed so far plus the new one: an incremental run drops what it is not given.
  const extra = Array.from({ length: n }, (_, i) =>
    syntheticArticles(pool, 1, chunking, createRng(seed + 1001 + i)).map((x) => ({
      ...x,
      id: `extra-${i + 1}-${x.id}`,
      path: `extra/${i + 1}/${x.path}`,
    })),
  ).flat();
  const all = [...syntheticArticles(pool, target, chunking, createRng(seed + target)), ...extra];
  const t = performance.now();
  await index(all, false);
  out = { step, n, seconds: (performance.now() - t) / 1000 };
} else if (step === 'open') {
  out = { step, dir: a2, ...(await open(a2!)) };
}
process.stdout.write(`${JSON.stringify({ ...(out as object), load: load(), a3 })}\n`);
await p.end();
