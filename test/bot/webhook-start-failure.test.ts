/**
 * Webhook mode, failed start: when Telegram refuses setWebhook, start() rejects
 * and nothing is left open (webhook server, state database), so the process can exit.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createBot } from '../../src/bot/index.js';
import { sqliteBotState } from '../../src/bot/stores.js';
import { createLogger } from '../../src/util/log.js';
import { TelegramHarness, freePort } from '../support/telegram.js';
import { FakeAnswerer, FakeLibrary } from '../support/telegram-fakes.js';

let h: TelegramHarness;
beforeAll(async () => {
  h = await TelegramHarness.start({ answerer: new FakeAnswerer(), library: new FakeLibrary() });
});
afterAll(async () => h?.stop());

async function canListen(port: number): Promise<boolean> {
  const server = net.createServer();
  try {
    server.listen(port, '127.0.0.1');
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))]);
    return true;
  } catch {
    return false;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

it('closes the webhook server and the state database when setWebhook fails', async () => {
  h.faults.push((method) =>
    method === 'setWebhook'
      ? {
          status: 400,
          body: { ok: false, error_code: 400, description: 'Bad Request: bad webhook: HTTPS url must be provided for webhook' },
        }
      : undefined,
  );
  const port = await freePort();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bot-state-'));
  const bot = createBot({
    token: h.token,
    config: { ...h.config, webhookUrl: `http://127.0.0.1:${port}/hook`, webhookSecret: 'webhook-secret-1234567890', webhookPort: port },
    intake: { maxUploadBytes: 20_000_000, fetchTimeoutMs: 15_000 },
    state: (settings) => sqliteBotState(stateDir, { ...settings, historyTurns: 6 }),
    answerer: new FakeAnswerer(),
    library: new FakeLibrary(),
    logger: createLogger('error', [], () => undefined),
    secrets: [],
    tuning: { shutdownTimeoutMs: 1000 },
  });
  try {
    await expect(bot.start()).rejects.toThrow(/bad webhook/);
    expect(h.callsOf('setWebhook')).toHaveLength(1);
    expect(await canListen(port)).toBe(true);
    // Nothing to wait for: the bot has stopped by the time start() rejects.
    expect(await Promise.race([bot.finished, new Promise((resolve) => setTimeout(() => resolve('still running'), 50))])).toBe('failed');
  } finally {
    await bot.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
});
