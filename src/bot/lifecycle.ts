/**
 * Running a built bot: connect (getMe, command menus), then long polling through grammY's
 * runner or the webhook server, until `stop()` or Telegram ends polling; stopping waits
 * (bounded) for answers and background jobs in progress, then closes the state database.
 */
import { type RunnerHandle, run } from '@grammyjs/runner';
import { type Api, type Bot, BotError, GrammyError, HttpError, type Transformer } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import type http from 'node:http';
import type { Routes } from '../observability/http.js';
import { UserError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { BotDeps } from './deps.js';
import { registerCommands } from './menu.js';
import { errorFields } from './logging.js';
import type { BotState } from './stores.js';
import type { TaskTracker } from './tasks.js';
import { startWebhookServer } from './webhook.js';

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

/** What the lifecycle runs and shuts down. */
export interface LifecycleParts {
  bot: Bot;
  deps: BotDeps;
  /** Updates being handled (shutdown waits for them). */
  updates: TaskTracker;
  state: Pick<BotState, 'close'>;
  /** The Bot API root, without a trailing slash. */
  apiRoot: string;
  /** Background work that runs while the bot runs (feed polling, alert delivery); stopped before the state closes. */
  services?: { start(): void; stop(): Promise<void> }[];
  /** Extra paths the webhook server answers (/healthz, /readyz, /metrics). */
  routes?: Routes;
}

const ALLOWED_UPDATES = ['message', 'callback_query', 'inline_query'] as const;

/** Starts and stops one bot; see `BotHandle`. */
export class BotLifecycle {
  readonly ready: Promise<void>;
  readonly finished: Promise<StopReason>;
  private runner: RunnerHandle | undefined;
  private webhookServer: http.Server | undefined;
  private stopping: Promise<void> | undefined;
  private settle: (reason: StopReason) => void = () => undefined;
  private markReady: () => void = () => undefined;
  private failReady: (err: unknown) => void = () => undefined;

  constructor(private readonly parts: LifecycleParts) {
    this.finished = new Promise<StopReason>((resolve) => {
      this.settle = resolve;
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.failReady = reject;
    });
    // Callers that only await start() must not see an unhandled rejection from `ready`.
    this.ready.catch(() => undefined);
  }

  /** The public handle over this lifecycle. */
  handle(): BotHandle {
    return { bot: this.parts.bot, start: () => this.start(), ready: this.ready, stop: () => this.stop('stopped'), finished: this.finished };
  }

  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      this.failReady(err);
      // Close whatever connect() opened (webhook server, state database), or the process would hang.
      await this.stop('failed');
      throw err;
    }
    this.markReady();
    await this.finished;
  }

  stop(reason: StopReason): Promise<void> {
    this.stopping ??= this.shutdown(reason);
    return this.stopping;
  }

  private async connect(): Promise<void> {
    if (this.runner || this.webhookServer) throw new Error('This bot is already running.');
    if (this.stopping) throw new Error('This bot has been stopped; create a new one.');
    const { bot, deps, apiRoot } = this.parts;
    bot.botInfo = await identify(bot.api, apiRoot, deps.log);
    await registerCommands(bot.api, deps.config.adminUserIds, deps.log);
    const { webhookUrl } = deps.config;
    if (webhookUrl) await this.startWebhook(webhookUrl);
    else await this.startPolling();
    for (const service of this.parts.services ?? []) service.start();
    deps.log.info('bot.started', { username: bot.botInfo.username, mode: webhookUrl ? 'webhook' : 'polling' });
  }

  private async startWebhook(url: string): Promise<void> {
    const { bot, deps } = this.parts;
    const secret = deps.config.webhookSecret;
    if (!secret) throw new Error('WEBHOOK_SECRET must be set when WEBHOOK_URL is set.');
    this.webhookServer = await startWebhookServer({
      host: deps.config.webhookHost,
      port: deps.config.webhookPort,
      path: new URL(url).pathname || '/',
      secret,
      log: deps.log,
      ...(this.parts.routes ? { routes: this.parts.routes } : {}),
      onUpdate: (update) => {
        // Polling hands middleware errors to bot.catch itself; here that is our job.
        bot.handleUpdate(update).catch(async (err: unknown) => {
          if (err instanceof BotError) await bot.errorHandler(err);
          else deps.log.error('bot.update_failed', { update_id: update.update_id, error: errorFields(err) });
        });
      },
    });
    await bot.api.setWebhook(url, { secret_token: secret, allowed_updates: [...ALLOWED_UPDATES] });
  }

  private async startPolling(): Promise<void> {
    const { bot, deps } = this.parts;
    // A webhook left over from an earlier deployment would make every getUpdates fail.
    await bot.api.deleteWebhook().catch((err: unknown) => deps.log.warn('bot.delete_webhook_failed', { error: errorFields(err) }));
    this.runner = run(bot, { runner: { fetch: { timeout: 30, allowed_updates: [...ALLOWED_UPDATES] }, silent: true } });
    this.runner.task()?.catch((err: unknown) => this.onPollingEnded(err));
  }

  private onPollingEnded(err: unknown): void {
    const log = this.parts.deps.log;
    const code = err instanceof GrammyError ? err.error_code : undefined;
    if (code === 409) {
      log.error('bot.polling_conflict', {
        message: 'Telegram reports another instance polling with this bot token (409 Conflict); this one stops. Run a single instance.',
      });
      void this.stop('conflict');
    } else if (code === 401) {
      log.error('bot.token_rejected', { message: 'Telegram rejected the bot token (401); check TELEGRAM_BOT_TOKEN.' });
      void this.stop('unauthorized');
    } else {
      log.error('bot.polling_failed', { error: errorFields(err) });
      void this.stop('failed');
    }
  }

  private async shutdown(reason: StopReason): Promise<void> {
    const { deps, updates, state } = this.parts;
    const log = deps.log;
    try {
      if (this.runner?.isRunning()) await this.runner.stop();
    } catch (err) {
      log.warn('bot.polling_stop_failed', { error: errorFields(err) });
    }
    const server = this.webhookServer;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const service of this.parts.services ?? []) await service.stop();
    const timeoutMs = deps.tuning.shutdownTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const answered = await updates.drain(timeoutMs);
    const jobsDone = await deps.jobs.drain(Math.max(0, deadline - Date.now()));
    if (!answered || !jobsDone) log.warn('bot.shutdown_timeout', { pending_updates: updates.size, pending_jobs: deps.jobs.size });
    await state.close();
    log.info('bot.stopped', { reason });
    this.settle(reason);
  }
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
      if (err instanceof GrammyError && err.error_code === 401)
        throw new UserError('Telegram rejected the bot token (401); check TELEGRAM_BOT_TOKEN.');
      const pause = pauses[attempt];
      if (!(err instanceof HttpError)) throw err;
      if (pause === undefined)
        throw new UserError(`Could not reach the Telegram Bot API at ${apiRoot}; check the network or TELEGRAM_API_ROOT.`);
      log.warn('bot.telegram_unreachable', { attempt: attempt + 1, error: errorFields(err) });
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/** Logs failed getUpdates calls that polling will retry (409 and 401 end polling and are reported once, elsewhere). */
export function logPollingErrors(log: Logger): Transformer {
  return async (prev, method, payload, signal) => {
    if (method !== 'getUpdates') return prev(method, payload, signal);
    try {
      const res = await prev(method, payload, signal);
      if (!res.ok && res.error_code !== 409 && res.error_code !== 401) {
        log.warn('bot.polling_error', { code: res.error_code, description: res.description });
      }
      return res;
    } catch (err) {
      if (!signal?.aborted) log.warn('bot.polling_error', { error: errorFields(err) });
      throw err;
    }
  };
}
