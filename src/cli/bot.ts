/** Runs the Telegram bot until SIGINT/SIGTERM (or Telegram ends polling), then shuts down gracefully. */
import type { App } from '../app.js';
import { createBot } from '../bot/index.js';
import { secretsOf } from '../config/index.js';
import { AlertStore, createTopicMatcher, TopicAlerts } from '../alerts/index.js';
import { openFeedPoller } from '../feeds/index.js';
import { warmLanguageDetector } from '../language/index.js';
import { createArticleSearch } from '../search/index.js';
import type { Logger } from '../util/log.js';

/** Starts the bot (long polling or webhook); resolves with the exit code after a graceful shutdown. */
export async function runBot(app: App, logger: Logger): Promise<number> {
  const token = app.config.telegram.token;
  if (!token) throw new Error('runBot needs TELEGRAM_BOT_TOKEN');
  await warmLanguageDetector();
  const feeds = openFeedPoller(app.config, app.library, logger);
  const alerts = new TopicAlerts({
    store: AlertStore.open(app.config.stateDir),
    matcher: createTopicMatcher({ retriever: app.retriever, getReader: () => app.library.reader() }),
    library: app.library,
    logger,
  });
  const handle = createBot({
    token,
    config: app.config.telegram,
    stateDir: app.config.stateDir,
    database: app.database,
    answerer: app.answerer,
    library: app.library,
    transcriber: app.transcriber,
    logger,
    secrets: secretsOf(app.config),
    tuning: { historyTurns: app.config.llm.historyTurns, webhookHost: app.config.telegram.webhookHost },
    feeds,
    alerts,
    search: createArticleSearch(app.retriever),
  });
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
  try {
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
    feeds.store.close();
    alerts.store.close();
    app.close();
  }
}
