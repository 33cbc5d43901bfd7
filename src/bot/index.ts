/**
 * The Telegram front end over `QuestionAnswerer` and `Library`.
 *
 * `createBot` reads top to bottom: API transformers, the gates every update passes
 * (shutdown tracking, addressed-to-me, allowlist, rate limit, per-chat ordering), one
 * Composer per feature (commands, admin, quotes, questions, then what nobody handled),
 * and the error boundary. `lifecycle.ts` starts and stops it.
 */
import { autoRetry } from '@grammyjs/auto-retry';
import { Bot } from 'grammy';
import type { Config } from '../config/index.js';
import type { TopicAlerts } from '../alerts/index.js';
import type { FeedPoller } from '../feeds/index.js';
import type { Routes } from '../observability/http.js';
import type { ArticleSearch } from '../search/index.js';
import type { QuestionAnswerer } from '../types.js';
import type { Transcriber } from '../transcription/index.js';
import type { Logger } from '../util/log.js';
import { admin } from './admin.js';
import { AlertSender, alertCommands } from './alerts.js';
import { commands, leftovers } from './commands.js';
import { deskCommands, GapsDigest } from './desk.js';
import { type BotDeps, type BotDesk, type BotLibrary, type BotTuning, DEFAULT_TUNING } from './deps.js';
import { feedCommands, reportFeedProblems } from './feeds.js';
import { inlineSearch } from './inline.js';
import { languageCommands } from './language.js';
import { type BotHandle, BotLifecycle, logPollingErrors } from './lifecycle.js';
import { redactingLogger } from './logging.js';
import { gates, handleError } from './middleware.js';
import { quotes } from './quotes.js';
import { questions } from './questions.js';
import { voiceQuestions } from './voice.js';
import { retryUnanswered } from './retry.js';
import type { BotState, BotStateSettings } from './stores.js';
import { TaskTracker } from './tasks.js';

export type { BotLibrary, BotTuning, ReindexStatus } from './deps.js';
export type { BotHandle, StopReason } from './lifecycle.js';

/** What `createBot` needs; `tuning` is for tests and is normally left out. */
export interface CreateBotOptions {
  token: string;
  config: Config['telegram'];
  /** Upload size and fetch time limits (the file download of an upload uses them). */
  intake: Pick<Config['intake'], 'maxUploadBytes' | 'fetchTimeoutMs'>;
  /**
   * Opens the bot's state (conversations, quote keys, rate limits, kept answers, counters, audit
   * trail) with the settings the bot derives from its config. The composition root picks the
   * implementation (`App.state.bot`: SQLite in STATE_DIR, or PostgreSQL shared by replicas).
   */
  state: (settings: BotStateSettings) => BotState;
  answerer: QuestionAnswerer;
  library: BotLibrary;
  /** Speech-to-text for voice questions; absent or null: voice messages get a line saying how to turn it on. */
  transcriber?: Transcriber | null;
  logger: Logger;
  /** Values masked in every log line (the token is always added). */
  secrets: string[];
  tuning?: Partial<BotTuning>;
  /** Feed polling to run while the bot runs (started and stopped with it; /feeds and /feed manage it). */
  feeds?: FeedPoller;
  /** Topic alerts: matched while the bot runs, delivered by it (/follow, /following, /unfollow). */
  alerts?: TopicAlerts;
  /** Inline-mode search (`@botname words` in any chat). */
  search?: ArticleSearch;
  /** Extra paths the webhook server answers in webhook mode (/healthz, /readyz, /metrics). */
  routes?: Routes;
  /** The editors' desk: every question logged, 👍 / 👎 under answers, /gaps, /forgetme. */
  desk?: BotDesk;
}

const DEFAULT_API_ROOT = 'https://api.telegram.org';

/** Builds the bot: middleware, handlers and persistent state; nothing touches the network until `start()`. */
export function createBot(options: CreateBotOptions): BotHandle {
  const log = redactingLogger(options.logger, [options.token, ...options.secrets]);
  const apiRoot = options.config.apiRoot?.replace(/\/+$/, '');
  const bot = new Bot(options.token, apiRoot ? { client: { apiRoot } } : {});
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60, rethrowHttpErrors: true }));
  bot.api.config.use(logPollingErrors(log));
  // Outside auto-retry (which rethrows network errors): a send whose connection broke gets one more try.
  bot.api.config.use(retryUnanswered(log));

  const tuning: BotTuning = { ...DEFAULT_TUNING, ...options.tuning };
  const settings: BotStateSettings = {
    conversationTtlMs: options.config.conversationTtlMinutes * 60_000,
    quoteTtlMs: tuning.quoteTtlMs,
    undeliveredTtlMs: tuning.undeliveredTtlMs,
    rateLimitPerMinute: options.config.rateLimitPerMinute,
  };
  const state = options.state(settings);
  const deps = botDeps(options, state, tuning, log, apiRoot ?? DEFAULT_API_ROOT);
  const updates = new TaskTracker();
  bot.use(gates(deps, updates));
  bot.use(
    commands(deps),
    languageCommands(deps),
    admin(deps),
    feedCommands(deps),
    alertCommands(deps),
    inlineSearch(deps),
    deskCommands(deps),
    quotes(deps),
    questions(deps),
    voiceQuestions(deps),
    leftovers(),
  );
  bot.catch(handleError(log));
  deps.feeds?.onProblem(reportFeedProblems(bot.api, deps));
  const services = [
    ...(deps.feeds ? [deps.feeds] : []),
    ...(deps.desk?.digest ? [new GapsDigest(bot.api, deps, deps.desk.digest)] : []),
    ...(deps.alerts
      ? [
          new AlertSender(bot.api, deps.alerts, deps, {
            perChatMs: deps.tuning.alertPerChatMs,
            globalMs: deps.tuning.alertGlobalMs,
            idleMs: 1000,
          }),
        ]
      : []),
  ];

  return new BotLifecycle({
    bot,
    deps,
    updates,
    state,
    apiRoot: apiRoot ?? DEFAULT_API_ROOT,
    services,
    ...(options.routes ? { routes: options.routes } : {}),
  }).handle();
}

/** The services and state every feature shares. */
function botDeps(options: CreateBotOptions, state: BotState, tuning: BotTuning, log: Logger, apiRoot: string): BotDeps {
  const { config } = options;
  return {
    config,
    answerer: options.answerer,
    library: options.library,
    transcriber: options.transcriber ?? null,
    log,
    conversations: state.conversations,
    quotes: state.quotes,
    rateLimiter: state.rateLimiter,
    undelivered: state.undelivered,
    counters: state.counters,
    audit: state.audit,
    languages: state.languages,
    reindexJobs: state.reindexJobs,
    tuning,
    intake: options.intake,
    files: { apiRoot, token: options.token, timeoutMs: Math.max(options.intake.fetchTimeoutMs, 60_000) },
    jobs: new TaskTracker(),
    startedAt: Date.now(),
    answeredSinceStart: 0,
    feeds: options.feeds ?? null,
    alerts: options.alerts ?? null,
    search: options.search ?? null,
    desk: options.desk ?? null,
  };
}
