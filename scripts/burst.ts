/**
 * A burst of questions at once, embedded mode next to PostgreSQL mode, on the same archive in the
 * same run: both indexes are built first (lexical only), then each round fires `--questions`
 * calls of `retriever.retrieve` at the same moment in one mode and then the other, alternating,
 * and prints errors, p50, p95 and wall time per round. Questions are the readers' set, asked as
 * the eval asks them (its `asked_at`), cycled.
 *
 *   npx tsx scripts/burst.ts --articles /tmp/archive --database-url postgres://postgres@127.0.0.1:5432/scratch \
 *     [--questions 100] [--rounds 3] [--pool 10] [--concurrency 0]
 *
 * The database must exist and be empty or hold this archive's index (it is indexed into).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type App, createApp } from '../src/app.js';
import { parseConfig } from '../src/config/index.js';
import { askedAt, loadQuestions } from '../src/eval/dataset.js';
import { summarize } from '../src/bench/stats.js';
import { errorMessage } from '../src/util/errors.js';
import { silentLogger } from '../src/util/log.js';

const { values } = parseArgs({
  options: {
    articles: { type: 'string' },
    'database-url': { type: 'string' },
    questions: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
    pool: { type: 'string', default: '10' },
    /** Questions searching PostgreSQL at once (DATABASE_QUESTION_CONCURRENCY); 0 = from the pool. */
    concurrency: { type: 'string', default: '0' },
    set: { type: 'string', default: 'eval/readers/questions.jsonl' },
  },
});
if (!values.articles || !values['database-url']) {
  console.error('usage: npx tsx scripts/burst.ts --articles DIR --database-url URL [--questions 100] [--rounds 3] [--pool 10]');
  process.exit(2);
}
const n = Number(values.questions);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'newsdesk-burst-'));
const open = (mode: 'embedded' | 'postgres') =>
  createApp(
    parseConfig({
      EMBEDDING_PROVIDER: 'none',
      ARTICLES_DIR: path.resolve(values.articles!),
      INDEX_DIR: path.join(scratch, `index-${mode}`),
      STATE_DIR: path.join(scratch, `state-${mode}`),
      OPENAI_API_KEY: '',
      OPENAI_BASE_URL: '',
      ...(mode === 'postgres'
        ? { DATABASE_URL: values['database-url']!, DATABASE_POOL_MAX: values.pool!, DATABASE_QUESTION_CONCURRENCY: values.concurrency! }
        : {}),
    }),
    silentLogger,
  );

const all = loadQuestions(values.set!).questions;
const byId = new Map(all.map((q) => [q.id, q]));
const asked = all.filter((q) => !q.follow_up_of);
const burst = Array.from({ length: n }, (_, i) => asked[(i * 7) % asked.length]!);

/** The question queue's measured service time and size after a PostgreSQL round. */
function queueNote(app: App): string {
  const q = app.questionQueue?.stats();
  return q
    ? ` [queue: concurrency ${app.config.database.questionConcurrency || 'auto'}, service ${q.serviceMs.toFixed(0)} ms, capacity ${q.capacity}]`
    : '';
}

async function round(app: App): Promise<{ errors: number; first: string | null; p50: number; p95: number; wall: number }> {
  const t0 = performance.now();
  const times: number[] = [];
  let errors = 0;
  let first: string | null = null;
  await Promise.all(
    burst.map(async (q) => {
      const t = performance.now();
      try {
        await app.retriever.retrieve(q.question, { now: askedAt(q, byId) ?? new Date() });
      } catch (err) {
        errors++;
        first ??= errorMessage(err);
      }
      times.push(performance.now() - t);
    }),
  );
  const s = summarize(times);
  return { errors, first, p50: s.p50!, p95: s.p95!, wall: performance.now() - t0 };
}

try {
  const apps = { embedded: await open('embedded'), postgres: await open('postgres') };
  try {
    for (const [mode, app] of Object.entries(apps)) {
      const t = performance.now();
      const built = await app.library.ensure();
      console.log(
        `${mode}: ${app.library.stats().articles} articles, ${app.library.stats().chunks} chunks (${built.built ? 'built' : 'opened'} in ${((performance.now() - t) / 1000).toFixed(1)} s)`,
      );
    }
    // Warm-up: one question each (JIT, the PostgreSQL pool's first connections, page cache).
    for (const app of Object.values(apps)) await app.retriever.retrieve(burst[0]!.question);
    const walls: Record<string, number[]> = { embedded: [], postgres: [] };
    for (let r = 1; r <= Number(values.rounds); r++) {
      for (const [mode, app] of Object.entries(apps)) {
        const res = await round(app);
        walls[mode]!.push(res.wall);
        console.log(
          `round ${r} ${mode.padEnd(8)} ${n} at once: ${res.errors} errors, p50 ${res.p50.toFixed(0)} ms, p95 ${res.p95.toFixed(0)} ms, wall ${(res.wall / 1000).toFixed(2)} s${res.first ? ` (first error: ${res.first})` : ''}${queueNote(app)}`,
        );
      }
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
    console.log(
      `median wall: embedded ${(median(walls.embedded!) / 1000).toFixed(2)} s, postgres ${(median(walls.postgres!) / 1000).toFixed(2)} s, ratio ${(median(walls.postgres!) / median(walls.embedded!)).toFixed(2)}`,
    );
  } finally {
    for (const app of Object.values(apps)) app.close();
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
