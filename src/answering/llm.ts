/**
 * The LLM boundary: chat completions through the `openai` client against any
 * OpenAI-compatible server, with our own timeouts, retries and a global cap on
 * simultaneous calls. Callers get text or an `LlmUnavailableError`, nothing else.
 */
import OpenAI from 'openai';
import type { Logger } from '../util/log.js';
import type { ChatMessage } from './prompt.js';
import { backoffDelayMs, classifyLlmError, LlmTimeoutError, MalformedResponseError, sleep, type ErrorClass } from './retry.js';
import { Semaphore } from '../util/semaphore.js';

/** How to reach the answer-writing model. */
export interface LlmOptions {
  apiKey: string;
  baseURL?: string;
  model: string;
  /** Per attempt: time to the first byte, and for streams the longest silence between chunks. */
  timeoutMs: number;
  /** Retries after the first attempt for failures before any text arrived. */
  maxRetries: number;
  /** Simultaneous LLM requests allowed across all conversations. */
  maxConcurrency: number;
  /** First backoff step (default 500 ms); tests make it small. */
  retryBaseMs?: number;
  /** Cap on any single wait, including a server's retry-after (default 10 s). */
  retryMaxDelayMs?: number;
}

/** Every attempt failed, or the failure was not worth retrying (bad key, unknown model, ...). */
export class LlmUnavailableError extends Error {
  override name = 'LlmUnavailableError';
  /** What went wrong, in a few words for whoever runs the bot, e.g. "cannot connect: connect ECONNREFUSED 127.0.0.1:9". */
  readonly reason: string;
  constructor(
    readonly failure: ErrorClass,
    override readonly cause: unknown,
  ) {
    super(`LLM unavailable (${failure.kind}${failure.status ? ` ${failure.status}` : ''}): ${describe(cause)}`);
    this.reason = failureReason(failure, cause);
  }
}

const FAILURE_WORDS: Record<ErrorClass['kind'], string> = {
  connection: 'cannot connect',
  timeout: 'timed out',
  'rate-limit': 'rate limited',
  server: 'server error',
  malformed: 'unusable reply',
  client: 'request refused',
};

/** The kind of failure in words, then the innermost cause's message (the socket error, not "fetch failed"). */
function failureReason(failure: ErrorClass, cause: unknown): string {
  let inner = cause;
  for (let i = 0; i < 5 && inner instanceof Error && inner.cause instanceof Error; i++) inner = inner.cause;
  const message = (inner instanceof Error ? inner.message : String(inner)).replace(/\s+/g, ' ').trim().slice(0, 200);
  const status = failure.status && !message.startsWith(String(failure.status)) ? `HTTP ${failure.status}: ` : '';
  return `${FAILURE_WORDS[failure.kind]}: ${status}${message}`;
}

/** Per-call tweaks. */
export interface CallOptions {
  /** Overrides `LlmOptions.maxRetries` (condensing uses 0: it has a cheap fallback). */
  maxRetries?: number;
}

/** Text-in, text-out chat completions with retries and a concurrency cap. */
export interface LlmClient {
  /** A non-streamed completion. Rejects only with `LlmUnavailableError`. */
  complete(messages: ChatMessage[], options?: CallOptions): Promise<string>;
  /**
   * A streamed completion: `onDelta` receives text as it arrives. If a stream breaks after
   * producing text it is restarted once from scratch, after calling `onRestart`.
   * Resolves with the full text of the attempt that finished. Rejects only with `LlmUnavailableError`.
   */
  stream(messages: ChatMessage[], onDelta: (delta: string) => void, onRestart: () => void): Promise<string>;
}

/** Token counts as the server reports them (absent from servers that do not). */
interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

/** One successful attempt: the text and what it cost. */
interface Reply {
  text: string;
  usage: Usage | undefined | null;
}

const DEFAULT_RETRY_BASE_MS = 500;
const DEFAULT_RETRY_MAX_DELAY_MS = 10_000;
// A restarted stream repeats text the user already saw; doing that twice is worse than quoting.
const MAX_STREAM_RESTARTS = 1;

/** Runs `body` with an abort signal that fires after `timeoutMs` of silence; `poke` restarts the clock. */
async function withWatchdog<T>(timeoutMs: number, body: (signal: AbortSignal, poke: () => void) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const poke = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
  };
  poke();
  try {
    const result = await body(controller.signal, poke);
    // An aborted stream ends quietly in the SDK, so a timeout can look like a short answer.
    if (timedOut) throw new LlmTimeoutError(`No reply within ${timeoutMs} ms`);
    return result;
  } catch (err) {
    if (timedOut) throw new LlmTimeoutError(`No reply within ${timeoutMs} ms`);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Builds the client; the `openai` SDK's own retries are off because ours cover streams too. */
export function createLlmClient(options: LlmOptions, logger: Logger): LlmClient {
  const client = new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    timeout: options.timeoutMs,
    maxRetries: 0,
    // The SDK would print raw response fragments to the console; failures are logged here, structured.
    logLevel: 'off',
  });
  const semaphore = new Semaphore(options.maxConcurrency);
  const baseMs = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
  const capMs = options.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS;
  const timeoutMs = options.timeoutMs;

  function completeOnce(messages: ChatMessage[]): Promise<Reply> {
    return withWatchdog(timeoutMs, async (signal) => {
      const completion = await client.chat.completions.create({ model: options.model, messages }, { signal });
      const content: unknown = completion?.choices?.[0]?.message?.content;
      if (typeof content !== 'string' || content.trim() === '') throw new MalformedResponseError('The completion has no text');
      return { text: content, usage: completion.usage };
    });
  }

  function streamOnce(messages: ChatMessage[], onDelta: (delta: string) => void): Promise<Reply> {
    return withWatchdog(timeoutMs, async (signal, poke) => {
      // include_usage: the server adds a last chunk with the token counts (for the metrics).
      const stream = await client.chat.completions.create(
        { model: options.model, messages, stream: true, stream_options: { include_usage: true } },
        { signal },
      );
      poke();
      let text = '';
      let usage: Usage | undefined;
      for await (const chunk of stream) {
        poke();
        if (chunk?.usage) usage = chunk.usage;
        const delta: unknown = chunk?.choices?.[0]?.delta?.content;
        if (typeof delta === 'string' && delta !== '') {
          text += delta;
          onDelta(delta);
        }
      }
      if (text.trim() === '') throw new MalformedResponseError('The stream carried no text');
      return { text, usage };
    });
  }

  async function withRetries(
    what: 'complete' | 'stream',
    maxRetries: number,
    attempt: (markProduced: () => void) => Promise<Reply>,
    onRestart?: () => void,
  ): Promise<string> {
    let failures = 0;
    let restarts = 0;
    const started = performance.now();
    for (;;) {
      let produced = false;
      try {
        const { text, usage } = await semaphore.run(() => attempt(() => (produced = true)));
        logger.debug('llm.done', { what, ms: performance.now() - started, attempts: failures + restarts + 1, ...tokenFields(usage) });
        return text;
      } catch (err) {
        const failure = classifyLlmError(err);
        const fields = { what, kind: failure.kind, status: failure.status, error: describe(err) };
        let delayMs: number;
        if (!failure.retryable) {
          logger.error('llm.failed', { ...fields, retryable: false });
          throw new LlmUnavailableError(failure, err);
        } else if (produced) {
          if (restarts >= MAX_STREAM_RESTARTS) {
            logger.warn('llm.failed', { ...fields, restarts });
            throw new LlmUnavailableError(failure, err);
          }
          restarts++;
          onRestart?.();
          delayMs = backoffDelayMs(0, baseMs, capMs);
        } else {
          if (failures >= maxRetries) {
            logger.warn('llm.failed', { ...fields, attempts: failures + 1 });
            throw new LlmUnavailableError(failure, err);
          }
          delayMs = backoffDelayMs(failures, baseMs, capMs, failure.retryAfterMs);
          failures++;
        }
        logger.warn('llm.retry', { ...fields, delayMs, failures, restarts });
        await sleep(delayMs);
      }
    }
  }

  return {
    complete: (messages, callOptions) =>
      withRetries('complete', callOptions?.maxRetries ?? options.maxRetries, () => completeOnce(messages)),
    stream: (messages, onDelta, onRestart) =>
      withRetries(
        'stream',
        options.maxRetries,
        (markProduced) =>
          streamOnce(messages, (delta) => {
            markProduced();
            onDelta(delta);
          }),
        onRestart,
      ),
  };
}

/** The token counts for the log (and the metrics built from it). */
function tokenFields(usage: Usage | undefined | null): { prompt_tokens?: number; completion_tokens?: number } {
  return { prompt_tokens: usage?.prompt_tokens, completion_tokens: usage?.completion_tokens };
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
