/**
 * Embeddings from the OpenAI API or any server that speaks its `/v1/embeddings` protocol.
 */
import OpenAI from 'openai';
import type { Embedder, TokenCounter } from '../types.js';
import { UserError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';

/** OpenAI's documented per-input limit for its embedding models. */
const OPENAI_MAX_TOKENS = 8191;

/**
 * A tokenizer-free counter that overestimates on purpose: English runs about four characters
 * per token, so chars/3 plus one per word keeps chunks under a model limit it cannot see.
 */
export const approximateTokenCounter: TokenCounter = {
  id: 'approx',
  count(text: string): number {
    const words = text.match(/\S+/g)?.length ?? 0;
    return Math.ceil(text.length / 3) + words;
  },
};

/** Options for `createOpenAIEmbedder`. */
export interface OpenAIEmbedderOptions {
  apiKey: string;
  /** e.g. `http://127.0.0.1:8080/v1` for a compatible local server; the OpenAI API when omitted. */
  baseURL?: string | undefined;
  model: string;
  batchSize?: number;
  timeoutMs?: number;
  maxRetries?: number;
  logger?: Logger;
}

/** Connects to an OpenAI-compatible embeddings endpoint; throws `UserError` when it cannot be used. */
export async function createOpenAIEmbedder(options: OpenAIEmbedderOptions): Promise<Embedder> {
  const logger = options.logger ?? silentLogger;
  const baseURL = options.baseURL ?? 'https://api.openai.com/v1';
  const batchSize = Math.max(1, options.batchSize ?? 64);
  const client = new OpenAI({
    apiKey: options.apiKey,
    baseURL,
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
    ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
  });

  let dimension = 0;
  const request = async (texts: string[]): Promise<Float32Array[]> => {
    const response = await client.embeddings.create({ model: options.model, input: texts, encoding_format: 'float' });
    const rows = [...response.data].sort((a, b) => a.index - b.index);
    if (rows.length !== texts.length) {
      throw new Error(`Embedding server returned ${rows.length} vectors for ${texts.length} inputs.`);
    }
    return rows.map((row) => {
      const vector = normalise(Float32Array.from(row.embedding));
      if (dimension && vector.length !== dimension) {
        throw new Error(`Embedding server returned a ${vector.length}-dimensional vector; expected ${dimension}.`);
      }
      return vector;
    });
  };

  try {
    const [probe] = await request(['dimension probe']);
    dimension = probe?.length ?? 0;
  } catch (err) {
    throw new UserError(`OpenAI embeddings (${options.model} at ${baseURL}) are unavailable: ${describeFailure(err)}.`);
  }
  if (!dimension) throw new UserError(`OpenAI embeddings (${options.model} at ${baseURL}) returned an empty vector.`);
  logger.info('embedding.loaded', { provider: 'openai', model: options.model, dimension });

  return {
    id: `openai:${options.model}`,
    dimension,
    maxTokens: OPENAI_MAX_TOKENS,
    tokenizer: approximateTokenCounter,
    // OpenAI's third-generation models are trained on many languages; other servers' models are not assumed to be.
    multilingual: /^text-embedding-3-/.test(options.model),
    async embedDocuments(texts) {
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += batchSize) out.push(...(await request(texts.slice(i, i + batchSize))));
      return out;
    },
    async embedQuery(text) {
      const [vector] = await request([text]);
      return vector!;
    },
  };
}

function normalise(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / norm;
  return v;
}

function describeFailure(err: unknown): string {
  if (err instanceof OpenAI.APIConnectionTimeoutError) return 'the server did not answer in time';
  if (err instanceof OpenAI.APIConnectionError) return 'could not connect to the server (check OPENAI_BASE_URL and that it is running)';
  if (err instanceof OpenAI.AuthenticationError) return 'the API key was rejected (check OPENAI_API_KEY)';
  if (err instanceof OpenAI.NotFoundError) return 'the model or endpoint was not found (check OPENAI_EMBEDDING_MODEL and OPENAI_BASE_URL)';
  if (err instanceof OpenAI.APIError) return `the server answered ${err.status ?? 'with an error'}: ${err.message.split('\n')[0]}`;
  return err instanceof Error ? (err.message.split('\n')[0] ?? String(err)) : String(err);
}
