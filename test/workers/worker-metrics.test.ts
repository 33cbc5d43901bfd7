/**
 * `npm run worker` with METRICS_PORT: /readyz follows its database and /metrics counts the batches
 * and chunks it embedded, scraped over HTTP after it drained a queue (docs/observability.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder } from '../../src/embedding/index.js';
import { EmbeddingQueue } from '../../src/workers/queue.js';
import { type BotProcess, startBotProcess, until } from '../support/bot-process.js';
import { FIXTURE_MODEL_ID, FIXTURE_MODELS_DIR } from '../support/fixture-model.js';
import type { TestDatabase } from '../support/postgres.js';
import { tempDir, testConfig } from '../support/stack.js';
import { freePort } from '../support/telegram.js';
import { queueDatabase, tasks } from './support.js';

let db: TestDatabase;
let pool: pg.Pool;
let root: string;
let worker: BotProcess | undefined;
beforeAll(async () => {
  ({ db, pool } = await queueDatabase());
  root = tempDir('worker-metrics-');
});
afterAll(async () => {
  await worker?.stop();
  await pool?.end();
  await db?.drop();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('npm run worker with METRICS_PORT', () => {
  it('is ready with its database and counts what it embedded', { timeout: 120_000 }, async () => {
    const cfg = testConfig(path.join(root, 'here'));
    const { embedder } = await createEmbedder(cfg.embedding, cfg.llm);
    const work = tasks(40);
    await new EmbeddingQueue(pool).enqueue(5, embedder!.id, work);
    const port = await freePort();
    worker = startBotProcess(
      {
        DATABASE_URL: db.url,
        EMBEDDING_MODEL: FIXTURE_MODEL_ID,
        LOCAL_MODEL_DIR: FIXTURE_MODELS_DIR,
        MODEL_CACHE_DIR: path.join(root, 'cache'),
        ALLOW_REMOTE_MODELS: 'false',
        EMBEDDING_QUANTIZED: 'false',
        EMBEDDING_BATCH_SIZE: '8',
        METRICS_PORT: String(port),
      },
      'worker',
    );
    const w = worker;
    await until(async () => (await new EmbeddingQueue(pool).remaining(5, embedder!.id)) === 0, 90_000, `the queue to drain\n${w.output()}`);
    await until(() => w.events().filter((e) => e.event === 'worker.batch').length >= 5, 10_000, 'the batches to be logged');
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(await ready.json()).toEqual({ ready: true, checks: { database: 'ok' } });
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/^newsdesk_worker_chunks_embedded_total 40$/m);
    const batches = w.events().filter((e) => e.event === 'worker.batch').length;
    expect(text).toMatch(new RegExp(`^newsdesk_worker_batches_total ${batches}$`, 'm'));
    await w.stop();
    expect(w.child.exitCode).toBe(0);
  });
});
