/**
 * `npm run worker` / `newsdesk worker`: an embedding worker. It claims batches of chunks that an
 * indexing run (on any machine) queued in PostgreSQL, embeds them with the configured model and
 * stores the vectors, until SIGINT/SIGTERM (it finishes the batch in hand first). Run any number
 * of them; the model and its settings must be the indexing process's (the queue is per embedder id).
 */
import type { Config } from '../config/index.js';
import { migrate } from '../db/migrate.js';
import { MIGRATIONS } from '../schema.js';
import { createPool } from '../db/pool.js';
import { createEmbedder } from '../embedding/index.js';
import { closeServer, observabilityRoutes, startObservabilityServer } from '../observability/http.js';
import { createMetrics } from '../observability/metrics.js';
import { readinessChecks } from '../observability/readiness.js';
import { UserError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { EmbeddingQueue, indexEmbeddingsSink, workerId } from '../workers/queue.js';
import { runWorker } from '../workers/worker.js';

/** Runs one worker until a signal; resolves with the exit code. */
export async function runWorkerCommand(config: Config, baseLogger: Logger): Promise<number> {
  const url = config.database.url;
  if (!url) throw new UserError('npm run worker needs DATABASE_URL: workers take their work from PostgreSQL.');
  if (config.embedding.provider === 'none') {
    throw new UserError('EMBEDDING_PROVIDER=none: there is nothing to embed. Set the same embedding settings as the bot.');
  }
  // Batches embedded and failed, as the bot's metrics (docs/observability.md); served when METRICS_PORT is set.
  const metrics = createMetrics();
  const logger = metrics.observing(baseLogger);
  const { embedder, warning } = await createEmbedder(config.embedding, config.llm, logger);
  if (!embedder) throw new UserError(`The embedding model could not be loaded${warning ? `: ${warning}` : ''}.`);
  const pool = createPool({ ...config.database, url }, logger);
  let server: Awaited<ReturnType<typeof startObservabilityServer>> | undefined;
  try {
    await migrate(pool, MIGRATIONS, logger);
    const { port, host, token } = config.metrics;
    if (port !== undefined) {
      metrics.collectProcessMetrics();
      const readiness = readinessChecks({ database: pool });
      server = await startObservabilityServer({ host, port }, (on) => observabilityRoutes({ metrics, readiness, token, host: on }), logger);
    }
    const abort = new AbortController();
    const stop = (signal: string) => {
      logger.info('worker.stopping', { signal });
      abort.abort();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    const id = workerId();
    process.stderr.write(`Worker ${id} embeds with ${embedder.id}; waiting for work (Ctrl-C stops it after the batch in hand).\n`);
    const done = await runWorker({
      queue: new EmbeddingQueue(pool, config.database.workerLeaseMs),
      sink: await indexEmbeddingsSink(pool),
      embedderId: embedder.id,
      embed: (texts) => embedder.embedDocuments(texts),
      batchSize: config.embedding.batchSize,
      id,
      signal: abort.signal,
      log: logger,
    });
    process.stderr.write(`Worker ${id} stopped after embedding ${done.chunks} chunks in ${done.batches} batches.\n`);
    return 0;
  } finally {
    await closeServer(server);
    await pool.end().catch(() => {});
  }
}
