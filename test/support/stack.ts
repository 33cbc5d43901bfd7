/**
 * Builds the real product stack (config → embedder → library → retriever → answerer) over a
 * temporary articles folder, using the offline fixture model through the real transformers.js path.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp, type App } from '../../src/app.js';
import { parseConfig, type Config } from '../../src/config/index.js';
import { silentLogger, type Logger } from '../../src/util/log.js';
import { FIXTURE_MODEL_ID, FIXTURE_MODELS_DIR } from './fixture-model.js';

/**
 * A fresh temp folder, which the caller removes. Inside the run's own temp folder when the test
 * global setup made one (it fails the run if any is left behind), else in the system temp folder.
 */
export function tempDir(prefix = 'newsbot-'): string {
  return fs.mkdtempSync(path.join(process.env.NEWSDESK_TEST_TMPDIR || os.tmpdir(), prefix));
}

/** Writes `{relPath: content}` into `dir`. */
export function writeFiles(dir: string, files: Record<string, string | Uint8Array>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
}

/** Config for a test stack: fixture model, temp folders, no network, no LLM unless given. */
export function testConfig(root: string, env: Record<string, string> = {}): Config {
  return parseConfig(
    {
      ARTICLES_DIR: path.join(root, 'articles'),
      INDEX_DIR: path.join(root, 'index-data'),
      STATE_DIR: path.join(root, 'state'),
      EMBEDDING_MODEL: FIXTURE_MODEL_ID,
      LOCAL_MODEL_DIR: FIXTURE_MODELS_DIR,
      MODEL_CACHE_DIR: path.join(root, 'cache'),
      ALLOW_REMOTE_MODELS: 'false',
      EMBEDDING_QUANTIZED: 'false',
      CHUNK_MAX_TOKENS: '96',
      ...env,
    },
    root,
  );
}

/** Builds the app over `root` (articles in `root/articles`). */
export async function testApp(root: string, env: Record<string, string> = {}, logger: Logger = silentLogger): Promise<App> {
  fs.mkdirSync(path.join(root, 'articles'), { recursive: true });
  return createApp(testConfig(root, env), logger);
}

/** A small news article in Markdown with front matter. */
export function mdArticle(title: string, date: string, body: string, url = `https://news.example/${encodeURIComponent(title)}`): string {
  return `---\ntitle: ${JSON.stringify(title)}\ndate: ${date}\nurl: ${JSON.stringify(url)}\nsource: "Test News"\n---\n\n${body}\n`;
}

/** Resolves with `check`'s first truthy result, asking every 50 ms (for state read through async stores); rejects after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false | null>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
