/**
 * Runs the selected benchmark sections in a scratch folder and assembles the report. Each section
 * stands alone: one that fails is recorded as failed with its reason and the others still run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadArticles } from '../articles/index.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../util/log.js';
import { benchBot, type BotLevel, type SectionUnavailable } from './bot.js';
import { benchIndexing } from './indexing.js';
import { benchPgRetrieval, type PgRetrievalResult, type PgvectorSource } from './pg-retrieval.js';
import { machineInfo } from '../util/machine.js';
import { busyMachineWarning } from './machine.js';
import { chooseEmbedder, type BenchEmbedder, type ShapeModelOptions } from './model.js';
import { benchQueries } from './query.js';
import { checkTargets, type BenchReport, type Section } from './report.js';
import { errorMessage } from '../util/errors.js';

/** Everything a run is configured with (the CLI fills in defaults). */
export interface BenchOptions {
  quick: boolean;
  only: Section[];
  articlesDir: string;
  /** Index only the first N article files in the indexing section. */
  maxArticles: number | undefined;
  /** Stand-in model shape (`bge-small`), or undefined for the configured model. */
  shape: Omit<ShapeModelOptions, 'vocabFrom'> | undefined;
  /** Index sizes, in chunks, for the query section. */
  sizes: number[];
  /** Index sizes, in chunks, for the pg-retrieval section. */
  pgSizes: number[];
  /** PostgreSQL server for the pg-retrieval section (scratch databases are created on it), or undefined to skip it. */
  databaseUrl: string | undefined;
  /** App processes the pg-retrieval section starts against its PostgreSQL index (0: none). */
  replicas: number;
  /** The database outage the replicas live through, in ms. */
  outageMs: number;
  /** PostgreSQL search modes with retrieval rows (PG_SEARCH values). */
  pgSearch: ('database' | 'local')[];
  /** Where the pg-retrieval section's pgvector row runs (see PgvectorSource). */
  pgvector: PgvectorSource;
  queries: number;
  recallQueries: number;
  botLevels: BotLevel[];
  /** Mean pause between answer and next question in the paced bot load. */
  thinkMs: number;
  /** Chats sending one question each at the same moment in the bot section's burst run. */
  burstChats: number;
  /** The command-line arguments, recorded in the report. */
  args: string[];
}

/** What every section of one run shares. */
interface Run {
  options: BenchOptions;
  config: Config;
  logger: Logger;
  note: (line: string) => void;
  /** The run's scratch folder (removed at the end). */
  work: string;
}

/** Runs the benchmark; `note` receives progress lines. */
export async function runBenchmark(
  options: BenchOptions,
  config: Config,
  logger: Logger,
  note: (line: string) => void,
): Promise<BenchReport> {
  const startedAt = new Date();
  const t0 = performance.now();
  const loadAtStart = os.loadavg();
  const warnings: string[] = [];
  const busy = busyMachineWarning();
  if (busy) {
    warnings.push(busy);
    note(`Warning: ${busy}`);
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'newsdesk-bench-'));
  try {
    const run: Run = { options, config, logger, note, work };
    const model = await loadModel(run);
    const sections = await runSections(run, model);
    const base: Omit<BenchReport, 'targets'> = {
      kind: 'newsdesk-bench',
      version: 1,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      seconds: (performance.now() - t0) / 1000,
      quick: options.quick,
      args: options.args,
      machine: machineInfo(),
      loadAverage: { start: round2(loadAtStart), end: round2(os.loadavg()) },
      warnings,
      settings: {
        hnsw: config.hnsw,
        chunking: config.chunking,
        retrieval: { k: config.retrieval.k, maxChunksPerArticle: config.retrieval.maxChunksPerArticle },
        embeddingBatchSize: config.embedding.batchSize,
        llmMaxConcurrency: config.llm.maxConcurrency,
      },
      embedder: {
        kind: model.kind,
        id: model.embedder?.id ?? null,
        label: model.label,
        dimension: model.embedder?.dimension ?? null,
        loadSeconds: model.loadSeconds,
        notes: model.notes,
      },
      ...sections,
    };
    return { ...base, targets: checkTargets(base) };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const wants = (run: Run, section: Section) => run.options.only.includes(section);

/** The embedding model, when a selected section needs one. */
async function loadModel(run: Run): Promise<BenchEmbedder> {
  const { options, config, logger, note } = run;
  if (!wants(run, 'indexing') && !wants(run, 'query')) {
    return {
      embedder: null,
      settings: null,
      kind: 'none',
      label: 'not loaded (not needed by the selected sections)',
      notes: [],
      loadSeconds: null,
    };
  }
  note(options.shape ? `Preparing the ${options.shape.shape} stand-in model…` : 'Loading the configured embedding model…');
  const model = await chooseEmbedder(config, logger, options.shape ? { ...options.shape, vocabFrom: options.articlesDir } : null);
  // The model's notes (why it is lexical-only, what a stand-in measures) head the report; printing
  // them here as well showed each one twice.
  return model;
}

/** Indexing, then query latency, then the bot: each selected one guarded, the others marked skipped. */
async function runSections(run: Run, model: BenchEmbedder): Promise<Pick<BenchReport, 'indexing' | 'query' | 'pgRetrieval' | 'bot'>> {
  const { options, config, logger, note, work } = run;
  const section = async <T>(name: Section, measure: () => Promise<T>): Promise<T | SectionUnavailable> => {
    if (!wants(run, name)) return { status: 'skipped', reason: 'not selected with --only' };
    try {
      return await measure();
    } catch (err) {
      const reason = errorMessage(err);
      note(`${name} failed: ${reason}`);
      logger.error('bench.section_failed', { section: name, error: err instanceof Error ? err : reason });
      return { status: 'failed', reason };
    }
  };
  const indexing = await section('indexing', () =>
    benchIndexing({
      articlesDir: options.articlesDir,
      workDir: path.join(work, 'indexing'),
      ...(options.maxArticles !== undefined ? { maxArticles: options.maxArticles } : {}),
      embedder: model.embedder,
      config,
      logger,
      note,
    }),
  );
  // Free the scratch index before the big synthetic ones.
  fs.rmSync(path.join(work, 'indexing'), { recursive: true, force: true });
  const query = await section('query', async () => {
    const corpus = (await loadArticles(options.articlesDir, { maxFileBytes: config.intake.maxUploadBytes })).articles;
    return benchQueries({
      sizes: options.sizes,
      queries: options.queries,
      recallQueries: options.recallQueries,
      workDir: path.join(work, 'query'),
      config,
      embedding: model.settings,
      dimension: model.embedder?.dimension ?? null,
      corpus,
      logger,
      note,
    });
  });
  const pgRetrieval = await section('pg-retrieval', () => pgSection(run));
  // Last, as it starts servers and processes of its own.
  const bot = await section('bot', () =>
    benchBot({
      articlesDir: options.articlesDir,
      workDir: path.join(work, 'bot'),
      config,
      levels: options.botLevels,
      thinkMs: options.thinkMs,
      burstChats: options.burstChats,
      ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
      logger,
      note,
    }),
  );
  return { indexing, query, pgRetrieval, bot };
}

/** The store comparison, or a skip that says how to enable it when no PostgreSQL server was given. */
async function pgSection(run: Run): Promise<PgRetrievalResult | SectionUnavailable> {
  const { options, config, logger, note, work } = run;
  if (!options.databaseUrl) {
    const reason = 'PostgreSQL rows skipped: set DATABASE_URL or pass --database-url postgres://user@host:5432/db to measure them';
    note(reason);
    return { status: 'skipped', reason };
  }
  const corpus = (await loadArticles(options.articlesDir, { maxFileBytes: config.intake.maxUploadBytes })).articles;
  return benchPgRetrieval({
    serverUrl: options.databaseUrl,
    sizes: options.pgSizes,
    queries: options.queries,
    replicas: options.replicas,
    outageMs: options.outageMs,
    pgSearch: options.pgSearch,
    pgvector: options.pgvector,
    recallQueries: options.recallQueries,
    workDir: path.join(work, 'pg-retrieval'),
    config,
    corpus,
    logger,
    note,
  });
}

function round2(values: number[]): number[] {
  return values.map((v) => Math.round(v * 100) / 100);
}
