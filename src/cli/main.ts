/**
 * Command-line entry: `start`, `index`, `ask`, `chat`, `eval`, `bench`.
 * User-caused problems end with one clear line on stderr and exit code 1, never a stack trace.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApp, type App } from '../app.js';
import { loadConfig, secretsOf, type Config } from '../config/index.js';
import { errorMessage, UserError } from '../util/errors.js';
import { appendToFile, createLogger, type Logger } from '../util/log.js';
import { runChat } from './chat.js';
import { formatAnswerText, formatSummary } from './format.js';
import { progressPrinter } from './progress.js';

const USAGE = `Usage (npm run <command> -- <options>, or npx newsdesk <command> <options>):
  npm start                      run the Telegram bot (TELEGRAM_BOT_TOKEN set) or the terminal chat
  npm run index [-- --full]      index the articles folder (incremental; --full rebuilds)
  npm run index -- --feeds       poll every feed (FEED_URLS, /feed add) once and index what is new
  npm run reindex                rebuild the whole index (same as index -- --full)
  npm run ask -- "question" [--json]
  npm run chat                   terminal chat with follow-ups (/help, /reset, /sources, /quit)
  npm run worker                 embedding worker: takes embedding work from PostgreSQL (DATABASE_URL)
  npm run eval [-- --help]       retrieval and answer evaluation
  npm run bench [-- --quick]     performance benchmark
Every command takes --help (-h).

Semantic search needs the embedding model (EMBEDDING_MODEL, default Xenova/bge-small-en-v1.5, about
34 MB). It downloads into MODEL_CACHE_DIR on first use. Without internet, copy the model's folder
(config.json, tokenizer.json, tokenizer_config.json, onnx/model_quantized.onnx) to
LOCAL_MODEL_DIR/<model id>/ (with ALLOW_REMOTE_MODELS=false nothing is downloaded). Until the model
loads, every command says "lexical-only search" once and answers from keyword (BM25) search; run
the index again once the model is there, and the index is rebuilt with vectors.

JSON log lines go to STATE_DIR/newsdesk.log for these commands (the Telegram bot: stderr); see LOG_FILE.`;

/** Commands whose own parser prints a detailed help text for --help / -h. */
const OWN_HELP = new Set(['eval', 'bench']);

/** True when the arguments ask for help (before any `--` that ends the options). */
function wantsHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/**
 * Where JSON log lines go. The bot's stderr is its service log. A terminal command's stderr is for
 * people (progress, one-line notes), so its log lines are appended to STATE_DIR/newsdesk.log,
 * unless LOG_FILE names another file or `-` (stderr).
 */
function commandLogger(config: Config, runsBot: boolean): Logger {
  const target = config.logFile ?? (runsBot ? '-' : path.join(config.stateDir, 'newsdesk.log'));
  if (target === '-') return createLogger(config.logLevel, secretsOf(config));
  return createLogger(
    config.logLevel,
    secretsOf(config),
    appendToFile(target, (m) => process.stderr.write(`Note: ${m}\n`)),
  );
}

async function buildApp(config: Config, logger: Logger): Promise<App> {
  let firstEvent = 0;
  let lastReport = 0;
  const app = await createApp(config, logger, (p) => {
    const now = Date.now();
    firstEvent ||= now;
    // A cached or local model reports the same "download" events, all within milliseconds: saying
    // "Downloading" on every command would be noise. Only a load still going after a moment is one.
    if (now - firstEvent < 1500) return;
    // Downloads happen once per model; a line every few seconds is enough to show it is alive.
    if ((p.status === 'done' && lastReport > 0) || now - lastReport > 2000) {
      lastReport = now;
      const pct = p.total ? ` ${Math.floor((100 * p.loaded) / p.total)}%` : '';
      process.stderr.write(`Downloading ${config.embedding.model}: ${p.file}${p.status === 'done' ? ' done' : pct}\n`);
    }
  });
  if (app.embedderWarning) process.stderr.write(`Note: ${app.embedderWarning}\n`);
  if (app.rerankerWarning) process.stderr.write(`Note: ${app.rerankerWarning}\n`);
  return app;
}

/** Opens the index, building it first when `index-data/` is empty or damaged. */
async function ensureIndex(app: App): Promise<void> {
  const progress = progressPrinter(process.stderr);
  const { built, problem } = await app.library.ensure(progress).finally(progress.clear);
  if (problem) process.stderr.write(`${problem} Rebuilt it from the articles.\n`);
  if (built) process.stderr.write(formatSummary(built) + '\n');
}

async function cmdIndex(config: Config, logger: Logger, argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { full: { type: 'boolean', default: false }, feeds: { type: 'boolean', default: false } },
    allowPositionals: false,
  });
  // `npm run index --full` (no `--`) hands --full to npm, which sets npm_config_full and drops it.
  if (!values.full && process.env.npm_config_full !== undefined) {
    process.stderr.write(
      'Warning: npm took --full for itself, so this is an incremental index. Use `npm run index -- --full` or `npm run reindex`.\n',
    );
  }
  const app = await buildApp(config, logger);
  try {
    const progress = progressPrinter(process.stderr);
    if (values.feeds) {
      const { indexFeeds } = await import('./feeds.js');
      return await indexFeeds(app, logger, progress).finally(progress.clear);
    }
    const summary = await app.library.reindex({ full: values.full === true, onProgress: progress }).finally(progress.clear);
    process.stdout.write(formatSummary(summary) + '\n');
  } finally {
    app.close();
  }
}

async function cmdAsk(config: Config, logger: Logger, argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } }, allowPositionals: true });
  const question = positionals.join(' ').trim();
  if (!question) throw new UserError('Give a question: npm run ask -- "Who is Kolokoltsev meeting at the UN?"');
  const app = await buildApp(config, logger);
  try {
    await ensureIndex(app);
    const answer = await app.answerer.ask(question, []);
    process.stdout.write(
      (values.json ? JSON.stringify(answer, null, 2) : formatAnswerText(answer, (id) => app.library.articleLocation(id))) + '\n',
    );
  } finally {
    app.close();
  }
}

async function cmdChat(config: Config, logger: Logger, note?: string): Promise<void> {
  const app = await buildApp(config, logger);
  try {
    await ensureIndex(app);
    if (note) process.stderr.write(note + '\n');
    app.library.follow();
    await runChat(app, process.stdin, process.stdout);
  } finally {
    app.close();
  }
}

async function cmdStart(config: Config, logger: Logger): Promise<number> {
  if (!config.telegram.token) {
    const mode = config.llm.apiKey || config.llm.baseURL ? '' : ' Answers are extractive until OPENAI_API_KEY (or OPENAI_BASE_URL) is set.';
    await cmdChat(
      config,
      logger,
      `No TELEGRAM_BOT_TOKEN set: starting the terminal chat. Put a token from @BotFather in .env to run the Telegram bot.${mode}`,
    );
    return 0;
  }
  const { runBot } = await import('./bot.js');
  const app = await buildApp(config, logger);
  await ensureIndex(app);
  return runBot(app, logger);
}

async function main(): Promise<number> {
  const [command = 'start', ...rest] = process.argv.slice(2);
  if (command === '--help' || command === 'help' || command === '-h' || (!OWN_HELP.has(command) && wantsHelp(rest))) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const config = loadConfig();
  // Workers are services like the bot: their lines (batches done) go to stderr, the service's log.
  const logger = commandLogger(config, (command === 'start' && config.telegram.token !== undefined) || command === 'worker');
  switch (command) {
    case 'start':
      return cmdStart(config, logger);
    case 'index':
      await cmdIndex(config, logger, rest);
      return 0;
    case 'ask':
      await cmdAsk(config, logger, rest);
      return 0;
    case 'chat':
      await cmdChat(config, logger);
      return 0;
    case 'worker': {
      const { runWorkerCommand } = await import('./worker.js');
      return runWorkerCommand(config, logger);
    }
    case 'eval': {
      const { runEval } = await import('./eval.js');
      return runEval(config, logger, rest);
    }
    case 'bench': {
      const { runBench } = await import('./bench.js');
      return runBench(config, logger, rest);
    }
    default:
      process.stderr.write(`Unknown command "${command}".\n${USAGE}\n`);
      return 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UserError) {
      process.stderr.write(`${err.message}\n`);
    } else if (err instanceof TypeError && /parseArgs|Unknown option/i.test(String(err.message))) {
      process.stderr.write(`${err.message}\n${USAGE}\n`);
    } else {
      process.stderr.write(`Unexpected error: ${errorMessage(err)}\n`);
      if (process.env.DEBUG) console.error(err);
    }
    process.exitCode = 1;
  },
);
