/**
 * Retry policy for LLM calls. The `openai` client is built with `maxRetries: 0` so that
 * this one policy covers streams too (the client never retries a stream that broke
 * after the headers arrived).
 */
import { APIConnectionError, APIError } from 'openai';

/** The attempt took longer than the configured timeout (before headers, or between stream chunks). */
export class LlmTimeoutError extends Error {
  override name = 'LlmTimeoutError';
}

/** The server answered 2xx but the body was not a usable completion. */
export class MalformedResponseError extends Error {
  override name = 'MalformedResponseError';
}

/** How a failed attempt should be handled. */
export interface ErrorClass {
  retryable: boolean;
  kind: 'timeout' | 'rate-limit' | 'server' | 'connection' | 'malformed' | 'client';
  status?: number;
  /** Server-requested wait from `retry-after-ms` / `retry-after`, in ms. */
  retryAfterMs?: number;
}

/** Classifies an error from an LLM attempt: retry on timeouts, 408/409/429, 5xx, connection and malformed-stream errors; not on other 4xx. */
export function classifyLlmError(err: unknown): ErrorClass {
  if (err instanceof LlmTimeoutError) return { retryable: true, kind: 'timeout' };
  if (err instanceof MalformedResponseError || err instanceof SyntaxError) return { retryable: true, kind: 'malformed' };
  // APIConnectionTimeoutError is a subclass: both are worth another try.
  if (err instanceof APIConnectionError) return { retryable: true, kind: 'connection' };
  if (err instanceof APIError) {
    const status = err.status;
    // No status: an error event inside a stream, i.e. the server failed mid-answer.
    if (status === undefined) return { retryable: true, kind: 'server' };
    const retryAfterMs = parseRetryAfter(err.headers);
    const withWait = retryAfterMs === undefined ? {} : { retryAfterMs };
    if (status === 429) return { retryable: true, kind: 'rate-limit', status, ...withWait };
    if (status === 408 || status === 409) return { retryable: true, kind: 'timeout', status, ...withWait };
    if (status >= 500) return { retryable: true, kind: 'server', status, ...withWait };
    return { retryable: false, kind: 'client', status };
  }
  // Anything else (undici's "terminated" when a socket dies mid-body, ...) is a transport failure.
  return { retryable: true, kind: 'connection' };
}

/** Reads `retry-after-ms`, then `retry-after` (seconds or an HTTP date), in ms; undefined when absent or unreadable. */
export function parseRetryAfter(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const after = headers.get('retry-after');
  if (after === null || after.trim() === '') return undefined;
  if (Number.isFinite(Number(after))) return Math.max(0, Number(after) * 1000);
  const at = Date.parse(after);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Delay before retry number `attempt` (0-based): the server's retry-after when given,
 * else exponential backoff with jitter (half fixed, half random, so clients that failed
 * together do not retry together); both capped at `capMs`.
 */
export function backoffDelayMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, capMs);
  const exp = Math.min(capMs, baseMs * 2 ** attempt);
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
