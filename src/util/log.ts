/**
 * Structured logging through pino: one JSON line per event (`{"level":"info","t":"<ISO time>",
 * "event":"bot.answered",…fields}`), on stderr (the bot's service log) or appended to a file
 * (terminal commands, whose stderr is for people). Known secrets are masked in every line, whatever
 * field they end up in: the masking works on the finished line, not on named fields, because a
 * secret can hide in any message (an error quoting a URL with the token).
 */
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

/** Replaces every occurrence of each secret in `text` with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

/** An Error in a top-level field is logged as its name and message (JSON would make it `{}`). */
function loggable(event: string, fields: Record<string, unknown> | undefined): Record<string, unknown> {
  const record: Record<string, unknown> = { event, ...fields };
  for (const [k, v] of Object.entries(record)) if (v instanceof Error) record[k] = { name: v.name, message: v.message };
  return record;
}

/** Creates a logger writing JSON lines (without the newline) through `write` (stderr by default). */
export function createLogger(
  level: LogLevel,
  secrets: readonly string[] = [],
  write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Logger {
  // pino writes each finished line to this destination synchronously, so lines written just before an exit are kept.
  const destination = { write: (line: string) => write(redact(line.endsWith('\n') ? line.slice(0, -1) : line, secrets)) };
  const log = pino(
    {
      level,
      base: null,
      // Fields are ours as given: pino's special handling of an `err` field (serializer, msg) stays off.
      errorKey: '_pinoError',
      serializers: { err: (v: unknown) => v },
      timestamp: () => `,"t":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const emit = (lvl: Exclude<LogLevel, 'silent'>) => (event: string, fields?: Record<string, unknown>) => {
    if (log.isLevelEnabled(lvl)) log[lvl](loggable(event, fields));
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** A log file is rotated (to `<file>.1`) when it has grown past this at start-up. */
const ROTATE_BYTES = 10_000_000;

/**
 * A `write` for `createLogger` that appends lines to `file` (created with its folder on the first
 * line). Synchronous, so lines written just before an exit are not lost. When the file cannot be
 * written, `onFailure` is told once and later lines are dropped: a log must never stop a command.
 */
export function appendToFile(file: string, onFailure: (message: string) => void): (line: string) => void {
  let state: 'new' | 'open' | 'failed' = 'new';
  return (line) => {
    if (state === 'failed') return;
    try {
      if (state === 'new') {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        if ((fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0) > ROTATE_BYTES) fs.renameSync(file, `${file}.1`);
        state = 'open';
      }
      fs.appendFileSync(file, line + '\n');
    } catch (err) {
      state = 'failed';
      onFailure(`Could not write the log file ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}); log lines are dropped.`);
    }
  };
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = createLogger('silent');
