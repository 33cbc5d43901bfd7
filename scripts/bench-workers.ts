/**
 * Embedding throughput of `npm run worker` processes (not part of CI): for each worker count, a
 * scratch database on the given server gets N chunk texts queued, W worker processes with the test
 * fixture model drain it, and the time from queueing to an empty queue gives chunks/s. Workers
 * are started and report alive before the clock starts, so model loading is not counted.
 *
 *   npx tsx scripts/bench-workers.ts [--admin-url postgres://postgres@127.0.0.1:5432/test] [--chunks 3000] [--workers 1,2]
 *
 * The fixture model is a tiny random bag-of-words BERT: the numbers are the queue's and the
 * processes' overhead plus a small model's cost, not the default model's (about 20 chunks/s per
 * core, see the Benchmark section).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { migrate } from '../src/db/migrate.js';
import { MIGRATIONS } from '../src/schema.js';
import { createPool } from '../src/db/pool.js';
import { EmbeddingQueue } from '../src/workers/queue.js';
import { ensureFixtureModel, FIXTURE_MODEL_ID, FIXTURE_MODELS_DIR } from '../test/support/fixture-model.js';

const { values } = parseArgs({
  options: {
    'admin-url': { type: 'string', default: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    chunks: { type: 'string', default: '3000' },
    workers: { type: 'string', default: '1,2' },
    batch: { type: 'string', default: '16' },
  },
});
const CHUNKS = Number(values.chunks);
const BATCH = Number(values.batch);

/** Chunk-sized texts (about 60 words) cut from the seed articles, numbered so they all differ. */
function texts(n: number): string[] {
  const words = fs
    .readdirSync('seeds')
    .map((f) => fs.readFileSync(path.join('seeds', f), 'utf8'))
    .join(' ')
    .split(/\s+/)
    .filter(Boolean);
  return Array.from(
    { length: n },
    (_, i) => `chunk ${i}: ${Array.from({ length: 60 }, (_, j) => words[(i * 37 + j) % words.length]).join(' ')}`,
  );
}

async function scratchDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `bench_workers_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

function startWorker(url: string, dir: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker'], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      EMBEDDING_MODEL: FIXTURE_MODEL_ID,
      LOCAL_MODEL_DIR: FIXTURE_MODELS_DIR,
      MODEL_CACHE_DIR: path.join(dir, 'cache'),
      ALLOW_REMOTE_MODELS: 'false',
      EMBEDDING_QUANTIZED: 'false',
      EMBEDDING_BATCH_SIZE: String(BATCH),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function measure(adminUrl: string, workers: number, work: string[]): Promise<number> {
  const db = await scratchDatabase(adminUrl);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-workers-'));
  const pool = createPool({ url: db.url, poolMax: 4, connectTimeoutMs: 5000 });
  const children: ChildProcess[] = [];
  try {
    await migrate(pool, MIGRATIONS);
    // The index store's table when its migration is there; the same columns otherwise.
    await pool.query(`CREATE TABLE IF NOT EXISTS index_embeddings (
      chunk_label integer NOT NULL, embedder_id text NOT NULL, vector real[] NOT NULL, PRIMARY KEY (chunk_label, embedder_id))`);
    for (const r of (await pool.query(`SELECT conname FROM pg_constraint WHERE conrelid = 'index_embeddings'::regclass AND contype = 'f'`))
      .rows) {
      await pool.query(`ALTER TABLE index_embeddings DROP CONSTRAINT ${pg.escapeIdentifier(r.conname)}`);
    }
    for (let i = 0; i < workers; i++) children.push(startWorker(db.url, dir));
    const queue = new EmbeddingQueue(pool);
    // The workers say which embedder id they serve (the model id plus its settings).
    let embedderId = '';
    for (;;) {
      const { rows } = await pool.query<{ e: string; n: number }>(
        'SELECT min(embedder_id) AS e, count(*)::int AS n FROM embedding_workers',
      );
      if (rows[0]!.n >= workers) {
        embedderId = rows[0]!.e;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const started = performance.now();
    await queue.enqueue(
      1,
      embedderId,
      work.map((text, i) => ({ label: i + 1, text })),
    );
    while ((await queue.remaining(1, embedderId)) > 0) await new Promise((r) => setTimeout(r, 20));
    return work.length / ((performance.now() - started) / 1000);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : null)));
    await pool.end();
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await ensureFixtureModel();
const work = texts(CHUNKS);
const rows: { workers: number; chunksPerSecond: number }[] = [];
for (const w of String(values.workers).split(',').map(Number)) {
  const rate = await measure(String(values['admin-url']), w, work);
  rows.push({ workers: w, chunksPerSecond: Math.round(rate) });
  process.stdout.write(`${w} worker${w === 1 ? '' : 's'}: ${CHUNKS} chunks, ${rate.toFixed(0)} chunks/s\n`);
}
process.stdout.write(`${JSON.stringify({ cpus: os.cpus().length, load: os.loadavg()[0], chunks: CHUNKS, batch: BATCH, rows })}\n`);
