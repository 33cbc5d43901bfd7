/**
 * The embedding stage's entry point: picks a back end from the configuration. A missing
 * model or key is not fatal: the caller gets `null` and one warning line, and runs
 * lexical-only retrieval.
 */
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config/index.js';
import type { Embedder } from '../types.js';
import { UserError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import { createOpenAIEmbedder } from './openai.js';
import { createTransformersEmbedder, ModelLoadError, type ModelLoadProgress } from './transformers.js';

export { approximateTokenCounter } from './openai.js';
export { estimatedWordPieceCounter } from './estimate.js';
export type { ModelLoadProgress } from './transformers.js';

/** What `createEmbedder` produced: an embedder, or null plus the reason to show the user. */
export interface EmbedderResult {
  embedder: Embedder | null;
  /** One short line saying semantic search is off and why; the how-to is in `--help` and the README. */
  warning?: string;
  /** How to turn semantic search on with these settings (paths included), for the log. */
  details?: string;
}

/** Builds the configured embedder; never throws for a missing model, key or server. */
export async function createEmbedder(
  config: Config['embedding'],
  llm: Config['llm'],
  logger: Logger = silentLogger,
  onProgress?: (progress: ModelLoadProgress) => void,
): Promise<EmbedderResult> {
  if (config.provider === 'none') return { embedder: null };

  if (config.provider === 'openai') {
    if (!llm.apiKey) {
      return unavailable(
        logger,
        'EMBEDDING_PROVIDER=openai needs OPENAI_API_KEY',
        'Set OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible server), or use EMBEDDING_PROVIDER=transformers.',
      );
    }
    try {
      const embedder = await createOpenAIEmbedder({
        apiKey: llm.apiKey,
        baseURL: llm.baseURL,
        model: config.openaiModel,
        batchSize: config.batchSize,
        timeoutMs: llm.timeoutMs,
        maxRetries: llm.maxRetries,
        logger,
      });
      return { embedder };
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      return unavailable(
        logger,
        stripPeriod(err.message),
        'Check OPENAI_BASE_URL and OPENAI_API_KEY, or use EMBEDDING_PROVIDER=transformers.',
      );
    }
  }

  try {
    const embedder = await createTransformersEmbedder({
      model: config.model,
      pooling: config.pooling,
      queryPrefix: config.queryPrefix,
      batchSize: config.batchSize,
      quantized: config.quantized,
      threads: config.threads,
      // Documents: that many one-thread sessions side by side (auto: one per core); see parallel.ts.
      // With 1, `threads` gives the one session one thread.
      parallel: config.threads ?? os.availableParallelism(),
      cacheDir: config.cacheDir,
      localModelDir: config.localModelDir,
      allowRemoteModels: config.allowRemoteModels,
      onProgress,
      logger,
    });
    return { embedder };
  } catch (err) {
    if (!(err instanceof ModelLoadError)) throw err;
    return unavailable(logger, `${config.model} not loaded (${err.reason})`, modelHint(config));
  }
}

/** How to make the configured model loadable, with this configuration's paths. */
function modelHint(config: Config['embedding']): string {
  const localTarget = config.localModelDir
    ? `${path.join(config.localModelDir, config.model)}${path.sep} (LOCAL_MODEL_DIR)`
    : `LOCAL_MODEL_DIR/${config.model}/`;
  const download = config.allowRemoteModels
    ? `run once with internet access (the model is cached in ${config.cacheDir})`
    : `set ALLOW_REMOTE_MODELS=true and run once with internet access (the model is cached in ${config.cacheDir})`;
  return `To enable semantic search, ${download}, or put the model files in ${localTarget}; then run the index again.`;
}

/** No embedder: one short line for the terminal (`why`), the how-to for the log. */
function unavailable(logger: Logger, why: string, details: string): EmbedderResult {
  const warning = `lexical-only search: ${why}. See --help.`;
  // Debug only: the caller shows `warning` itself, and the user should see it once.
  logger.debug('embedding.unavailable', { warning, details });
  return { embedder: null, warning, details };
}

function stripPeriod(text: string): string {
  return text.endsWith('.') ? text.slice(0, -1) : text;
}
