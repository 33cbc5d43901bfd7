/**
 * `npm start` as a separate process, the way an operator runs it: `main.ts start` over a cleaned
 * environment (nothing from the developer's OPENAI_/TELEGRAM_/DATABASE_… settings leaks in) plus
 * the test's settings; its output and JSON log lines are captured.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const MAIN = path.resolve('src/cli/main.ts');

export interface BotProcess {
  child: ChildProcess;
  output(): string;
  /** Parsed JSON log lines so far. */
  events(): { event: string; [k: string]: unknown }[];
  /** SIGTERM, then SIGKILL after 10 s; resolves when it has exited. */
  stop(): Promise<void>;
  /** Resolves once the bot logged `bot.started` (rejects with its output after `timeoutMs`). */
  started(timeoutMs?: number): Promise<void>;
}

/** Where a process keeps its files, under `root`: articles (`root/articles`), index, state, model cache. */
export function folders(root: string): Record<string, string> {
  return {
    ARTICLES_DIR: path.join(root, 'articles'),
    INDEX_DIR: path.join(root, 'index-data'),
    STATE_DIR: path.join(root, 'state'),
    MODEL_CACHE_DIR: path.join(root, 'cache'),
  };
}

/** Spawns `main.ts <command>` (default `start`) with `env` over the cleaned environment. */
export function startBotProcess(env: Record<string, string>, command: 'start' | 'worker' = 'start'): BotProcess {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(OPENAI_|TELEGRAM_|EMBEDDING_|DATABASE_|WEBHOOK_|METRICS_|FEED_|LOCAL_MODEL_DIR|LOG_|npm_config_)/.test(k),
    ),
  );
  const child = spawn(process.execPath, ['--import', TSX, MAIN, command], {
    env: { ...clean, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const events = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event: string });
  return {
    child,
    output: () => out,
    events,
    started: async (timeoutMs = 90_000) => {
      await until(() => events().some((e) => e.event === 'bot.started'), timeoutMs, `the bot to start:\n${out}`);
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `check` every 50 ms until it returns a value, or throws after `timeoutMs`. */
export async function until<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
