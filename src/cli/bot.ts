/** Runs the Telegram bot until SIGINT/SIGTERM, then shuts down gracefully. */
import type { App } from '../app.js';
import { secretsOf } from '../config/index.js';
import { createBot } from '../bot/index.js';
import type { Logger } from '../util/log.js';

/** Starts the bot (long polling or webhook) and resolves after a graceful shutdown. */
export async function runBot(app: App, logger: Logger): Promise<void> {
  const token = app.config.telegram.token;
  if (!token) throw new Error('runBot needs TELEGRAM_BOT_TOKEN');
  const handle = createBot({
    token,
    config: app.config.telegram,
    stateDir: app.config.stateDir,
    answerer: app.answerer,
    library: app.library,
    logger,
    secrets: secretsOf(app.config),
  });
  let stopping: Promise<void> | null = null;
  const shutdown = (signal: string) => {
    if (stopping) return;
    logger.info('bot.shutdown', { signal });
    stopping = handle.stop().finally(() => app.close());
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  await handle.start();
  if (stopping) await stopping;
}
