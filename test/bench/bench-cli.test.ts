/**
 * Smoke test of `npm run bench -- --quick`: the real CLI in its own process, with the offline
 * fixture model, on a small articles folder. It must finish and write a complete report.
 * No timing assertions: only that every measurement is there.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS } from '../support/corpus.js';
import { FIXTURE_MODEL_ID, FIXTURE_MODELS_DIR } from '../support/fixture-model.js';
import { testServerUrl } from '../support/postgres.js';
import pg from 'pg';
import { tempDir, writeFiles } from '../support/stack.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

/** Reads a dotted path ("a.b.0.c") out of a parsed JSON value. */
function at(value: unknown, dotted: string): unknown {
  let cur: unknown = value;
  for (const key of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

const SUMMARY = ['n', 'mean', 'min', 'p50', 'p95', 'p99', 'max'];

/** The environment of a bench run: the offline fixture model, logs in `root`, no DATABASE_URL from the caller's shell. */
function benchEnv(root: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOCAL_MODEL_DIR: FIXTURE_MODELS_DIR,
    EMBEDDING_MODEL: FIXTURE_MODEL_ID,
    ALLOW_REMOTE_MODELS: 'false',
    EMBEDDING_QUANTIZED: 'false',
    MODEL_CACHE_DIR: path.join(root, 'cache'),
    // Terminal commands append their JSON log to STATE_DIR/newsdesk.log: keep it out of the repo.
    STATE_DIR: path.join(root, 'state'),
    LOG_LEVEL: 'warn',
  };
  delete env.DATABASE_URL;
  return env;
}

/** Names of the scratch databases bench process `pid` made on the test server (`newsdesk_bench_<pid>_<size>`). */
async function benchDatabases(pid: number): Promise<string[]> {
  const c = new pg.Client({ connectionString: testServerUrl() });
  await c.connect();
  try {
    return (
      await c.query<{ d: string }>(`SELECT datname AS d FROM pg_database WHERE datname LIKE $1`, [`newsdesk_bench_${pid}_%`])
    ).rows.map((r) => r.d);
  } finally {
    await c.end();
  }
}

describe('npm run bench -- --quick', () => {
  let root: string;
  let report: Record<string, unknown>;
  let stdout: string;
  let stderr: string;
  let benchPid: number;

  beforeAll(async () => {
    root = tempDir('bench-cli-');
    const articles = path.join(root, 'articles');
    writeFiles(articles, CORPUS);
    for (const f of fs.readdirSync(path.join(ROOT, 'seeds'))) fs.copyFileSync(path.join(ROOT, 'seeds', f), path.join(articles, f));
    const out = path.join(root, 'report.json');
    const running = run(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'bench',
        '--quick',
        '--articles',
        articles,
        '--out',
        out,
        // The PostgreSQL rows at --quick's 1k chunks, on the test server (a scratch database the bench drops).
        '--database-url',
        testServerUrl(),
      ],
      {
        cwd: ROOT,
        env: benchEnv(root),
        timeout: 290_000,
        maxBuffer: 20_000_000,
      },
    );
    benchPid = running.child.pid!;
    const result = await running;
    stdout = result.stdout;
    stderr = result.stderr;
    report = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>;
  }, 300_000);

  afterAll(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('records the run, the machine and the settings', () => {
    for (const key of [
      'kind',
      'version',
      'startedAt',
      'finishedAt',
      'seconds',
      'quick',
      'args',
      'warnings',
      'loadAverage.start',
      'loadAverage.end',
    ]) {
      expect(at(report, key), key).toBeDefined();
    }
    expect(report.quick).toBe(true);
    for (const key of ['cpuModel', 'cpuCount', 'availableParallelism', 'totalMemoryBytes', 'node', 'os', 'arch', 'loadAverage']) {
      expect(at(report, `machine.${key}`), key).toBeDefined();
    }
    expect(at(report, 'settings.hnsw.m')).toBe(16);
    expect(at(report, 'embedder.kind')).toBe('configured');
    expect(at(report, 'embedder.id')).toContain(FIXTURE_MODEL_ID);
    expect(at(report, 'embedder.dimension')).toBe(128);
  });

  it('has the full indexing section with the dense (model) path', () => {
    expect(at(report, 'indexing.status')).toBe('ok');
    expect(at(report, 'indexing.dense')).toBe(true);
    expect(at(report, 'indexing.articles')).toBe(Object.keys(CORPUS).length + fs.readdirSync(path.join(ROOT, 'seeds')).length);
    for (const key of [
      'seconds',
      'articlesPerSecond',
      'chunksPerSecond',
      'embedChunksPerSecond',
      'peakRssBytes',
      'phases.parse',
      'phases.chunk',
      'phases.embed',
      'phases.index',
    ]) {
      expect(typeof at(report, `indexing.full.${key}`), key).toBe('number');
    }
    for (const key of [
      'noChange.seconds',
      'noChange.ratio',
      'changed.seconds',
      'changed.ratio',
      'changed.articlesEdited',
      'changed.share',
    ]) {
      expect(typeof at(report, `indexing.${key}`), key).toBe('number');
    }
    // A number on Linux (from /proc/stat), null elsewhere; present either way.
    expect(at(report, 'indexing.full.otherCpuCores')).not.toBeUndefined();
    expect(at(report, 'indexing.changed.articlesEdited')).toBeGreaterThanOrEqual(1);
    expect(at(report, 'indexing.changed.reembeddedArticles')).toBe(at(report, 'indexing.changed.articlesEdited'));
  });

  it('has latency, recall and memory at 1k and 5k chunks', () => {
    expect(at(report, 'query.status')).toBe('ok');
    const sizes = at(report, 'query.sizes') as Record<string, unknown>[];
    expect(sizes.map((s) => s.target)).toEqual([1000, 5000]);
    for (const s of sizes) {
      expect(s.chunks).toBe(s.target);
      for (const stage of ['queryEmbed', 'dense', 'denseTop10', 'lexical', 'fuse', 'total']) {
        for (const k of SUMMARY) expect(typeof at(s, `latencyMs.${stage}.${k}`), `${stage}.${k}`).toBe('number');
      }
      for (const key of [
        'recallAt10',
        'recallQueries',
        'modelLoadSeconds',
        'rssBaseBytes',
        'rssModelBytes',
        'rssReadyBytes',
        'peakRssBytes',
        'build.seconds',
        'build.peakRssBytes',
        'build.indexBytes',
        'exactSearchMs.p50',
      ]) {
        expect(typeof at(s, key), key).toBe('number');
      }
      expect(s.otherCpuCores).not.toBeUndefined();
      expect(s.recallAt10).toBeGreaterThanOrEqual(0);
      expect(s.recallAt10).toBeLessThanOrEqual(1);
    }
  });

  it('has retrieval in PostgreSQL next to the embedded store, and drops its scratch database', async () => {
    expect(at(report, 'pgRetrieval.status')).toBe('ok');
    expect(at(report, 'pgRetrieval.server')).toMatch(/^PostgreSQL/);
    const sizes = at(report, 'pgRetrieval.sizes') as Record<string, unknown>[];
    expect(sizes.map((s) => s.target)).toEqual([1000]);
    for (const store of ['embedded', 'postgres']) {
      expect(at(sizes[0], `${store}.chunks`), store).toBe(1000);
      for (const mode of ['lexical', 'hybrid']) {
        for (const k of SUMMARY) expect(typeof at(sizes[0], `${store}.${mode}.total.${k}`), `${store}.${mode}.${k}`).toBe('number');
      }
      expect(typeof at(sizes[0], `${store}.buildSeconds`)).toBe('number');
    }
    expect(['pgvector', 'hnswlib']).toContain(at(sizes[0], 'postgres.dense'));
    for (const store of ['embedded', 'postgres']) {
      for (const k of ['coldStartSeconds', 'maxRssBytes']) expect(at(sizes[0], `${store}.${k}`), `${store}.${k}`).toBeGreaterThan(0);
    }
    // Two app replicas: started, following a new generation, and living through a database outage.
    const replicas = at(sizes[0], 'replicas') as {
      replicas: number;
      starts: { coldStartSeconds: number; rssBytes: number; diskBytes: number }[];
      servedAfterSeconds: (number | null)[];
      outageSeconds: number;
      outage: { served: number; refused: number; recoveredSeconds: number | null }[];
    };
    expect(replicas.replicas).toBe(2);
    expect(replicas.starts).toHaveLength(2);
    // With PG_SEARCH=local (the default) each replica keeps its copy of the index under INDEX_DIR.
    for (const s of replicas.starts) expect(s.coldStartSeconds * s.rssBytes * s.diskBytes).toBeGreaterThan(0);
    expect(replicas.servedAfterSeconds.every((v) => typeof v === 'number' && v >= 0)).toBe(true);
    expect(replicas.outageSeconds).toBeGreaterThanOrEqual(3);
    for (const o of replicas.outage) {
      expect(o.served + o.refused).toBeGreaterThan(0);
      expect(o.recoveredSeconds).not.toBeNull();
    }
    // Dense recall against exact search over the same vectors, in every store.
    for (const store of ['embedded', 'postgres', 'local']) {
      expect(at(sizes[0], `${store}.recall.k`), store).toBe(10);
      expect(at(sizes[0], `${store}.recall.queries`), store).toBe(20);
      expect(at(sizes[0], `${store}.recall.mean`), store).toBeGreaterThanOrEqual(0.9);
    }
    // The test server has no pgvector: the pgvector row is skipped with one line saying how to get it.
    expect(at(sizes[0], 'pgvector')).toBeUndefined();
    expect(at(report, 'pgRetrieval.pgvectorSkipped')).toMatch(/no vector extension.*--pgvector pglite/);
    expect(stderr.split('\n').filter((l) => l.includes('pgvector row skipped'))).toHaveLength(1);
    expect(stdout).toContain('recall@10');
    expect(stdout).toContain('outage: served / refused');
    expect(stdout).toContain('## Retrieval, PostgreSQL vs embedded');
    expect(await benchDatabases(benchPid)).toEqual([]);
  });

  it('has the bot section for 1, 10 and 100 chats under both loads and a burst of 100, in both stores, without errors', () => {
    expect(at(report, 'bot.status')).toBe('ok');
    const variants = at(report, 'bot.variants') as { name: string; store: string; peakRssBytes: number; runs: Record<string, unknown>[] }[];
    expect(variants.map((v) => `${v.name}:${v.store}`)).toEqual(['bot-only:embedded', 'bot+answering:embedded', 'bot+answering:postgres']);
    for (const v of variants) {
      expect(typeof v.peakRssBytes).toBe('number');
      expect(v.runs.map((r) => `${r.load}:${r.chats}`)).toEqual([
        'saturated:1',
        'saturated:10',
        'saturated:100',
        'paced:1',
        'paced:10',
        'paced:100',
        'burst:100',
      ]);
      for (const r of v.runs) {
        expect(r.errors).toBe(0);
        expect(r.otherCpuCores).not.toBeUndefined();
        expect(typeof r.messagesPerSecond).toBe('number');
        for (const k of SUMMARY) expect(typeof at(r, `latencyMs.${k}`), k).toBe('number');
      }
    }
  });

  it('checks every target and prints the tables', () => {
    const targets = at(report, 'targets') as { id: string; pass: boolean | null; measured: number | null }[];
    expect(targets.map((t) => t.id)).toEqual([
      'retrieval-p50-10k',
      'retrieval-p95-10k',
      'hnsw-recall-100k',
      'hnsw-search-p50-100k',
      'reindex-no-change',
      'serving-rss-10k',
      'bot-p95-100-chats',
      'bot-pg-errors-100-chats',
      'bot-pg-burst-wall',
      'pg-retrieval-ratio-10k',
      'pg-retrieval-ratio-100k',
      'pg-cold-start-100k',
      'pg-follow-100k',
      'pg-outage-refused',
    ]);
    // --quick has no 10k or 100k index: those targets are reported as not measured, not guessed.
    expect(targets.find((t) => t.id === 'hnsw-recall-100k')?.pass).toBeNull();
    // The no-change reindex share is measured, but on a few dozen articles it judges nothing: no PASS/FAIL verdict.
    const reindex = targets.find((t) => t.id === 'reindex-no-change')!;
    expect(reindex.pass).toBeNull();
    expect(typeof reindex.measured).toBe('number');
    const row = stdout.split('\n').find((l) => l.includes('reindex with no changes'));
    expect(row).toContain('not meaningful at this size');
    expect(row).not.toMatch(/FAIL|PASS/);
    for (const heading of ['## Indexing', '## Query latency', '## Bot overhead', '## Targets']) expect(stdout).toContain(heading);
  });
});

describe('npm run bench without a database', () => {
  it('skips the PostgreSQL rows with one line saying how to enable them', async () => {
    const root = tempDir('bench-nodb-');
    try {
      const out = path.join(root, 'report.json');
      const result = await run(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'bench', '--only', 'pg-retrieval', '--articles', path.join(ROOT, 'seeds'), '--out', out],
        { cwd: ROOT, env: benchEnv(root), timeout: 60_000 },
      );
      const skipLines = result.stderr.split('\n').filter((l) => l.includes('PostgreSQL rows skipped'));
      expect(skipLines).toHaveLength(1);
      expect(skipLines[0]).toContain('DATABASE_URL');
      expect(skipLines[0]).toContain('--database-url');
      const written = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>;
      expect(at(written, 'pgRetrieval.status')).toBe('skipped');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 70_000);
});

describe('npm run bench -- --pgvector pglite', () => {
  it('compares pgvector on a PGlite server with the local hnswlib copy on the same index and queries', async () => {
    const root = tempDir('bench-pglite-');
    try {
      const out = path.join(root, 'report.json');
      // The scratch database of the other rows goes on the test server; pgvector runs on PGlite.
      const args = ['--sizes', '1k', '--pg-search', 'local', '--replicas', '0', '--queries', '5', '--recall-queries', '5'];
      await run(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/main.ts',
          'bench',
          '--only',
          'pg-retrieval',
          '--articles',
          path.join(ROOT, 'seeds'),
          '--out',
          out,
          ...args,
          '--pgvector',
          'pglite',
          '--database-url',
          testServerUrl(),
        ],
        { cwd: ROOT, env: benchEnv(root), timeout: 280_000, maxBuffer: 20_000_000 },
      );
      const written = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>;
      const size = (at(written, 'pgRetrieval.sizes') as Record<string, unknown>[])[0];
      expect(at(size, 'pgvector.source')).toBe('pglite');
      expect(at(size, 'pgvector.dense')).toBe('pgvector');
      expect(at(size, 'pgvector.chunks')).toBe(at(size, 'local.chunks'));
      for (const store of ['local', 'pgvector']) {
        expect(at(size, `${store}.recall.queries`), store).toBe(5);
        expect(at(size, `${store}.recall.mean`), store).toBeGreaterThanOrEqual(0.9);
        expect(typeof at(size, `${store}.hybrid.dense.p95`), store).toBe('number');
      }
      expect(at(written, 'pgRetrieval.pgvectorSkipped')).toBeNull();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 300_000);

  it('refuses an unknown --pgvector value with one line', async () => {
    const root = tempDir('bench-pgvector-arg-');
    try {
      const failed = await run(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'bench', '--only', 'pg-retrieval', '--pgvector', 'nope'],
        { cwd: ROOT, env: benchEnv(root), timeout: 60_000 },
      ).then(
        () => null,
        (err: { code: number; stderr: string }) => err,
      );
      expect(failed?.code).not.toBe(0);
      expect(failed?.stderr).toContain('--pgvector takes server, pglite or off (got "nope")');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 70_000);
});
