/**
 * Running the real CLI as a child process over a temp folder: the fixture model, no network, and a
 * temp working folder so no developer .env is read. Used by the CLI tests that drive whole commands.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FIXTURE_MODEL_ID, FIXTURE_MODELS_DIR } from '../support/fixture-model.js';

// The loader is passed by absolute URL because the child's cwd is the temp folder.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const MAIN = path.resolve('src/cli/main.ts');

/** How a CLI child ended. */
export interface CliResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Environment for the CLI over `root` (articles in `root/articles` unless ARTICLES_DIR is given):
 * temp folders, the fixture model, and nothing from the caller's shell that points at keys, bots,
 * feeds or a database.
 */
export function cliEnv(root: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(OPENAI_|TELEGRAM_|EMBEDDING_|LOCAL_MODEL_DIR|LOG_|FEED_|DATABASE_|npm_config_)/.test(k),
    ),
  );
  return {
    ...clean,
    ARTICLES_DIR: path.join(root, 'articles'),
    INDEX_DIR: path.join(root, 'index-data'),
    STATE_DIR: path.join(root, 'state'),
    MODEL_CACHE_DIR: path.join(root, 'cache'),
    LOCAL_MODEL_DIR: FIXTURE_MODELS_DIR,
    EMBEDDING_MODEL: FIXTURE_MODEL_ID,
    ALLOW_REMOTE_MODELS: 'false',
    EMBEDDING_QUANTIZED: 'false',
    ...extra,
  };
}

/** Options for `runCli`. */
export interface RunOptions {
  env?: Record<string, string>;
  /** Written to stdin, which is then closed (the chat reads it line by line). */
  input?: string;
  /** Called with the stderr seen so far after every chunk; may signal the child. */
  onStderr?: (stderr: string, child: { kill(signal: NodeJS.Signals): boolean }) => void;
}

/** Runs `src/cli/main.ts args…` in `root` and resolves when it exits (never rejects on a non-zero exit). */
export function runCli(root: string, args: string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], { env: cliEnv(root, options.env), cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      options.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ stdout, stderr, code, signal }));
    child.stdin.end(options.input ?? '');
  });
}
