/**
 * The app the measuring scripts run: over `articlesDir`, with its index and state in a fresh
 * temporary folder that `close()` removes. Lexical only unless `model` is set (then the
 * developer's .env and environment choose the embedding model); never an answer model.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type App, createApp } from '../src/app.js';
import { loadConfig, parseConfig } from '../src/config/index.js';
import { silentLogger } from '../src/util/log.js';

export async function openScratchApp(articlesDir: string, options: { model?: boolean; prefix: string }): Promise<App> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), options.prefix));
  if (options.model) loadConfig();
  const config = parseConfig({
    ...(options.model ? process.env : { EMBEDDING_PROVIDER: 'none' }),
    ARTICLES_DIR: path.resolve(articlesDir),
    INDEX_DIR: path.join(scratch, 'index'),
    STATE_DIR: path.join(scratch, 'state'),
    OPENAI_API_KEY: '',
    OPENAI_BASE_URL: '',
  });
  let app: App;
  try {
    app = await createApp(config, silentLogger);
  } catch (err) {
    fs.rmSync(scratch, { recursive: true, force: true });
    throw err;
  }
  const closeApp = app.close;
  return {
    ...app,
    close: () => {
      closeApp();
      fs.rmSync(scratch, { recursive: true, force: true });
    },
  };
}
