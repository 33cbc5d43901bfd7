/**
 * `npm run bench`: indexing throughput, query latency at growing index sizes, and bot overhead,
 * printed as tables and written as a JSON report. Works in a temporary folder: the product's
 * articles and `index-data/` are never touched.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/index.js';
import type { BotLevel } from '../bench/bot.js';
import { MODEL_SHAPES } from '../bench/model.js';
import { formatReport, SECTIONS, type Section } from '../bench/report.js';
import { runBenchmark, type BenchOptions } from '../bench/run.js';
import type { PgvectorSource } from '../bench/pg-retrieval.js';
import { UserError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { parseCommandArgs } from './args.js';

/** Where the command writes: tables on `out`, progress and notes on `err`. */
export interface BenchIO {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIO: BenchIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

const USAGE = `Usage: npm run bench -- [options]
  --quick               small version for CI smoke (under a minute): 1k and 5k chunks, few queries
  --only LIST           sections to run, comma-separated: ${SECTIONS.join(',')} (default: all)
  --out FILE            JSON report (default reports/bench-<timestamp>.json)
  --articles DIR        articles for the indexing section (default ../shared/corpora/wikinews-en
                        when it exists, else ARTICLES_DIR)
  --max-articles N      index only the first N files (default: all; 30 with --quick)
  --model-shape NAME    measure with a random-weight model of a real model's shape (${Object.keys(MODEL_SHAPES).join(', ')}),
                        generated with make_bert.py into .cache/bench-models/ (for offline machines)
  --make-bert FILE      make_bert.py to use (default ../shared/tools/make_bert.py)
  --sizes LIST          index sizes in chunks for the query and pg-retrieval sections, e.g. 1k,10k,100k
                        (default 1k,10k,100k and 10k,100k; 1k,5k and 1k with --quick)
  --database-url URL    PostgreSQL server for the pg-retrieval section and the bot section's PostgreSQL rows
                        (default DATABASE_URL); it creates and drops scratch databases newsdesk_bench_<pid>_<size>
                        and newsdesk_bench_<pid>_bot there. Without one those are skipped
  --replicas N          app processes the pg-retrieval section starts against its PostgreSQL index at each
                        size: cold start, RSS, a new generation until every one serves it, answers during a
                        database outage (default 2; 0 leaves those rows out)
  --pg-search LIST      PostgreSQL search modes with retrieval rows: database (BM25 in PostgreSQL), local (the
                        replica-local copy, PG_SEARCH=local); default database,local
  --pgvector WHERE      where the pg-retrieval section's pgvector row (PG_SEARCH=database with pgvector's HNSW,
                        next to the local hnswlib copy, with recall@10 against exact search) runs: server (the
                        --database-url server, when it has the vector extension; default), pglite (a PGlite
                        server with its bundled pgvector, over pglite-socket: slow to build, use small sizes), off
  --outage-seconds S    how long that database outage lasts (default 10; 3 with --quick)
  --queries N           timed queries per index size (default 300; 20 with --quick)
  --recall-queries N    queries for HNSW recall@10 per size (default 100; 20 with --quick)`;

// Questions per chat at each concurrency, for the saturated and the paced load.
const BOT_LEVELS: BotLevel[] = [
  { chats: 1, saturated: 100, paced: 10 },
  { chats: 10, saturated: 20, paced: 10 },
  { chats: 100, saturated: 5, paced: 5 },
];
const QUICK_BOT_LEVELS: BotLevel[] = [
  { chats: 1, saturated: 5, paced: 2 },
  { chats: 10, saturated: 2, paced: 1 },
  { chats: 100, saturated: 1, paced: 1 },
];

/** Runs the `bench` command; returns the process exit code. */
export async function runBench(config: Config, logger: Logger, argv: string[], io: BenchIO = processIO): Promise<number> {
  const v = parseBenchArgs(argv);
  if (v.help) {
    io.out(USAGE + '\n');
    return 0;
  }
  const quick = v.quick === true;
  const only = parseOnly(v.only);
  const shapeName = v['model-shape'];
  if (shapeName !== undefined && !MODEL_SHAPES[shapeName]) {
    throw new UserError(`Unknown --model-shape "${shapeName}". Known shapes: ${Object.keys(MODEL_SHAPES).join(', ')}.`);
  }
  const options: BenchOptions = {
    quick,
    only,
    articlesDir: defaultArticles(v.articles, config),
    maxArticles: v['max-articles'] !== undefined ? positiveInt(v['max-articles'], '--max-articles') : quick ? 30 : undefined,
    shape: shapeName
      ? {
          shape: shapeName,
          cacheDir: path.resolve('.cache', 'bench-models'),
          makeBert: path.resolve(v['make-bert'] ?? path.join('..', 'shared', 'tools', 'make_bert.py')),
          // make_bert.py needs Debian's python3-onnx, which only the system interpreter sees.
          python: fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3',
        }
      : undefined,
    sizes: v.sizes !== undefined ? parseSizes(v.sizes) : quick ? [1_000, 5_000] : [1_000, 10_000, 100_000],
    pgSizes: v.sizes !== undefined ? parseSizes(v.sizes) : quick ? [1_000] : [10_000, 100_000],
    databaseUrl: v['database-url'] ?? config.database.url,
    pgSearch: parsePgSearch(v['pg-search']),
    pgvector: parsePgvector(v.pgvector),
    replicas: v.replicas !== undefined ? nonNegativeInt(v.replicas, '--replicas') : 2,
    outageMs: (v['outage-seconds'] !== undefined ? positiveInt(v['outage-seconds'], '--outage-seconds') : quick ? 3 : 10) * 1000,
    queries: v.queries !== undefined ? positiveInt(v.queries, '--queries') : quick ? 20 : 300,
    recallQueries: v['recall-queries'] !== undefined ? positiveInt(v['recall-queries'], '--recall-queries') : quick ? 20 : 100,
    botLevels: quick ? QUICK_BOT_LEVELS : BOT_LEVELS,
    thinkMs: 1000,
    burstChats: 100,
    args: argv.map(hidePassword),
  };
  if (!fs.existsSync(options.articlesDir)) throw new UserError(`Articles folder not found: ${options.articlesDir}. Pass --articles DIR.`);
  const out = path.resolve(v.out ?? path.join('reports', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));

  io.err(`Benchmark${quick ? ' (--quick)' : ''}: ${only.join(', ')}; articles from ${options.articlesDir}\n`);
  const report = await runBenchmark(options, config, logger, (line) => io.err(line + '\n'));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  io.out(formatReport(report));
  io.out(`\nJSON report: ${out}\n`);
  const failed = [report.indexing, report.query, report.pgRetrieval, report.bot].some((s) => s.status === 'failed');
  return failed ? 1 : 0;
}

/** The parsed command line; a bad option becomes a one-line UserError (see args.ts). */
function parseBenchArgs(argv: string[]) {
  const { values } = parseCommandArgs('bench', {
    args: argv,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      articles: { type: 'string' },
      'max-articles': { type: 'string' },
      'model-shape': { type: 'string' },
      'make-bert': { type: 'string' },
      sizes: { type: 'string' },
      queries: { type: 'string' },
      'database-url': { type: 'string' },
      replicas: { type: 'string' },
      'outage-seconds': { type: 'string' },
      pgvector: { type: 'string' },
      'pg-search': { type: 'string' },
      'recall-queries': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  return values;
}

/** An argument with any connection-string password replaced (the report records the command line). */
function hidePassword(arg: string): string {
  return arg.replace(/(postgres(?:ql)?:\/\/[^:/@\s]+:)[^@\s]+@/gi, '$1***@');
}

function defaultArticles(given: string | undefined, config: Config): string {
  if (given !== undefined) return path.resolve(given);
  const shared = path.resolve('..', 'shared', 'corpora', 'wikinews-en');
  return fs.existsSync(shared) ? shared : config.articlesDir;
}

function parseOnly(value: string | undefined): Section[] {
  if (value === undefined) return [...SECTIONS];
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
  if (bad.length > 0 || names.length === 0)
    throw new UserError(`--only takes a comma-separated list of: ${SECTIONS.join(', ')} (got "${value}").`);
  return SECTIONS.filter((s) => names.includes(s));
}

function parseSizes(value: string): number[] {
  return value.split(',').map((s) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(k|m)?\s*$/i.exec(s);
    const unit = m?.[2]?.toLowerCase();
    const n = m ? Math.round(Number(m[1]) * (unit === 'k' ? 1_000 : unit === 'm' ? 1_000_000 : 1)) : NaN;
    if (!Number.isInteger(n) || n < 10) throw new UserError(`--sizes takes chunk counts like 1k,10k,100k (got "${s}").`);
    return n;
  });
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${name} must be a positive whole number (got "${value}").`);
  return n;
}

function nonNegativeInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`${name} must be a whole number, 0 or more (got "${value}").`);
  return n;
}

function parsePgvector(value: string | undefined): PgvectorSource {
  if (value === undefined) return 'server';
  if (value !== 'server' && value !== 'pglite' && value !== 'off') {
    throw new UserError(`--pgvector takes server, pglite or off (got "${value}").`);
  }
  return value;
}

function parsePgSearch(value: string | undefined): ('database' | 'local')[] {
  if (value === undefined) return ['database', 'local'];
  const modes = value.split(',').map((m) => m.trim());
  if (modes.length === 0 || modes.some((m) => m !== 'database' && m !== 'local')) {
    throw new UserError(`--pg-search takes database, local or both, comma-separated (got "${value}").`);
  }
  return modes as ('database' | 'local')[];
}
