/**
 * Command-line entry: `start`, `index`, `ask`, `chat`, `eval`, `bench`.
 * User-caused problems end with one clear line on stderr and exit code 1, never a stack trace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from '../app.js';
import { UNCHUNKABLE } from '../chunking/index.js';
import { debugEnabled, loadConfig, secretsOf, type Config } from '../config/index.js';
import { forgetStamp, listFolder, recordStamp, statFiles, unchangedSince } from '../store/folder-stamp.js';
import type { Answer, IndexSummary } from '../types.js';
import { formatSeconds } from '../util/format.js';
import { errorMessage, MassDeleteError, UserError } from '../util/errors.js';
import { appendToFile, createLogger, type Logger } from '../util/log.js';
import { likelyMeant } from '../util/text.js';
import { parseCommandArgs } from './args.js';
import { runChat } from './chat.js';
import { formatAnswerText, formatServing, formatSummary, llmFailureNote, shownPath } from './format.js';
import { InterruptGuard } from './interrupt.js';
import { commandHelp, USAGE } from './help.js';
import { progressPrinter } from './progress.js';

/** Every command `main` knows. */
const COMMANDS = ['start', 'index', 'ask', 'chat', 'worker', 'gaps', 'eval', 'bench'];

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
  // Imported here, not at the top: a no-change `index` answers without the app's modules (the model runtime among them).
  const { createApp } = await import('../app.js');
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

/** The option every command that indexes takes: confirms removing most of the index. */
const MASS_DELETE_OPTION = { 'allow-mass-delete': { type: 'boolean', default: false } } as const;

/** Warns when npm kept a flag given without `--` (it sets npm_config_<flag> and drops it). */
function warnSwallowed(flag: string, given: boolean, consequence: string): void {
  if (given || process.env[`npm_config_${flag.replaceAll('-', '_')}`] === undefined) return;
  process.stderr.write(`Warning: npm took --${flag} for itself, so ${consequence}. Put it after \`--\` (npm run index -- --${flag}).\n`);
}

/**
 * Brings the index in line with ARTICLES_DIR before serving (start, chat, ask): what is served is
 * what the folder holds. Reports an index built from another folder in one line, a rebuild, any
 * change, and (with `banner`) the folder, article count and newest date. Returns an exit code when
 * Ctrl-C or SIGTERM stopped the sync (its one line printed), else null.
 */
async function syncIndex(app: App, options: { allowMassDelete: boolean; banner: boolean }): Promise<number | null> {
  const { publishedIndex } = await import('../library/index.js');
  const { assertArticlesFolder } = await import('../articles/index.js');
  const { library } = app;
  const folder = shownPath(app.config.articlesDir);
  // A missing folder stops the command with its one line, before any line about syncing with it.
  assertArticlesFolder(app.config.articlesDir);
  const from = publishedIndex(app.config.indexDir);
  if (from?.articlesDir && from.articlesDir !== path.resolve(app.config.articlesDir)) {
    process.stderr.write(
      `The index holds ${from.articles} article${from.articles === 1 ? '' : 's'} from ${shownPath(from.articlesDir)}, not ARTICLES_DIR; syncing it with ${folder}.\n`,
    );
  }
  const progress = progressPrinter(process.stderr);
  const sync = (signal: AbortSignal) =>
    library.sync({ allowMassDelete: options.allowMassDelete, onProgress: progress, signal }).finally(progress.clear);
  const outcome = await new InterruptGuard(() => publishedIndex(app.config.indexDir)?.articles ?? null).run(
    sync,
    (r) => r.summary?.articles ?? library.stats().articles,
  );
  if ('exitCode' in outcome) return outcome.exitCode;
  const { summary, problem, notSynced } = outcome.value;
  if (problem) process.stderr.write(`${problem} Rebuilt it from the articles.\n`);
  if (notSynced) process.stderr.write(`Serving the index as it is, not synced with ${folder}: ${notSynced}.\n`);
  if (summary && (problem || summary.added + summary.changed + summary.removed > 0)) process.stderr.write(formatSummary(summary) + '\n');
  if (options.banner) process.stderr.write(formatServing(library.stats(), folder, summary?.skipped.length ?? 0) + '\n');
  return null;
}

async function cmdIndex(config: Config, logger: Logger, argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('index', {
    args: argv,
    options: { full: { type: 'boolean', default: false }, feeds: { type: 'boolean', default: false }, ...MASS_DELETE_OPTION },
    allowPositionals: false,
  });
  // `npm run index --full` (no `--`) hands --full to npm, which sets npm_config_full and drops it.
  if (!values.full && process.env.npm_config_full !== undefined) {
    process.stderr.write(
      'Warning: npm took --full for itself, so this is an incremental index. Use `npm run index -- --full` or `npm run reindex`.\n',
    );
  }
  warnSwallowed('allow-mass-delete', values['allow-mass-delete'], 'a run that removes most articles is still refused');
  const progress = progressPrinter(process.stderr);
  // Checked before anything heavy is loaded: when no file changed, the recorded outcome is the answer.
  const stamp = values.feeds ? null : folderStamp(config);
  const unchanged = values.full ? null : stamp?.unchanged();
  if (unchanged) {
    process.stdout.write(
      `${formatSummary(unchanged)}\nNothing changed: every file has the size and time it had at the last run.\n${wholeCommand()}\n`,
    );
    return 0;
  }
  // Loaded only now: the library brings the article parsers and the index's native modules.
  const { publishedIndex } = await import('../library/index.js');
  // Watching signals from here: Ctrl-C while the model loads ends at once with the same one line.
  const interrupts = new InterruptGuard(() => publishedIndex(config.indexDir)?.articles ?? null);
  try {
    const app = await buildApp(config, logger);
    try {
      if (values.feeds) {
        // Polling writes article files as it goes: signals keep their default action here.
        interrupts.dispose();
        const { indexFeeds } = await import('./feeds.js');
        await indexFeeds(app, logger, progress).finally(progress.clear);
        return 0;
      }
      const reindex = (signal: AbortSignal) =>
        app.library
          .reindex({ full: values.full, allowMassDelete: values['allow-mass-delete'], onProgress: progress, signal })
          .finally(progress.clear);
      stamp?.forget();
      const outcome = await interrupts.run(reindex, (summary) => summary.articles);
      if ('exitCode' in outcome) return outcome.exitCode;
      stamp?.record(outcome.value);
      process.stdout.write(`${formatSummary(outcome.value)}\n${wholeCommand()}\n`);
      return 0;
    } finally {
      app.close();
    }
  } finally {
    interrupts.dispose();
  }
}

/**
 * The no-change shortcut of `index` (see src/store/folder-stamp.ts), or null where it does not
 * apply (PostgreSQL mode: the index is not in INDEX_DIR). The folder is listed before the run, so
 * a file changed while it runs is seen by the next one.
 */
function folderStamp(config: Config) {
  if (config.database.url) return null;
  const started = performance.now();
  const articlesDir = path.resolve(config.articlesDir);
  // The index also holds the stored sources (chat and feed articles, STATE_DIR/sources): a change there is a change too.
  const folder = listFolder(articlesDir);
  const sourcesDir = path.join(config.stateDir, 'sources');
  const sources = fs.existsSync(sourcesDir)
    ? listFolder(sourcesDir).files.map(([rel, size, mtime]): [string, number, number] => [`\0sources/${rel}`, size, mtime])
    : [['\0sources: none', 0, 0] as [string, number, number]];
  const listing = { at: folder.at, files: [...folder.files, ...sources] };
  const fingerprint = JSON.stringify({
    embedding: config.embedding,
    chunking: config.chunking,
    hnsw: config.hnsw,
    maxFileBytes: config.intake.maxUploadBytes,
    // The loader, chunker and store are code: an update to them must compare everything once.
    code: listFolder(CODE_DIR, { trustRecent: true }).files,
    dependencies: statFiles([path.join(CODE_DIR, '..', 'package-lock.json')]),
  });
  const key = { fingerprint, articlesDir, listing };
  return {
    /** The recorded outcome, with this run's time, when nothing changed. */
    unchanged: (): IndexSummary | null => {
      const recorded = unchangedSince(config.indexDir, key);
      return recorded ? { ...recorded, seconds: (performance.now() - started) / 1000 } : null;
    },
    forget: () => forgetStamp(config.indexDir),
    /**
     * Records what the next run reports when nothing changes: every article unchanged. A run
     * without the configured model (it failed to load) or with articles the chunker could not split
     * is not recorded: the next run tries those again, as the full comparison does.
     */
    record: (summary: IndexSummary) => {
      const retried = summary.skipped.some((s) => s.reason.startsWith(UNCHUNKABLE));
      const repeatable = !retried && summary.dense === (config.embedding.provider !== 'none');
      const noChange = { ...summary, added: 0, changed: 0, removed: 0, unchanged: summary.articles };
      recordStamp(config.indexDir, { ...key, summary: noChange, repeatable });
    },
  };
}

const CODE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The whole command's time: Node's start-up and module loading included, not only the indexing. */
function wholeCommand(): string {
  return `Whole command: ${formatSeconds(performance.now() / 1000)} since Node started.`;
}

async function cmdAsk(config: Config, logger: Logger, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('ask', {
    args: argv,
    options: { json: { type: 'boolean', default: false }, ...MASS_DELETE_OPTION },
    allowPositionals: true,
  });
  const question = positionals.join(' ').trim();
  if (!question) throw new UserError('Give a question: npm run ask -- "Who is Kolokoltsev meeting at the UN?"');
  const app = await buildApp(config, logger);
  try {
    // A one-shot answer from a stale or another folder's index is the same trap as a session's; a no-change sync costs a folder read.
    const interrupted = await syncIndex(app, { allowMassDelete: values['allow-mass-delete'], banner: false });
    if (interrupted !== null) return interrupted;
    await app.desk.start();
    let answer: Answer;
    try {
      answer = await app.answerer.ask(question, []);
    } catch (err) {
      await app.desk.record({ text: question, outcome: 'failed', chatType: 'terminal' });
      throw err;
    }
    await app.desk.record({ text: question, outcome: 'answered', chatType: 'terminal', answer });
    const note = llmFailureNote(answer, app.config.llm);
    if (note) process.stderr.write(`${note}\n`);
    process.stdout.write(
      (values.json ? JSON.stringify(answer, null, 2) : formatAnswerText(answer, (id) => app.library.articleLocation(id))) + '\n',
    );
    return 0;
  } finally {
    app.close();
  }
}

async function cmdChat(config: Config, logger: Logger, argv: string[], note?: string): Promise<number> {
  const { values } = parseCommandArgs('chat', { args: argv, options: MASS_DELETE_OPTION, allowPositionals: false });
  const app = await buildApp(config, logger);
  try {
    const interrupted = await syncIndex(app, { allowMassDelete: values['allow-mass-delete'], banner: true });
    if (interrupted !== null) return interrupted;
    if (note) process.stderr.write(note + '\n');
    await app.desk.start();
    app.library.follow();
    await runChat(app, process.stdin, process.stdout);
    return 0;
  } finally {
    app.close();
  }
}

async function cmdStart(config: Config, logger: Logger, argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('start', { args: argv, options: MASS_DELETE_OPTION, allowPositionals: false });
  if (!config.telegram.token) {
    const mode = config.llm.apiKey || config.llm.baseURL ? '' : ' Answers are extractive until OPENAI_API_KEY (or OPENAI_BASE_URL) is set.';
    return cmdChat(
      config,
      logger,
      argv,
      `No TELEGRAM_BOT_TOKEN set: starting the terminal chat. Put a token from @BotFather in .env to run the Telegram bot.${mode}`,
    );
  }
  const { runBot } = await import('./bot.js');
  const app = await buildApp(config, logger);
  const interrupted = await syncIndex(app, { allowMassDelete: values['allow-mass-delete'], banner: true }).catch((err: unknown) => {
    app.close();
    throw err;
  });
  if (interrupted !== null) {
    app.close();
    return interrupted;
  }
  await app.desk.start();
  return runBot(app, logger);
}

async function main(): Promise<number> {
  const [command = 'start', ...rest] = process.argv.slice(2);
  if (command === '--help' || command === 'help' || command === '-h' || (!OWN_HELP.has(command) && wantsHelp(rest))) {
    process.stdout.write(commandHelp(command === '--help' || command === 'help' || command === '-h' ? undefined : command) + '\n');
    return 0;
  }
  const config = loadConfig();
  // Workers are services like the bot: their lines (batches done) go to stderr, the service's log.
  const logger = commandLogger(config, (command === 'start' && config.telegram.token !== undefined) || command === 'worker');
  switch (command) {
    case 'start':
      return cmdStart(config, logger, rest);
    case 'index':
      return cmdIndex(config, logger, rest);
    case 'ask':
      return cmdAsk(config, logger, rest);
    case 'chat':
      return cmdChat(config, logger, rest);
    case 'worker': {
      parseCommandArgs('worker', { args: rest, options: {}, allowPositionals: false });
      const { runWorkerCommand } = await import('./worker.js');
      return runWorkerCommand(config, logger);
    }
    case 'gaps': {
      const { runGaps } = await import('./gaps.js');
      return runGaps(config, logger, rest);
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
      process.stderr.write(unknownCommand(command));
      return 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof MassDeleteError) {
      process.stderr.write(
        `${err.message} If the removal is intended, run again with --allow-mass-delete (${confirmCommand(process.argv[2])}).\n`,
      );
    } else if (err instanceof UserError) {
      process.stderr.write(`${err.message}\n`);
    } else {
      process.stderr.write(`Unexpected error: ${errorMessage(err)}\n`);
      if (debugEnabled()) console.error(err);
      else process.stderr.write('Set DEBUG=1 to see where it happened.\n');
    }
    process.exitCode = 1;
  },
);

/** The lines for an unknown command: the one probably meant, or the general usage. */
function unknownCommand(command: string): string {
  const meant = likelyMeant(command, COMMANDS);
  return meant
    ? `Unknown command "${command}". Did you mean ${meant}? (npx newsdesk --help)\n`
    : `Unknown command "${command}".\n${USAGE}\n`;
}

/** The npm form of the command that was refused, with the flag that confirms it. */
function confirmCommand(command: string | undefined): string {
  if (command === 'start') return 'npm start -- --allow-mass-delete';
  if (command === 'chat' || command === 'ask') return `npm run ${command} -- --allow-mass-delete`;
  return 'npm run index -- --allow-mass-delete';
}
