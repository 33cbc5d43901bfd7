/**
 * The project next to LangChain.js, on the same articles, the same int8 bge-small-shaped model and
 * the same transformers.js/onnxruntime (LangChain's HuggingFaceTransformersEmbeddings imports the
 * project's @xenova/transformers). LangChain (pinned: langchain 0.3.37, @langchain/community
 * 0.3.20, the last on @xenova/transformers) is installed into .cache/langchain-compare, outside
 * the project's dependencies, and runs with HNSWLib and RecursiveCharacterTextSplitter 1000/200:
 * at its defaults (batch 512, unbounded concurrency) and tuned (batch 16; batch 16 and
 * maxConcurrency 1). Every build runs in a fresh process (peak RSS is that process's), the
 * configurations alternate, and the table shows medians.
 *
 *   npx tsx scripts/compare-langchain.ts --articles ../shared/corpora/wikinews-en \
 *     --make-bert ../shared/tools/make_bert.py [--rounds 2] [--max-articles N]
 *
 * With --queries-only: one build of the project and one of LangChain batch 16 (the index its
 * queries search), no no-change runs and no token counts; only the query rows are printed.
 *
 * Whole-command times spawn the real CLI (`node --import tsx src/cli/main.ts index`); a LangChain
 * no-change update is what a user would write: read and hash every file, compare with the stored
 * hashes.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadArticles } from '../src/articles/index.js';
import { chunkArticle, type ChunkOptions } from '../src/chunking/index.js';
import { parseConfig } from '../src/config/index.js';
import { createEmbedder, estimatedWordPieceCounter } from '../src/embedding/index.js';
import { lengthSortedBatches, MODEL_RUN_SIZE, paddedTokens } from '../src/embedding/batches.js';
import { chooseEmbedder } from '../src/bench/model.js';
import { IndexReader } from '../src/store/reader.js';
import { createRetriever } from '../src/retrieval/index.js';
import { silentLogger } from '../src/util/log.js';
import { formatTable } from '../src/util/table.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRATCH = path.join(ROOT, '.cache', 'langchain-compare');
const MODEL_DIR = path.join(ROOT, '.cache', 'bench-models');
const MODEL = 'bench-shape/bge-small-en-v1.5';
const PINNED = { langchain: '0.3.37', '@langchain/community': '0.3.20', '@langchain/core': '0.3.80' };
const BGE_QUERY = 'Represent this sentence for searching relevant passages: ';
const SPLIT = { chunkSize: 1000, chunkOverlap: 200 };

type LcConfig = 'defaults' | 'batch16' | 'batch16c1';
const LC_CONFIGS: Record<LcConfig, { label: string; batchSize?: number; maxConcurrency?: number }> = {
  defaults: { label: 'LangChain, defaults' },
  batch16: { label: 'LangChain, batch 16', batchSize: 16 },
  batch16c1: { label: 'LangChain, batch 16, maxConcurrency 1', batchSize: 16, maxConcurrency: 1 },
};

/** What a build child reports. */
interface Built {
  workSeconds: number;
  wholeSeconds: number;
  peakRssBytes: number;
}

/** Project environment: the stand-in model, int8, the scratch index. */
function projectEnv(articles: string, index: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ARTICLES_DIR: articles,
    INDEX_DIR: index,
    STATE_DIR: path.join(index, '..', 'state'),
    EMBEDDING_PROVIDER: 'transformers',
    EMBEDDING_MODEL: MODEL,
    EMBEDDING_POOLING: 'cls',
    EMBEDDING_QUANTIZED: 'true',
    LOCAL_MODEL_DIR: MODEL_DIR,
    ALLOW_REMOTE_MODELS: 'false',
    DATABASE_URL: '',
  };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      articles: { type: 'string' },
      'make-bert': { type: 'string' },
      rounds: { type: 'string', default: '2' },
      'max-articles': { type: 'string' },
      queries: { type: 'string', default: '200' },
      only: { type: 'string' },
      'queries-only': { type: 'boolean', default: false },
    },
  });
  if (positionals[0] === 'child') return child(JSON.parse(positionals[1]!) as ChildTask);
  const articlesDir = path.resolve(values.articles ?? path.join(ROOT, '..', 'shared', 'corpora', 'wikinews-en'));
  const queriesOnly = values['queries-only'] === true;
  const rounds = queriesOnly ? 1 : Number(values.rounds);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'compare-langchain-'));
  try {
    installLangChain();
    await ensureModel(articlesDir, path.resolve(values['make-bert'] ?? path.join(ROOT, '..', 'shared', 'tools', 'make_bert.py')));
    const articles = copyArticles(
      articlesDir,
      path.join(work, 'articles'),
      values['max-articles'] ? Number(values['max-articles']) : undefined,
    );
    const sides: ('project' | LcConfig)[] =
      (values.only?.split(',') as ('project' | LcConfig)[] | undefined) ??
      (queriesOnly ? ['project', 'batch16'] : ['project', 'batch16', 'batch16c1', 'defaults']);
    const builds = new Map<string, Built[]>();
    const noChange = new Map<string, Built[]>();
    const questions = readerQuestions(Number(values.queries));
    const queries: { project: QueryTimes | null; langchain: QueryTimes | null } = { project: null, langchain: null };
    for (let r = 0; r < rounds; r++) {
      // Alternating order per round, so a busy spell on the shared machine does not fall on one side only.
      for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
        const dir = path.join(work, `${side}-${r}`);
        note(`round ${r + 1}/${rounds}: ${side} full build…`);
        const built = side === 'project' ? buildProject(articles, dir) : await runChild({ kind: 'lc-build', config: side, articles, dir });
        push(builds, side, built);
        note(`  ${built.workSeconds.toFixed(1)} s work, ${(built.peakRssBytes / 2 ** 20).toFixed(0)} MB peak RSS`);
        if (!queriesOnly && (side === 'project' || side === 'batch16')) {
          const n = side === 'project' ? projectNoChange(articles, dir) : await runChild({ kind: 'lc-nochange', articles, dir });
          push(noChange, side, n);
          note(`  no-change update: ${n.wholeSeconds.toFixed(2)} s whole command, ${n.workSeconds.toFixed(3)} s work`);
        }
        // Queries on the last round's indexes, right after each is built.
        // In a fresh process, like LangChain's: this one holds the stand-in check's model session, whose
        // idle threads would compete with the searches.
        if (r === rounds - 1 && side === 'project')
          queries.project = await runChild<QueryTimes>({ kind: 'project-query', indexDir: path.join(dir, 'index'), questions });
        if (r === rounds - 1 && side === 'batch16')
          queries.langchain = await runChild<QueryTimes>({ kind: 'lc-query', dir, questions: questions.map((q) => q.text) });
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    const tokens = queriesOnly ? null : await tokenCounts(articles);
    process.stdout.write(formatComparison({ sides, builds, noChange, queries, tokens, rounds }) + '\n');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function note(line: string): void {
  process.stderr.write(line + '\n');
}

function push<T>(m: Map<string, T[]>, key: string, v: T): void {
  m.set(key, [...(m.get(key) ?? []), v]);
}

/** Installs the pinned LangChain into the scratch folder once (its optional better-sqlite3 peer predates v12, hence --legacy-peer-deps). */
function installLangChain(): void {
  const marker = path.join(SCRATCH, 'node_modules', 'langchain', 'package.json');
  const want = JSON.stringify(PINNED);
  const stamp = path.join(SCRATCH, 'pinned.json');
  if (fs.existsSync(marker) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want) return;
  fs.mkdirSync(SCRATCH, { recursive: true });
  fs.writeFileSync(
    path.join(SCRATCH, 'package.json'),
    JSON.stringify({ name: 'langchain-compare-scratch', private: true, type: 'module', dependencies: PINNED }, null, 2),
  );
  note(
    `Installing ${Object.entries(PINNED)
      .map(([n, v]) => `${n}@${v}`)
      .join(', ')} into ${SCRATCH}…`,
  );
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--legacy-peer-deps'], { cwd: SCRATCH, stdio: 'inherit' });
  fs.writeFileSync(stamp, want);
}

/** Makes the int8 bge-small-shaped stand-in (as `npm run bench -- --model-shape bge-small` does) when missing. */
async function ensureModel(articlesDir: string, makeBert: string): Promise<void> {
  const config = parseConfig({ ...process.env, EMBEDDING_QUANTIZED: 'true' });
  const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const model = await chooseEmbedder(config, silentLogger, {
    shape: 'bge-small',
    cacheDir: MODEL_DIR,
    vocabFrom: articlesDir,
    makeBert,
    python,
  });
  if (!model.embedder) throw new Error(`No model: ${model.notes.join(' ')}`);
}

/** A copy of the articles with their times an hour back, like files that have sat in a folder. */
function copyArticles(from: string, to: string, limit?: number): string {
  fs.mkdirSync(to, { recursive: true });
  const names = fs
    .readdirSync(from)
    .filter((n) => !n.startsWith('.') && fs.statSync(path.join(from, n)).isFile())
    .sort()
    .slice(0, limit);
  const then = new Date(Date.now() - 3_600_000);
  for (const n of names) {
    fs.copyFileSync(path.join(from, n), path.join(to, n));
    fs.utimesSync(path.join(to, n), then, then);
  }
  return to;
}

function summarySeconds(stdout: string): number {
  // formatSeconds: "180 ms", "4.2 s" or "2 min 05 s".
  const m = /Indexed \d+ articles? \(\d+ chunks\) in (?:(\d+) ms|(\d+) min (\d+) s|(\d+(?:\.\d+)?) s)/.exec(stdout);
  if (!m) throw new Error(`No index summary in:\n${stdout}`);
  if (m[1] !== undefined) return Number(m[1]) / 1000;
  if (m[2] !== undefined) return Number(m[2]) * 60 + Number(m[3]);
  return Number(m[4]);
}

function buildProject(articles: string, dir: string): Built {
  const index = path.join(dir, 'index');
  fs.mkdirSync(index, { recursive: true });
  return spawnTimed(['index', '--full'], projectEnv(articles, index));
}

function projectNoChange(articles: string, dir: string): Built {
  const env = projectEnv(articles, path.join(dir, 'index'));
  // The build's own listing recorded the folder; this run is the user's next `npm run index`.
  return spawnTimed(['index'], env);
}

/** The CLI under /usr/bin/time: wall time, reported work and peak RSS of the whole command. */
function spawnTimed(args: string[], env: NodeJS.ProcessEnv): Built {
  const t = performance.now();
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', 'RSS_KB %M', process.execPath, '--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args],
    {
      env,
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 2 ** 20,
    },
  );
  const wholeSeconds = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`index failed (${r.status}): ${r.stderr}`);
  const rss = /RSS_KB (\d+)/.exec(r.stderr);
  return { wholeSeconds, workSeconds: summarySeconds(r.stdout), peakRssBytes: rss ? Number(rss[1]) * 1024 : 0 };
}

// ---------- LangChain side (runs in child processes) ----------

type ChildTask =
  | { kind: 'lc-build'; config: LcConfig; articles: string; dir: string }
  | { kind: 'lc-nochange'; articles: string; dir: string }
  | { kind: 'lc-query'; dir: string; questions: string[] }
  | { kind: 'project-query'; indexDir: string; questions: { text: string; askedAt: string | undefined }[] };

/** Runs a task in a fresh process (this script in child mode) and returns what it prints last. */
function runChild<T = Built>(task: ChildTask): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'child', JSON.stringify(task)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${task.kind} child exited with ${code}`));
      const result = JSON.parse(out.trim().split('\n').pop()!) as T & Partial<Built>;
      if ('workSeconds' in result) result.wholeSeconds = (performance.now() - t) / 1000;
      resolve(result);
    });
  });
}

async function child(task: ChildTask): Promise<void> {
  const started = performance.now();
  if (task.kind === 'project-query') return done(await projectQueries(task.indexDir, task.questions));
  if (task.kind === 'lc-nochange') {
    // What a LangChain user writes for "update when files change": hash every file, compare.
    const stored = JSON.parse(fs.readFileSync(path.join(task.dir, 'hashes.json'), 'utf8')) as Record<string, string>;
    const now = hashFiles(task.articles);
    const changed = Object.keys(now).filter((f) => stored[f] !== now[f]).length + Object.keys(stored).filter((f) => !(f in now)).length;
    if (changed > 0) throw new Error(`${changed} files changed`);
    return done({ workSeconds: (performance.now() - started) / 1000 });
  }
  const lc = await langchain();
  const embeddings = new lc.HuggingFaceTransformersEmbeddings({
    model: MODEL,
    pretrainedOptions: { quantized: true, local_files_only: true },
    pipelineOptions: { pooling: 'cls', normalize: true },
    ...(task.kind === 'lc-build' && LC_CONFIGS[task.config].maxConcurrency
      ? { maxConcurrency: LC_CONFIGS[task.config].maxConcurrency }
      : {}),
  });
  if (task.kind === 'lc-build') {
    const batch = LC_CONFIGS[task.config].batchSize;
    // The constructor ignores a batchSize field in this version; the property is what embedDocuments reads.
    if (batch) embeddings.batchSize = batch;
    const loaded = await loadArticles(task.articles, { maxFileBytes: 20_000_000 });
    const splitter = new lc.RecursiveCharacterTextSplitter(SPLIT);
    const docs = await splitter.createDocuments(
      loaded.articles.map((a) => `${a.title}\n\n${a.text}`),
      loaded.articles.map((a) => ({ id: a.id, title: a.title })),
    );
    const store = await lc.HNSWLib.fromDocuments(docs, embeddings);
    await store.save(path.join(task.dir, 'hnswlib'));
    fs.writeFileSync(path.join(task.dir, 'hashes.json'), JSON.stringify(hashFiles(task.articles)));
    return done({ workSeconds: (performance.now() - started) / 1000, chunks: docs.length });
  }
  const store = await lc.HNSWLib.load(path.join(task.dir, 'hnswlib'), embeddings);
  const times = await timeQueries(task.questions, async (q) => {
    const t0 = performance.now();
    const v = await embeddings.embedQuery(BGE_QUERY + q);
    const t1 = performance.now();
    await store.similaritySearchVectorWithScore(v, 6);
    const t2 = performance.now();
    await store.similaritySearchVectorWithScore(v, 50);
    return { embed: t1 - t0, search: t2 - t1, dense50: performance.now() - t2 };
  });
  done(times);
}

function done(result: object): void {
  process.stdout.write(JSON.stringify({ ...result, peakRssBytes: process.resourceUsage().maxRSS * 1024 }) + '\n');
}

function hashFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of fs.readdirSync(dir).sort())
    out[n] = createHash('sha256')
      .update(fs.readFileSync(path.join(dir, n)))
      .digest('hex');
  return out;
}

interface LcEmbeddings {
  batchSize: number;
  embedQuery(text: string): Promise<number[]>;
}
interface LcStore {
  similaritySearchVectorWithScore(vector: number[], k: number): Promise<unknown[]>;
  save(dir: string): Promise<void>;
}
/** The parts of LangChain this script uses. */
interface LcModules {
  HuggingFaceTransformersEmbeddings: new (fields: object) => LcEmbeddings;
  HNSWLib: { fromDocuments(docs: unknown[], e: LcEmbeddings): Promise<LcStore>; load(dir: string, e: LcEmbeddings): Promise<LcStore> };
  RecursiveCharacterTextSplitter: new (
    options: object,
  ) => {
    createDocuments(texts: string[], metadatas?: object[]): Promise<{ pageContent: string }[]>;
  };
}

async function langchain(): Promise<LcModules> {
  const { env } = await import('@xenova/transformers');
  env.allowLocalModels = true;
  env.localModelPath = MODEL_DIR + '/';
  env.allowRemoteModels = false;
  const from = (p: string) => import(path.join(SCRATCH, 'node_modules', p));
  const [emb, hnsw, split] = await Promise.all([
    from('@langchain/community/dist/embeddings/hf_transformers.js'),
    from('@langchain/community/dist/vectorstores/hnswlib.js'),
    from('@langchain/textsplitters/dist/index.js'),
  ]);
  return {
    HuggingFaceTransformersEmbeddings: emb.HuggingFaceTransformersEmbeddings,
    HNSWLib: hnsw.HNSWLib,
    RecursiveCharacterTextSplitter: split.RecursiveCharacterTextSplitter,
  };
}

// ---------- queries ----------

interface QueryTimes {
  embed: number[];
  search: number[];
  dense50: number[];
}

async function timeQueries<Q>(
  questions: Q[],
  one: (q: Q) => Promise<{ embed: number; search: number; dense50: number }>,
): Promise<QueryTimes> {
  for (const q of questions.slice(0, 5)) await one(q);
  const out: QueryTimes = { embed: [], search: [], dense50: [] };
  for (const q of questions) {
    const t = await one(q);
    out.embed.push(t.embed);
    out.search.push(t.search);
    out.dense50.push(t.dense50);
  }
  return out;
}

/** The readers' questions with the day each was asked (the project's recency and time phrases count from it; LangChain ignores dates). */
function readerQuestions(n: number): { text: string; askedAt: string | undefined }[] {
  const file = path.join(ROOT, 'eval', 'readers', 'questions.jsonl');
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { question: string; asked_at?: string })
    .map((j) => ({ text: j.question, askedAt: j.asked_at }))
    .slice(0, n);
}

/** The project's retriever over the built index: embed (with bge's query instruction, as it always does) and the whole hybrid search. */
async function projectQueries(indexDir: string, questions: { text: string; askedAt: string | undefined }[]): Promise<QueryTimes> {
  const config = parseConfig(projectEnv('/nonexistent', indexDir));
  const { embedder } = await createEmbedder(config.embedding, config.llm, silentLogger);
  const reader = IndexReader.open(indexDir, { efSearch: config.hnsw.efSearch });
  if (!(reader instanceof IndexReader) || !embedder) throw new Error('project index or model missing');
  // Timed queries use the in-memory BM25, as a serving process does once it has loaded (FTS5 answers meanwhile).
  await reader.lexicalMemoryReady();
  const retriever = createRetriever({ getReader: () => reader, embedder, options: config.retrieval });
  try {
    return await timeQueries(questions, async (q) => {
      const r = await retriever.retrieveDetailed(q.text, {
        mode: 'hybrid',
        ...(q.askedAt ? { now: new Date(`${q.askedAt}T12:00:00Z`) } : {}),
      });
      return { embed: r.timings.embed, search: r.timings.total - r.timings.embed, dense50: r.timings.dense };
    });
  } finally {
    reader.close();
  }
}

// ---------- tokens ----------

/** Tokens each side's batches compute (padding included) and the real tokens, by the model's tokenizer. */
async function tokenCounts(articlesDir: string): Promise<{ project: Tokens; langchain: Tokens }> {
  const config = parseConfig(projectEnv(articlesDir, '/nonexistent'));
  const { embedder } = await createEmbedder(config.embedding, config.llm, silentLogger);
  if (!embedder) throw new Error('model missing');
  const loaded = await loadArticles(articlesDir, { maxFileBytes: config.intake.maxUploadBytes });
  const count = (t: string) => Math.min(512, embedder.tokenizer.count(t));
  const chunking: ChunkOptions = { ...config.chunking, counter: estimatedWordPieceCounter };
  const ours = loaded.articles.flatMap((a) => chunkArticle(a, chunking)).map((c) => count(c.embedText));
  const lc = await langchain();
  const splitter = new lc.RecursiveCharacterTextSplitter(SPLIT);
  const docs = (await splitter.createDocuments(loaded.articles.map((a) => `${a.title}\n\n${a.text}`))) as { pageContent: string }[];
  const theirs = docs.map((d) => count(d.pageContent.replace(/\n/g, ' ')));
  const inOrder = (n: number, size: number) =>
    Array.from({ length: Math.ceil(n / size) }, (_, b) => Array.from({ length: Math.min(size, n - b * size) }, (_, j) => b * size + j));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  // The local embedder runs each batch in pieces of MODEL_RUN_SIZE, each padded to its own longest.
  const modelRuns = (batches: number[][]) =>
    batches.flatMap((b) =>
      Array.from({ length: Math.ceil(b.length / MODEL_RUN_SIZE) }, (_, i) => b.slice(i * MODEL_RUN_SIZE, (i + 1) * MODEL_RUN_SIZE)),
    );
  return {
    project: {
      real: sum(ours),
      computed: paddedTokens(ours, modelRuns(lengthSortedBatches(ours, config.embedding.batchSize))),
      chunks: ours.length,
    },
    langchain: { real: sum(theirs), computed: paddedTokens(theirs, inOrder(theirs.length, 16)), chunks: theirs.length },
  };
}

interface Tokens {
  real: number;
  computed: number;
  chunks: number;
}

// ---------- table ----------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

function formatComparison(r: {
  sides: string[];
  builds: Map<string, Built[]>;
  noChange: Map<string, Built[]>;
  queries: { project: QueryTimes | null; langchain: QueryTimes | null };
  /** Null with --queries-only: then only the query rows are printed. */
  tokens: { project: Tokens; langchain: Tokens } | null;
  rounds: number;
}): string {
  const cols = r.sides;
  const label = (s: string) => (s === 'project' ? 'project' : LC_CONFIGS[s as LcConfig].label);
  const cell = (side: string, f: (b: Built[]) => string) => (r.builds.get(side) ? f(r.builds.get(side)!) : '');
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
  const tok = (t: Tokens) =>
    `${(t.computed / 1000).toFixed(0)}k / ${(t.real / 1000).toFixed(0)}k (+${((100 * t.computed) / t.real - 100).toFixed(0)}%)`;
  const tokens = r.tokens;
  const rows: string[][] = !tokens
    ? []
    : [
        ['full build, work', ...cols.map((s) => cell(s, (b) => `${median(b.map((x) => x.workSeconds)).toFixed(1)} s`))],
        ['full build, whole command', ...cols.map((s) => cell(s, (b) => `${median(b.map((x) => x.wholeSeconds)).toFixed(1)} s`))],
        [
          'seconds per 1k real tokens',
          ...cols.map((s) => {
            const t = s === 'project' ? tokens.project : tokens.langchain;
            return cell(s, (b) => ((1000 * median(b.map((x) => x.workSeconds))) / t.real).toFixed(3));
          }),
        ],
        [
          'tokens computed incl. padding / real',
          ...cols.map((s) => (s === 'project' ? tok(tokens.project) : s === 'defaults' ? '' : tok(tokens.langchain))),
        ],
        ['peak RSS, build', ...cols.map((s) => cell(s, (b) => mb(median(b.map((x) => x.peakRssBytes)))))],
        [
          'no-change update, whole command (work)',
          ...cols.map((s) => {
            const n = r.noChange.get(s);
            return n ? `${median(n.map((x) => x.wholeSeconds)).toFixed(2)} s (${median(n.map((x) => x.workSeconds)).toFixed(3)} s)` : '';
          }),
        ],
      ];
  const q = (side: 'project' | 'langchain', f: (t: QueryTimes) => string) => (r.queries[side] ? f(r.queries[side]!) : '');
  const sumP = (t: QueryTimes, p: number) =>
    pct(
      t.embed.map((e, i) => e + t.search[i]!),
      p,
    );
  const qRow = (name: string, f: (t: QueryTimes) => string) => [
    name,
    ...cols.map((s) => (s === 'project' ? q('project', f) : s === 'batch16' ? q('langchain', f) : '')),
  ];
  rows.push(
    qRow('query, embed + search, p50 / p95', (t) => `${sumP(t, 0.5).toFixed(1)} / ${sumP(t, 0.95).toFixed(1)} ms`),
    qRow('query, search only, p50 / p95', (t) => `${pct(t.search, 0.5).toFixed(2)} / ${pct(t.search, 0.95).toFixed(2)} ms`),
    qRow('dense stage alone (k 50, ef 100), p50', (t) => `${pct(t.dense50, 0.5).toFixed(2)} ms`),
  );
  return [
    `Medians of ${r.rounds} round${r.rounds === 1 ? '' : 's'}, configurations alternating; queries: ${r.queries.project?.embed.length ?? r.queries.langchain?.embed.length ?? 0} readers' questions, both embedding bge's query instruction.`,
    `Project: hybrid retrieval (article BM25, chunk BM25, dense, fusion, passages); LangChain: HNSWLib similarity search (k 6).${tokens ? ` Chunks: project ${tokens.project.chunks}, LangChain ${tokens.langchain.chunks}.` : ''}`,
    'Project\'s "search only": the whole retrieval minus the time until its query vector arrived (the lexical searches run meanwhile).',
    '',
    formatTable(['', ...cols.map(label)], rows, 'markdown'),
  ].join('\n');
}

await main();
