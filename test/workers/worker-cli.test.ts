/**
 * `newsdesk worker` as separate processes: two workers with the fixture model drain a queue in
 * PostgreSQL; one is SIGKILLed while it holds a claimed batch, and the other still embeds every
 * chunk, the killed one's batch after its lease, with the same vectors the model gives in-process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder } from '../../src/embedding/index.js';
import { EmbeddingQueue } from '../../src/workers/queue.js';
import { FIXTURE_MODEL_ID } from '../support/fixture-model.js';
import type { TestDatabase } from '../support/postgres.js';
import { tempDir, testConfig } from '../support/stack.js';
import { queueDatabase, storedLabels, tasks } from './support.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const MAIN = path.resolve('src/cli/main.ts');

let db: TestDatabase;
let pool: pg.Pool;
let root: string;
const children: ChildProcess[] = [];
beforeAll(async () => {
  ({ db, pool } = await queueDatabase());
  root = tempDir('worker-cli-');
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await pool?.end();
  await db?.drop();
  fs.rmSync(root, { recursive: true, force: true });
});

/** Starts `newsdesk worker` with the fixture model against the test database. */
function startWorker(name: string): { child: ChildProcess; output: () => string } {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(OPENAI_|TELEGRAM_|EMBEDDING_|DATABASE_|npm_config_)/.test(k)),
  );
  const cfg = testConfig(path.join(root, name));
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'worker'], {
    env: {
      ...clean,
      DATABASE_URL: db.url,
      WORKER_LEASE_SECONDS: '2',
      EMBEDDING_MODEL: FIXTURE_MODEL_ID,
      LOCAL_MODEL_DIR: cfg.embedding.localModelDir ?? '',
      MODEL_CACHE_DIR: path.join(root, name, 'cache'),
      ALLOW_REMOTE_MODELS: 'false',
      EMBEDDING_QUANTIZED: 'false',
      EMBEDDING_BATCH_SIZE: '8',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `what` is read when the wait times out, so a worker's output in it is the output up to then. */
async function until<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what()}`);
    await sleep(25);
  }
}

/** Labels of the chunks `worker` has claimed and not yet finished, in order, comma-separated ('' for none). */
async function heldBy(worker: string): Promise<string> {
  const { rows } = await pool.query<{ l: number }>('SELECT chunk_label AS l FROM embedding_tasks WHERE worker = $1 ORDER BY 1', [worker]);
  return rows.map((r) => r.l).join(',');
}

/**
 * Stops `child` (SIGSTOP) at a moment it holds a claimed batch; returns the batch's labels.
 * Seeing a claim and then killing is not enough: in between (one query, or a pause of the test
 * process on a busy machine) the worker can finish that batch and be between two claims, holding
 * nothing. A stopped worker sends nothing more, but a statement it sent just before may still
 * run, so the batch counts once two reads 100 ms apart agree; otherwise the worker goes on and
 * the next claim is tried.
 */
async function stopHoldingBatch(child: ChildProcess, output: () => string): Promise<number[]> {
  return until(
    async () => {
      const { rows } = await pool.query<{ worker: string }>(
        `SELECT worker FROM embedding_tasks WHERE worker LIKE $1 AND lease_until > now() LIMIT 1`,
        [`%:${child.pid}:%`],
      );
      const victim = rows[0]?.worker;
      if (!victim) return undefined;
      child.kill('SIGSTOP');
      const held = await heldBy(victim);
      await sleep(100);
      if (held !== '' && (await heldBy(victim)) === held) return held.split(',').map(Number);
      child.kill('SIGCONT');
      return undefined;
    },
    60_000,
    () => `worker a to claim a batch\n${output()}`,
  );
}

describe('npm run worker', () => {
  it('two workers embed a queue; one SIGKILLed holding a batch loses nothing', { timeout: 120_000 }, async () => {
    const cfg = testConfig(path.join(root, 'here'));
    const { embedder } = await createEmbedder(cfg.embedding, cfg.llm);
    const e = embedder!.id;
    const work = tasks(400);
    await new EmbeddingQueue(pool).enqueue(5, e, work);
    const a = startWorker('a');
    const b = startWorker('b');
    // Worker a, stopped while it holds a claimed batch that is not stored yet, dies.
    const held = await stopHoldingBatch(a.child, a.output);
    a.child.kill('SIGKILL');
    expect(held.length).toBeGreaterThan(0);
    await until(
      async () => (await new EmbeddingQueue(pool).remaining(5, e)) === 0,
      90_000,
      () => `the queue to drain\n${b.output()}`,
    );
    expect(await storedLabels(pool, e)).toEqual(work.map((t) => t.label));
    // Worker b embedded the killed worker's batch, with the model's own vectors.
    const { rows } = await pool.query<{ vector: number[] }>(
      'SELECT vector FROM index_embeddings WHERE embedder_id = $1 AND chunk_label = $2',
      [e, held[0]!],
    );
    const expected = (await embedder!.embedDocuments([work[held[0]! - 1]!.text]))[0]!;
    expect(Float32Array.from(rows[0]!.vector)).toEqual(expected);
    b.child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => b.child.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    expect(b.output()).toMatch(/Worker \S+ stopped after embedding \d+ chunks/);
  });
});
