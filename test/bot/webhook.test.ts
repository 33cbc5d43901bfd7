/**
 * Webhook mode: the bot registers its webhook with the secret token, refuses
 * updates without the secret, and answers the ones that carry it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TelegramHarness, freePort, textOf } from '../support/telegram.js';
import { FakeAnswerer, FakeLibrary } from '../support/telegram-fakes.js';

const SECRET = 'webhook-secret-1234567890';
let h: TelegramHarness;
let hookUrl: string;
const answerer = new FakeAnswerer();

beforeAll(async () => {
  const port = await freePort();
  hookUrl = `http://127.0.0.1:${port}/telegram/hook`;
  h = await TelegramHarness.start({
    answerer,
    library: new FakeLibrary(),
    config: { webhookUrl: hookUrl, webhookSecret: SECRET, webhookPort: port },
  });
});
afterAll(async () => h?.stop());

let updateId = 1;
function post(body: unknown, secret?: string, path = '/telegram/hook'): Promise<Response> {
  return fetch(new URL(path, hookUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}) },
    body: JSON.stringify(body),
  });
}
const update = (text: string) => ({
  update_id: updateId++,
  message: {
    message_id: 1000 + updateId,
    date: Math.floor(Date.now() / 1000),
    chat: { id: 8001, type: 'private', first_name: 'W' },
    from: { id: 8001, is_bot: false, first_name: 'W' },
    text,
  },
});

it('registers the webhook URL with its secret token instead of polling', () => {
  const set = h.callsOf('setWebhook');
  expect(set).toHaveLength(1);
  expect(set[0]!.payload).toMatchObject({ url: hookUrl, secret_token: SECRET });
  expect(h.callsOf('getUpdates')).toHaveLength(0);
});

it('refuses updates without the right secret token, and answers those with it', async () => {
  expect((await post(update('What did the mayor ask the council for?'))).status).toBe(401);
  expect((await post(update('What did the mayor ask the council for?'), 'wrong-secret-1234567890')).status).toBe(401);
  expect((await post(update('What did the mayor ask the council for?'), SECRET, '/elsewhere')).status).toBe(404);
  expect((await post({ not: 'an update' }, SECRET)).status).toBe(400);
  expect(answerer.calls).toHaveLength(0);

  expect((await post(update('What did the mayor ask the council for?'), SECRET)).status).toBe(200);
  const reply = await h.waitUntil(() => h.messagesIn(8001)[0], 10_000, 'the answer');
  expect(textOf(reply)).toContain('Mayor Alice Park');
  expect(answerer.calls).toHaveLength(1);
  expect(h.logEvents().filter((e) => e.event === 'bot.webhook_forged')).toHaveLength(2);
});

it('apologises through the same error boundary when answering fails', async () => {
  answerer.respond = () => {
    throw new Error('answerer down');
  };
  try {
    expect((await post(update('What did the mayor ask the council for?'), SECRET)).status).toBe(200);
    const apology = await h.waitUntil(() => h.messagesIn(8001)[1], 10_000, 'the apology');
    expect(apology.text).toBe('Sorry, something went wrong on my side. Please try again in a moment.');
  } finally {
    answerer.respond = undefined;
  }
});
