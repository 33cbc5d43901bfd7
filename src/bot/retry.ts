/**
 * One more try for a message that never reached Telegram. A `sendMessage` or `editMessageText`
 * whose connection was reset (or refused) before any response arrived is sent once more. When
 * Telegram did answer, even with an error, nothing is repeated here: its 429s and 5xx are
 * `@grammyjs/auto-retry`'s, and a 4xx would only be refused again.
 */
import { HttpError, type Transformer } from 'grammy';
import type { Logger } from '../util/log.js';
import { errorFields } from './logging.js';

/** Methods that deliver an answer; other calls (polling, chat actions) have their own handling. */
const RETRIED = new Set(['sendMessage', 'editMessageText']);
/** Socket errors that leave no response behind. */
const NO_RESPONSE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED']);

/**
 * True when a Bot API call failed on the network before any response arrived. grammY turns
 * Telegram's own error answers into `GrammyError`, and fetch failures into `HttpError`; node-fetch
 * says "request to … failed" only when the request itself failed, and something else when a
 * response came but its body broke off or did not parse.
 */
export function failedBeforeResponse(err: unknown): boolean {
  if (!(err instanceof HttpError)) return false;
  const cause = err.error as { code?: unknown; message?: unknown } | undefined;
  if (!cause || typeof cause.message !== 'string' || !/^request to .* failed/.test(cause.message)) return false;
  return typeof cause.code === 'string' && NO_RESPONSE_CODES.has(cause.code);
}

/** The API transformer: one more try, after `pauseMs`, for a delivery that failed before any response. */
export function retryUnanswered(log: Logger, pauseMs = 250): Transformer {
  return async (prev, method, payload, signal) => {
    try {
      return await prev(method, payload, signal);
    } catch (err) {
      if (!RETRIED.has(method) || signal?.aborted || !failedBeforeResponse(err)) throw err;
      log.warn('bot.send_retried', { method, chat_id: (payload as { chat_id?: unknown }).chat_id, error: errorFields(err) });
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      return prev(method, payload, signal);
    }
  };
}
