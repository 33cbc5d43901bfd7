/** Shared set-up for the store tests: a temp folder with articles and an app over it. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { onTestFinished } from 'vitest';
import type { App } from '../../src/app.js';
import { CORPUS } from '../support/corpus.js';
import { tempDir, testApp, writeFiles } from '../support/stack.js';

const run = promisify(execFile);
// Run the child as plain node with the tsx loader, so a SIGKILL hits the process we observe
// (the tsx CLI would wrap it and report exit code 137 instead).
const NODE = process.execPath;

/** Runs a TypeScript child script; rejects with its exit signal and output when it fails. */
export const tsChild = (script: string, ...args: string[]) => run(NODE, ['--import', 'tsx', script, ...args]);

// Cleanup is registered per test (onTestFinished), not with a module-level afterEach: unit test
// files share one process, so a module-level hook would run only in the first file importing this.

/** Closes `app` (and nothing else) after the test. */
export function closeLater(app: App): void {
  onTestFinished(() => app.close());
}

/** A temp folder with `files` as its articles and an app over it (both cleaned up after the test). */
export async function setup(files: Record<string, string> = CORPUS, env: Record<string, string> = {}) {
  const root = tempDir();
  let app: App | undefined;
  onTestFinished(() => {
    app?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });
  writeFiles(path.join(root, 'articles'), files);
  app = await testApp(root, env);
  return { root, app, articles: path.join(root, 'articles'), indexDir: path.join(root, 'index-data') };
}

/** The generation `CURRENT` names. */
export function generation(indexDir: string): string {
  return fs.readFileSync(path.join(indexDir, 'CURRENT'), 'utf8').trim();
}
