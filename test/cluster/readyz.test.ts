/**
 * /readyz follows the database (issue #18): a bot process in webhook mode reaches PostgreSQL
 * through a TCP proxy on 127.0.0.1 (test/support/flaky-proxy.ts); when the proxy drops every
 * connection the webhook server's /readyz turns 503 naming the database, while /healthz stays 200,
 * and it turns ready again once the proxy forwards again, with nothing restarted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, folders, startBotProcess, until } from '../support/bot-process.js';
import { FlakyProxy } from '../support/flaky-proxy.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { mdArticle, tempDir, writeFiles } from '../support/stack.js';
import { FAKE_TOKEN, freePort, TelegramHarness } from '../support/telegram.js';

let db: TestDatabase;
let proxy: FlakyProxy;
let root: string;
let h: TelegramHarness;
let bot: BotProcess;
let port: number;

beforeAll(async () => {
  db = await createTestDatabase();
  const front = await FlakyProxy.inFrontOf(db.url);
  proxy = front.proxy;
  root = tempDir('readyz-');
  writeFiles(path.join(root, 'articles'), {
    'chess.md': mdArticle('Ingrid Solberg wins the Tromsø chess open', '2024-07-02', 'Ingrid Solberg won the Tromsø chess open on Sunday.'),
  });
  h = await TelegramHarness.forProcesses();
  port = await freePort();
  bot = startBotProcess({
    ...folders(root),
    EMBEDDING_PROVIDER: 'none',
    DATABASE_URL: front.url,
    DATABASE_CONNECT_TIMEOUT_MS: '1500',
    TELEGRAM_BOT_TOKEN: FAKE_TOKEN,
    TELEGRAM_API_ROOT: h.apiRoot,
    WEBHOOK_URL: `http://127.0.0.1:${port}/hook`,
    WEBHOOK_SECRET: 'readyz-test-secret',
    WEBHOOK_PORT: String(port),
    WEBHOOK_HOST: '127.0.0.1',
  });
  await bot.started();
}, 120_000);

afterAll(async () => {
  await bot?.stop();
  await h?.stop();
  await proxy?.stop();
  await db?.drop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

async function readyz(): Promise<{ status: number; body: { ready: boolean; checks: Record<string, string> } }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: (await res.json()) as { ready: boolean; checks: Record<string, string> } };
}

/** Polls /readyz until it answers `status`. */
function readyzTurns(status: number, what: string): ReturnType<typeof readyz> {
  return until(
    async () => {
      const r = await readyz();
      return r.status === status ? r : false;
    },
    20_000,
    `/readyz to ${what}`,
  );
}

describe('/readyz on the webhook server', () => {
  it('is ready with the database, unready while it is cut off, and ready again when it is back', { timeout: 60_000 }, async () => {
    expect(await readyz()).toEqual({ status: 200, body: { ready: true, checks: { index: 'ok', database: 'ok', telegram: 'ok' } } });
    // Loopback webhook server, no METRICS_TOKEN: /metrics is served there too.
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^newsdesk_questions_total\{outcome="answered"\} 0$/m);

    proxy.down();
    const down = await readyzTurns(503, 'report the database outage');
    expect(down.body.ready).toBe(false);
    expect(down.body.checks.database).not.toBe('ok');
    expect(down.body.checks.index).toBe('ok');
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    proxy.up();
    const back = await readyzTurns(200, 'be ready again');
    expect(back.body.checks).toEqual({ index: 'ok', database: 'ok', telegram: 'ok' });
    expect(bot.child.exitCode).toBeNull();
  });
});
