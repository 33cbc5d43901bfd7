/**
 * The bot's view of the logger: every event passes through `redact` with the
 * known secrets, whatever field they hide in (an error message quoting a URL
 * with the token, a payload echoed back by Telegram).
 */
import { redact, type Logger } from '../util/log.js';

/** Reduces an error to the fields worth logging; never the payload or the request URL. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const out: Record<string, unknown> = { name: err.name, message: err.message };
  const e = err as Error & { error_code?: unknown; description?: unknown; method?: unknown; error?: unknown };
  if (e.error_code !== undefined) out.code = e.error_code;
  if (typeof e.method === 'string') out.method = e.method;
  if (e.error instanceof Error) out.cause = e.error.message;
  return out;
}

/** Wraps `logger` so that no field of any event can carry one of `secrets`. */
export function redactingLogger(logger: Logger, secrets: readonly string[]): Logger {
  const clean = (fields?: Record<string, unknown>): Record<string, unknown> | undefined => {
    if (!fields) return undefined;
    const json = JSON.stringify(fields, (_k, v: unknown) => (v instanceof Error ? errorFields(v) : v));
    return JSON.parse(redact(json, secrets)) as Record<string, unknown>;
  };
  return {
    debug: (event, fields) => logger.debug(redact(event, secrets), clean(fields)),
    info: (event, fields) => logger.info(redact(event, secrets), clean(fields)),
    warn: (event, fields) => logger.warn(redact(event, secrets), clean(fields)),
    error: (event, fields) => logger.error(redact(event, secrets), clean(fields)),
  };
}
