/**
 * The Telegram front end over `QuestionAnswerer` and `Library`.
 *
 * `createBot` wires everything in one place, top to bottom: API transformers,
 * the gates every update passes (shutdown tracking, addressed-to-me, allowlist,
 * rate limit, per-chat ordering), then one line per command, button and message
 * kind, then the error boundary. `start` runs long polling (or a webhook) and
 * `stop` shuts down gracefully.
 */
import { autoRetry } from '@grammyjs/auto-retry';
import { run, sequentialize, type RunnerHandle } from '@grammyjs/runner';
import { Bot, BotError, GrammyError, HttpError, type Api, type Transformer } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import type http from 'node:http';
import type { Config } from '../config/index.js';
import type { Library, QuestionAnswerer } from '../types.js';
import { UserError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { ADMIN_COMMANDS, adminOnly, addDocument, addUrl, reindex, remove, stats } from './admin.js';
import { help, nonText, PUBLIC_COMMANDS, reset, sources, staleButton, start, turnSourcesPage, unknownCommand } from './commands.js';
import { ConversationStore } from './conversations.js';
import { DEFAULT_TUNING, type BotDeps, type BotTuning } from './deps.js';
import { errorFields, redactingLogger } from './logging.js';
import { allowlist, chatKey, handleError, onlyAddressed, rateLimit, trackUpdates } from './middleware.js';
import { question } from './questions.js';
import { QuoteStore, showQuotes } from './quotes.js';
import { RateLimiter } from './ratelimit.js';
import { Counters, openStateDb } from './state.js';
import { TaskTracker } from './tasks.js';
import { startWebhookServer } from './webhook.js';

export type { BotTuning } from './deps.js';

/** What `createBot` needs; `tuning` is for tests and is normally left out. */
export interface CreateBotOptions {
  token: string;
  config: Config['telegram'];
  stateDir: string;
  answerer: QuestionAnswerer;
  library: Library;
  logger: Logger;
  /** Values masked in every log line (the token is always added). */
  secrets: string[];
  tuning?: Partial<BotTuning>;
}

/** Why the bot stopped taking updates. */
export type StopReason = 'stopped' | 'conflict' | 'unauthorized' | 'failed';

/** A created bot and its lifecycle. */
export interface BotHandle {
  bot: Bot;
  /**
   * Connects (getMe, commands menu), then runs long polling, or the webhook server when
   * configured, until the bot stops (like grammY's `bot.start()`). Rejects only when startup fails.
   */
  start(): Promise<void>;
  /** Resolves once updates are being received (after `start()` has connected). */
  ready: Promise<void>;
  /** Stops taking updates, waits (bounded) for answers in progress, and closes the state database. */
  stop(): Promise<void>;
  /** Settles when the bot has stopped for good: `stop()`, or polling ended by Telegram (409 conflict, 401). */
  finished: Promise<StopReason>;
}

const ALLOWED_UPDATES = ['message', 'callback_query'] as const;

/** Builds the bot: middleware, handlers and persistent state; nothing touches the network until `start()`. */
export function createBot(options: CreateBotOptions): BotHandle {
  const { config } = options;
  const tuning: BotTuning = { ...DEFAULT_TUNING, ...options.tuning };
  const log = redactingLogger(options.logger, [options.token, ...options.secrets]);
  const apiRoot = config.apiRoot?.replace(/\/+$/, '');
  const bot = new Bot(options.token, apiRoot ? { client: { apiRoot } } : {});
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60, rethrowHttpErrors: true }));
  bot.api.config.use(logPollingErrors(log));

  const state = openStateDb(options.stateDir);
  const deps: BotDeps = {
    config,
    answerer: options.answerer,
    library: options.library,
    log,
    conversations: new ConversationStore(state, { ttlMs: config.conversationTtlMinutes * 60_000, maxTurns: tuning.historyTurns }),
    quotes: new QuoteStore(state, tuning.quoteTtlMs),
    counters: new Counters(state),
    tuning,
    files: { apiRoot: apiRoot ?? 'https://api.telegram.org', token: options.token, timeoutMs: Math.max(config.fetchTimeoutMs, 60_000) },
    jobs: new TaskTracker(),
    startedAt: Date.now(),
    answeredSinceStart: 0,
    reindexing: null,
  };
  const updates = new TaskTracker();
  const requireAdmin = adminOnly(deps);

  // Gates, outermost first.
  bot.use(trackUpdates(updates));
  bot.use(onlyAddressed(log));
  bot.use(allowlist(deps));
  bot.use(rateLimit(new RateLimiter(config.rateLimitPerMinute), config.rateLimitPerMinute, log));
  bot.use(sequentialize(chatKey));

  // Commands for everyone.
  bot.command('start', (ctx) => start(ctx, deps));
  bot.command('help', (ctx) => help(ctx, deps));
  bot.command('sources', (ctx) => sources(ctx, deps));
  bot.command('reset', (ctx) => reset(ctx, deps));

  // Admin commands (the id is checked on every call).
  bot.command('reindex', requireAdmin, (ctx) => reindex(ctx, deps));
  bot.command('add', requireAdmin, (ctx) => addUrl(ctx, deps));
  bot.command('remove', requireAdmin, (ctx) => remove(ctx, deps));
  bot.command('stats', requireAdmin, (ctx) => stats(ctx, deps));

  // Buttons.
  bot.callbackQuery(/^q:/, (ctx) => showQuotes(ctx, deps));
  // At most 9 digits: a forged huge offset would overflow SQLite's OFFSET; it falls through to staleButton.
  bot.callbackQuery(/^s:\d{1,9}$/, (ctx) => turnSourcesPage(ctx, deps));
  bot.on('callback_query', staleButton);

  // Messages: uploads, unknown commands, questions, and everything else.
  bot.on('message:document', (ctx) => addDocument(ctx, deps));
  bot.on('message:text', unknownCommand, (ctx) => question(ctx, deps));
  bot.on('message', nonText);

  bot.catch(handleError(log));

  let runner: RunnerHandle | undefined;
  let webhookServer: http.Server | undefined;
  let stopping: Promise<void> | undefined;
  let settle: (reason: StopReason) => void = () => undefined;
  const finished = new Promise<StopReason>((resolve) => (settle = resolve));
  let markReady: () => void = () => undefined;
  let failReady: (err: unknown) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  // Callers that only await start() must not see an unhandled rejection from `ready`.
  ready.catch(() => undefined);

  async function shutdown(reason: StopReason): Promise<void> {
    try {
      if (runner?.isRunning()) await runner.stop();
    } catch (err) {
      log.warn('polling_stop_failed', { error: errorFields(err) });
    }
    if (webhookServer) await new Promise<void>((resolve) => webhookServer!.close(() => resolve()));
    const deadline = Date.now() + tuning.shutdownTimeoutMs;
    const answered = await updates.drain(tuning.shutdownTimeoutMs);
    const jobsDone = await deps.jobs.drain(Math.max(0, deadline - Date.now()));
    if (!answered || !jobsDone) log.warn('shutdown_timeout', { pending_updates: updates.size, pending_jobs: deps.jobs.size });
    state.close();
    log.info('bot_stopped', { reason });
    settle(reason);
  }

  function stop(reason: StopReason = 'stopped'): Promise<void> {
    stopping ??= shutdown(reason);
    return stopping;
  }

  function onPollingEnded(err: unknown): void {
    const code = err instanceof GrammyError ? err.error_code : undefined;
    if (code === 409) {
      log.error('polling_conflict', {
        message: 'Telegram reports another instance polling with this bot token (409 Conflict); this one stops. Run a single instance.',
      });
      void stop('conflict');
    } else if (code === 401) {
      log.error('token_rejected', { message: 'Telegram rejected the bot token (401); check TELEGRAM_BOT_TOKEN.' });
      void stop('unauthorized');
    } else {
      log.error('polling_failed', { error: errorFields(err) });
      void stop('failed');
    }
  }

  async function startBot(): Promise<void> {
    try {
      await connect();
    } catch (err) {
      failReady(err);
      // Close whatever connect() opened (webhook server, state database), or the process would hang.
      await stop('failed');
      throw err;
    }
    markReady();
    await finished;
  }

  async function connect(): Promise<void> {
    if (runner || webhookServer) throw new Error('This bot is already running.');
    if (stopping) throw new Error('This bot has been stopped; create a new one.');
    bot.botInfo = await identify(bot.api, apiRoot ?? 'https://api.telegram.org', log);
    await registerCommands(bot.api, config.adminUserIds, log);
    if (config.webhookUrl) {
      if (!config.webhookSecret) throw new Error('WEBHOOK_SECRET must be set when WEBHOOK_URL is set.');
      webhookServer = await startWebhookServer({
        host: tuning.webhookHost,
        port: config.webhookPort,
        path: new URL(config.webhookUrl).pathname || '/',
        secret: config.webhookSecret,
        log,
        onUpdate: (update) => {
          // Polling hands middleware errors to bot.catch itself; here that is our job.
          bot.handleUpdate(update).catch(async (err: unknown) => {
            if (err instanceof BotError) await bot.errorHandler(err);
            else log.error('update_failed', { update_id: update.update_id, error: errorFields(err) });
          });
        },
      });
      await bot.api.setWebhook(config.webhookUrl, { secret_token: config.webhookSecret, allowed_updates: [...ALLOWED_UPDATES] });
    } else {
      // A webhook left over from an earlier deployment would make every getUpdates fail.
      await bot.api.deleteWebhook().catch((err: unknown) => log.warn('delete_webhook_failed', { error: errorFields(err) }));
      runner = run(bot, { runner: { fetch: { timeout: 30, allowed_updates: [...ALLOWED_UPDATES] }, silent: true } });
      runner.task()?.catch(onPollingEnded);
    }
    log.info('bot_started', { username: bot.botInfo.username, mode: config.webhookUrl ? 'webhook' : 'polling' });
  }

  return { bot, start: startBot, ready, stop: () => stop('stopped'), finished };
}

/**
 * Asks Telegram who the bot is (getMe), retrying network failures briefly. grammY's own
 * `bot.init()` retries forever, which would turn a wrong API root into a silent hang.
 */
async function identify(api: Api, apiRoot: string, log: Logger): Promise<UserFromGetMe> {
  const pauses = [500, 1500];
  for (let attempt = 0; ; attempt++) {
    try {
      return await api.getMe();
    } catch (err) {
      if (err instanceof GrammyError && err.error_code === 401) throw new UserError('Telegram rejected the bot token (401); check TELEGRAM_BOT_TOKEN.');
      const pause = pauses[attempt];
      if (!(err instanceof HttpError)) throw err;
      if (pause === undefined) throw new UserError(`Could not reach the Telegram Bot API at ${apiRoot}; check the network or TELEGRAM_API_ROOT.`);
      log.warn('telegram_unreachable', { attempt: attempt + 1, error: errorFields(err) });
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/** Publishes the command menu: public commands for everyone, plus admin commands in each admin's chat. Failures are logged only. */
async function registerCommands(api: Api, adminIds: readonly number[], log: Logger): Promise<void> {
  try {
    await api.setMyCommands(PUBLIC_COMMANDS);
  } catch (err) {
    log.warn('set_commands_failed', { scope: 'default', error: errorFields(err) });
  }
  for (const id of adminIds) {
    try {
      await api.setMyCommands([...PUBLIC_COMMANDS, ...ADMIN_COMMANDS], { scope: { type: 'chat', chat_id: id } });
    } catch (err) {
      // Usually the admin has not opened a chat with the bot yet; the commands still work when typed.
      log.warn('set_commands_failed', { scope: 'admin', user_id: id, error: errorFields(err) });
    }
  }
}

/** Logs failed getUpdates calls that polling will retry (409 and 401 end polling and are reported once, elsewhere). */
function logPollingErrors(log: Logger): Transformer {
  return async (prev, method, payload, signal) => {
    if (method !== 'getUpdates') return prev(method, payload, signal);
    try {
      const res = await prev(method, payload, signal);
      if (!res.ok && res.error_code !== 409 && res.error_code !== 401) {
        log.warn('polling_error', { code: res.error_code, description: res.description });
      }
      return res;
    } catch (err) {
      if (!signal?.aborted) log.warn('polling_error', { error: errorFields(err) });
      throw err;
    }
  };
}
