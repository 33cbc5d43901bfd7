/**
 * `npm start` with a bot token that fails while opening the bot's state, after the /healthz
 * server (METRICS_PORT) is already listening: the command must end with its one line and exit,
 * not keep answering /healthz 200 for a bot that never started.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mdArticle, tempDir, writeFiles } from '../support/stack.js';
import { freePort } from '../support/telegram.js';
import { runCli } from './support.js';

let root: string;
beforeAll(() => {
  root = tempDir();
  writeFiles(path.join(root, 'articles'), { 'a.md': mdArticle('Council passes budget', '2024-06-02', 'The council passed its budget.') });
  // A folder where the feeds database should be: opening the feeds' state fails.
  fs.mkdirSync(path.join(root, 'state', 'feeds.sqlite'), { recursive: true });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

it('exits after a start-up failure instead of leaving the metrics server running', async () => {
  const port = await freePort();
  let killed = false;
  let timer: NodeJS.Timeout | undefined;
  const r = await runCli(root, ['start'], {
    env: {
      EMBEDDING_PROVIDER: 'none',
      TELEGRAM_BOT_TOKEN: '123456:TEST-token',
      TELEGRAM_API_ROOT: 'http://127.0.0.1:9',
      METRICS_PORT: String(port),
    },
    onStderr: (stderr, child) => {
      // Once the failure is reported, the process has 10 s to exit on its own.
      if (timer || !/Unexpected error|Could not|EISDIR|SQLITE/i.test(stderr)) return;
      timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, 10_000);
    },
  });
  clearTimeout(timer);
  expect(killed, r.stderr).toBe(false);
  expect(r.code, r.stderr).toBe(1);
}, 60_000);
