/**
 * Optional cross-encoder reranking through transformers.js. A cross-encoder reads the query
 * and a passage together and returns one relevance score, which orders a short candidate list
 * better than the fused bi-encoder + BM25 ranks, at the cost of one model run per candidate.
 * Off unless RERANK_MODEL names a model; a model that cannot be loaded turns it off with one
 * warning line instead of stopping the product.
 */
import path from 'node:path';
import { AutoModelForSequenceClassification, AutoTokenizer } from '@xenova/transformers';
import { describeLoadFailure, firstLine, modelTokenLimit, withModelEnv, type ModelSource } from '../embedding/transformers.js';
import { silentLogger, type Logger } from '../util/log.js';

/** Scores query/passage pairs; higher means more relevant. Scores are only comparable within one model. */
export interface Reranker {
  /** e.g. `transformers:Xenova/ms-marco-MiniLM-L-6-v2`. */
  readonly id: string;
  /** One score per passage, in the order given. */
  score(query: string, passages: string[]): Promise<number[]>;
}

/** Options for `createReranker`. */
export interface RerankerOptions extends ModelSource {
  /** Hugging Face model id, e.g. `Xenova/ms-marco-MiniLM-L-6-v2`; undefined or empty turns reranking off. */
  model: string | undefined;
  /** Load `onnx/model_quantized.onnx` (default) instead of `onnx/model.onnx`. */
  quantized?: boolean;
  /** Pairs per model run. */
  batchSize?: number;
  logger?: Logger;
}

/** What `createReranker` produced: a reranker, or null plus (when one was asked for) the reason to show the user. */
export interface RerankerResult {
  reranker: Reranker | null;
  /** One line explaining why reranking is off and how to turn it on. */
  warning?: string;
}

interface LogitsTensor {
  dims: number[];
  data: Float32Array;
}
interface PairTokenizer {
  (text: string[], options: { text_pair: string[]; padding: boolean; truncation: boolean }): Record<string, unknown>;
  model_max_length: number;
}
interface SequenceClassifier {
  (inputs: Record<string, unknown>): Promise<{ logits: LogitsTensor }>;
  config: { max_position_embeddings?: number };
}

/** A load or first-run failure with a short cause; anything else is a bug and propagates. */
class RerankerLoadFailure extends Error {
  override name = 'RerankerLoadFailure';
}

/** Loads the configured cross-encoder. Never throws for a missing or broken model: returns null and one warning line. */
export async function createReranker(options: RerankerOptions): Promise<RerankerResult> {
  const model = options.model?.trim();
  if (!model) return { reranker: null };
  const logger = options.logger ?? silentLogger;
  try {
    return { reranker: await loadReranker(model, options, logger) };
  } catch (err) {
    if (!(err instanceof RerankerLoadFailure)) throw err;
    const warning = rerankHint(model, options, err.message);
    // Debug only: the caller shows `warning` itself, and the user should see it once.
    logger.debug('rerank.unavailable', { warning });
    return { reranker: null, warning };
  }
}

async function loadReranker(model: string, options: RerankerOptions, logger: Logger): Promise<Reranker> {
  const quantized = options.quantized ?? true;
  const batchSize = Math.max(1, options.batchSize ?? 16);
  const allowRemote = options.allowRemoteModels ?? true;
  const started = Date.now();

  const { tokenizer, classifier } = await withModelEnv(options, async (pretrained) => {
    try {
      const tok = await AutoTokenizer.from_pretrained(model, pretrained);
      const cls = await AutoModelForSequenceClassification.from_pretrained(model, { ...pretrained, quantized });
      return { tokenizer: tok as unknown as PairTokenizer, classifier: cls as unknown as SequenceClassifier };
    } catch (err) {
      throw new RerankerLoadFailure(describeLoadFailure(err, allowRemote));
    }
  });

  // The tokenizer truncates to this, so a long passage is cut instead of overflowing the position table.
  tokenizer.model_max_length = modelTokenLimit(tokenizer.model_max_length, classifier.config.max_position_embeddings);

  const run = async (query: string, passages: string[]): Promise<number[]> => {
    const inputs = tokenizer(
      passages.map(() => query),
      { text_pair: passages, padding: true, truncation: true },
    );
    const { logits } = await classifier(inputs);
    const labels = logits.dims[logits.dims.length - 1] ?? 0;
    if (labels === 1) return Array.from(logits.data);
    if (labels === 2) {
      // Two classes (not relevant, relevant): the log-odds of "relevant" ranks exactly like its
      // softmax probability, which the positive logit alone does not.
      return passages.map((_, i) => logits.data[2 * i + 1]! - logits.data[2 * i]!);
    }
    throw new RerankerLoadFailure(`expected 1 or 2 output logits per pair, got ${labels}; is ${model} a cross-encoder?`);
  };

  try {
    await run('probe', ['probe']);
  } catch (err) {
    if (err instanceof RerankerLoadFailure) throw err;
    throw new RerankerLoadFailure(`the model failed its first run: ${firstLine(err)}`);
  }

  logger.info('rerank.loaded', { model, quantized, maxTokens: tokenizer.model_max_length, seconds: (Date.now() - started) / 1000 });

  return {
    id: `transformers:${model}${quantized ? '' : '?fp32'}`,
    async score(query, passages) {
      const out: number[] = [];
      for (let i = 0; i < passages.length; i += batchSize) {
        try {
          out.push(...(await run(query, passages.slice(i, i + batchSize))));
        } catch (err) {
          throw new Error(`Reranking with ${model} failed: ${firstLine(err)}`, { cause: err });
        }
      }
      return out;
    },
  };
}

function rerankHint(model: string, options: RerankerOptions, reason: string): string {
  const localTarget = options.localModelDir
    ? `${path.join(options.localModelDir, model)}${path.sep} (LOCAL_MODEL_DIR)`
    : `LOCAL_MODEL_DIR/${model}/`;
  const cache = options.cacheDir ? ` (the model is cached in ${options.cacheDir})` : '';
  const download =
    (options.allowRemoteModels ?? true)
      ? `run once with internet access${cache}`
      : `set ALLOW_REMOTE_MODELS=true and run once with internet access${cache}`;
  return `Rerank model ${model} could not be loaded (${reason}); retrieval runs without reranking. To enable it, ${download}, or put the model files in ${localTarget}; or unset RERANK_MODEL.`;
}
