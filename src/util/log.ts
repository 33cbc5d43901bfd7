/**
 * Structured logging: one JSON line per event, on stderr (the bot's service log) or appended to a
 * file (terminal commands, whose stderr is for people). Known secrets are masked in every line,
 * whatever field they end up in.
 */
import fs from 'node:fs';
import path from 'node:path';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

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

/** Creates a logger writing JSON lines through `write` (stderr by default). */
export function createLogger(
  level: LogLevel,
  secrets: readonly string[] = [],
  write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Logger {
  const emit = (lvl: LogLevel, event: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const record: Record<string, unknown> = { t: new Date().toISOString(), level: lvl, event, ...fields };
    for (const [k, v] of Object.entries(record)) if (v instanceof Error) record[k] = { name: v.name, message: v.message };
    write(redact(JSON.stringify(record), secrets));
  };
  return {
    debug: (e, f) => emit('debug', e, f),
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
  };
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
