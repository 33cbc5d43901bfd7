/** Runs the Telegram bot until SIGINT/SIGTERM (or Telegram ends polling), then shuts down gracefully. */
import type { App } from '../app.js';
import { createBot } from '../bot/index.js';
import { secretsOf } from '../config/index.js';
import { type AlertStore, createTopicMatcher, TopicAlerts } from '../alerts/index.js';
import { openFeedPoller } from '../feeds/index.js';
import { openCorrectionNotices } from '../desk/index.js';
import { warmLanguageDetector } from '../language/index.js';
import { createArticleSearch } from '../search/index.js';
import {
  closeServer,
  isLoopback as isLoopbackHost,
  observabilityRoutes,
  type Routes,
  startObservabilityServer,
} from '../observability/http.js';
import { readinessChecks } from '../observability/readiness.js';
import type { Logger } from '../util/log.js';

/** Starts the bot (long polling or webhook); resolves with the exit code after a graceful shutdown. */
export async function runBot(app: App, baseLogger: Logger): Promise<number> {
  const token = app.config.telegram.token;
  if (!token) throw new Error('runBot needs TELEGRAM_BOT_TOKEN');
  await warmLanguageDetector();
  const logger = app.metrics.observing(baseLogger);
  // Everything opened is closed again whatever fails, so a failed start ends the process instead
  // of leaving /healthz answering for a bot that never ran.
  let endpoints: Awaited<ReturnType<typeof serveEndpoints>> | undefined;
  let feeds: ReturnType<typeof openFeedPoller> | undefined;
  let alertStore: AlertStore | undefined;
  let corrections: ReturnType<typeof openCorrectionNotices> | null = null;
  try {
    endpoints = await serveEndpoints(app, logger);
    feeds = openFeedPoller(app.config, await app.state.feeds(), app.library, logger);
    alertStore = await app.state.alerts();
    const alerts = new TopicAlerts({
      store: alertStore,
      matcher: createTopicMatcher({ retriever: app.retriever, getReader: () => app.library.searchIndex() }),
      library: app.library,
      logger,
    });
    corrections = app.config.desk.correctionsNotice
      ? openCorrectionNotices(app.state.receipts(), app.library, alerts.store, app.config.desk.correctionsDays, logger)
      : null;
    const handle = createBot({
      token,
      config: app.config.telegram,
      intake: app.config.intake,
      state: app.state.bot,
      answerer: app.answerer,
      library: app.library,
      transcriber: app.transcriber,
      logger,
      secrets: secretsOf(app.config),
      feeds,
      alerts,
      search: createArticleSearch(app.retriever),
      routes: endpoints.webhookRoutes,
      desk: {
        questions: app.desk,
        embedder: app.embedder,
        corrections,
        digest: app.config.desk.gapsDigest === 'weekly' ? { everyMs: 7 * 86_400_000, tickMs: 3_600_000 } : null,
      },
    });
    corrections?.start(app.library);
    // Outermost: counts what Telegram finally answered, after the automatic retries.
    handle.bot.api.config.use(app.metrics.telegramErrors());
    handle.ready.then(endpoints.telegramReached, () => undefined);
    // `npm run index` in another terminal publishes a new generation; serve it without a restart.
    app.library.follow();
    let stopping: Promise<void> | null = null;
    const shutdown = (signal: string) => {
      if (stopping) return;
      logger.info('bot.shutdown', { signal });
      stopping = handle.stop();
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    await handle.start();
    if (stopping) await stopping;
    const reason = await handle.finished;
    if (reason === 'conflict') {
      process.stderr.write(
        'Another instance is already polling with this bot token (Telegram 409); this one stopped. Run only one, or use WEBHOOK_URL.\n',
      );
      return 1;
    }
    if (reason === 'unauthorized') {
      process.stderr.write('Telegram rejected TELEGRAM_BOT_TOKEN (401). Check the token from @BotFather.\n');
      return 1;
    }
    return reason === 'failed' ? 1 : 0;
  } finally {
    await corrections?.stop();
    await endpoints?.close();
    await feeds?.store.close();
    await alertStore?.close();
    app.close();
  }
}

/**
 * /healthz, /readyz and /metrics (docs/observability.md): routes for the webhook server, and a
 * server of their own when METRICS_PORT is set. `telegramReached` marks the Bot API as answered.
 */
async function serveEndpoints(app: App, logger: Logger) {
  app.metrics.collectProcessMetrics();
  let reached = false;
  const readiness = readinessChecks({
    searchIndex: () => app.library.searchIndex(),
    database: app.database,
    telegramReached: () => reached,
  });
  const { port, host, token } = app.config.metrics;
  const routesFor = (on: string): Routes => observabilityRoutes({ metrics: app.metrics, readiness, token, host: on });
  const { webhookUrl, webhookHost } = app.config.telegram;
  for (const on of [...(webhookUrl ? [webhookHost] : []), ...(port !== undefined ? [host] : [])]) {
    if (!token && !isLoopbackHost(on))
      logger.warn('metrics.not_exposed', { message: `/metrics is refused on ${on} until METRICS_TOKEN is set` });
  }
  const server = port === undefined ? undefined : await startObservabilityServer({ host, port }, routesFor, logger);
  return {
    webhookRoutes: routesFor(webhookHost),
    telegramReached: () => {
      reached = true;
    },
    close: () => closeServer(server),
  };
}
