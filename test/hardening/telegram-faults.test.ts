/**
 * Telegram faults over the real stack: flood limits (429 with retry_after) on sendMessage and on
 * both kinds of editMessageText (the streamed preview and the final answer), HTML refused on the
 * final edit, and getUpdates failing with 502s or network errors. Every answer still arrives,
 * retries wait at least what Telegram asked, and polling resumes. Timings are printed, not asserted
 * (beyond "waited at least retry_after").
 *
 * Already covered elsewhere (test/bot/resilience.test.ts, with a fake answerer): a 429 on the
 * final sendMessage, and HTML refused on sendMessage with a plain-text resend.
 */
import { HttpError, type Transformer } from 'grammy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultHandler } from '../support/fake-openai.js';
import { BOT, textOf, type ApiCall } from '../support/telegram.js';
import { badPayloads, markdownTable, startStack, unexpectedErrors, type Stack } from './support.js';

let s: Stack;
const rows: (string | number)[][] = [];
let nextUser = 40_000;
let nextGroup = -100_400_000;

// getUpdates network failures, thrown where the runner meets them (after grammY's own retry layer).
let failPolls = 0;
const pollFailures: number[] = [];
let recoveredAt: number | undefined;
const flakyNetwork: Transformer = async (prev, method, payload, signal) => {
  if (method === 'getUpdates' && failPolls > 0) {
    failPolls--;
    pollFailures.push(Date.now());
    throw new HttpError("Network request for 'getUpdates' failed!", new Error('read ECONNRESET'));
  }
  if (method === 'getUpdates' && pollFailures.length > 0 && recoveredAt === undefined) recoveredAt = Date.now();
  return prev(method, payload, signal);
};

beforeAll(async () => {
  s = await startStack({
    // A streamed answer of about a second, so group answers get a preview message that is edited.
    handler: async (req) => ({ text: String(await defaultHandler(req)), chunkSize: 10, chunkDelayMs: 80 }),
    harness: { tuning: { editIntervalMs: 150 }, transformers: [flakyNetwork] },
  });
});

afterAll(async () => {
  console.log(`\nTelegram faults over the real stack:\n${markdownTable(['fault', 'what happened', 'measured'], rows)}\n`);
  await s?.stop();
});

const tooMany = (retryAfter: number) => ({
  status: 429,
  body: {
    ok: false,
    error_code: 429,
    description: `Too Many Requests: retry after ${retryAfter}`,
    parameters: { retry_after: retryAfter },
  },
});

/** Fails the first call matching `match` once with a 429; returns the calls of that chat for inspection. */
function limitOnce(match: (method: string, payload: Record<string, unknown>) => boolean, retryAfter: number): { hit: () => boolean } {
  let done = false;
  s.h.faults.push((method, payload) => {
    if (done || !match(method, payload)) return undefined;
    done = true;
    return tooMany(retryAfter);
  });
  return { hit: () => done };
}

/** The call retried after `failed`: same method, chat, message and text, later. */
function retryOf(failed: ApiCall): ApiCall | undefined {
  return s.h.calls.find(
    (c) =>
      c.at > failed.at &&
      c.ok &&
      c.method === failed.method &&
      c.payload.chat_id === failed.payload.chat_id &&
      c.payload.message_id === failed.payload.message_id &&
      c.payload.text === failed.payload.text,
  );
}

function failedWith429(chatId: number, method: string): ApiCall {
  const failed = s.h.calls.find(
    (c) => c.method === method && c.payload.chat_id === chatId && !c.ok && /Too Many Requests/.test(c.error ?? ''),
  );
  expect(failed).toBeDefined();
  return failed!;
}

describe('flood limits (429 with retry_after)', () => {
  it('on sendMessage: the answer is sent again after retry_after', async () => {
    const chat = s.h.privateChat(++nextUser);
    limitOnce((m, p) => m === 'sendMessage' && p.chat_id === chat.chat.id, 2);
    await chat.send('Who won the national chess championship?');
    const [answer] = await chat.waitForReplies(1, 20_000);
    expect(textOf(answer!)).toMatch(/chess championship[\s\S]*Sources/);
    const failed = failedWith429(chat.chat.id, 'sendMessage');
    const retried = retryOf(failed)!;
    expect(retried.at - failed.at).toBeGreaterThanOrEqual(2000);
    rows.push([
      '429 (retry_after 2) on the answer’s sendMessage',
      'retried once, answer delivered',
      `retry after ${retried.at - failed.at} ms`,
    ]);
  });

  it('on a streamed preview edit: the edit waits retry_after and the final answer still arrives', async () => {
    const group = s.h.groupChat(--nextGroup, ++nextUser);
    limitOnce((m, p) => m === 'editMessageText' && p.chat_id === group.chat.id && p.parse_mode === undefined, 1);
    await group.send(`@${BOT.username} who won the national chess championship?`);
    const final = await group.waitFor((m) => m.text.includes('<b>Sources</b>'), 20_000, 'the final answer');
    expect(textOf(final)).toMatch(/chess championship/);
    const failed = failedWith429(group.chat.id, 'editMessageText');
    const retried = retryOf(failed)!;
    expect(retried.at - failed.at).toBeGreaterThanOrEqual(1000);
    rows.push([
      '429 (retry_after 1) on a preview editMessageText',
      'edit retried, final answer delivered',
      `retry after ${retried.at - failed.at} ms`,
    ]);
  });

  it('on the final edit that turns the preview into the answer: retried after retry_after, same text', async () => {
    const group = s.h.groupChat(--nextGroup, ++nextUser);
    limitOnce((m, p) => m === 'editMessageText' && p.chat_id === group.chat.id && p.parse_mode === 'HTML', 1);
    await group.send(`@${BOT.username} who won the national chess championship?`);
    const final = await group.waitFor((m) => m.text.includes('<b>Sources</b>'), 20_000, 'the final answer');
    const failed = failedWith429(group.chat.id, 'editMessageText');
    const retried = retryOf(failed)!;
    expect(retried.at - failed.at).toBeGreaterThanOrEqual(1000);
    expect(retried.payload.text).toBe(final.text);
    expect(group.messages).toHaveLength(1);
    rows.push([
      '429 (retry_after 1) on the final editMessageText',
      'edit retried, one message with the answer',
      `retry after ${retried.at - failed.at} ms`,
    ]);
  });
});

describe('formatting refused', () => {
  it('HTML refused on the final edit: the answer is edited in as plain text instead', async () => {
    const group = s.h.groupChat(--nextGroup, ++nextUser);
    let refused = 0;
    s.h.faults.push((method, payload) => {
      if (method !== 'editMessageText' || payload.chat_id !== group.chat.id || payload.parse_mode !== 'HTML' || refused > 0)
        return undefined;
      refused++;
      return {
        status: 400,
        body: { ok: false, error_code: 400, description: 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0' },
      };
    });
    await group.send(`@${BOT.username} who won the national chess championship?`);
    const final = await group.waitFor(
      (m) => /\nSources\n\[1\]/.test(m.text) && m.parse_mode === undefined,
      20_000,
      'the plain-text answer',
    );
    expect(refused).toBe(1);
    expect(final.text).toMatch(/chess championship[\s\S]*\[1\] Teenager wins national chess championship/);
    expect(final.reply_markup?.inline_keyboard.flat().map((b) => b.text)).toEqual(['Show quotes']);
    expect(s.h.logEvents().filter((e) => e.event === 'bot.html_rejected' && e.chat_id === group.chat.id)).toHaveLength(1);
    rows.push([
      'HTML refused (400 can’t parse entities) on the final edit',
      'same answer edited in as plain text, button kept',
      '1 extra call',
    ]);
  });
});

describe('getUpdates failing', () => {
  it('a 502 from getUpdates: polling resumes and the question sent meanwhile is answered', async () => {
    let bad = 0;
    s.h.faults.push((method) => {
      if (method !== 'getUpdates' || bad >= 1) return undefined;
      bad++;
      return { status: 502, body: { ok: false, error_code: 502, description: 'Bad Gateway' } };
    });
    await s.h.waitUntil(() => s.h.callsOf('getUpdates').find((c) => !c.ok && c.error === 'Bad Gateway'), 5000, 'the 502');
    const chat = s.h.privateChat(++nextUser);
    const sent = Date.now();
    await chat.send('Who won the national chess championship?');
    const [answer] = await chat.waitForReplies(1, 30_000);
    expect(textOf(answer!)).toMatch(/Sources/);
    const ms = Date.now() - sent;
    rows.push([
      '502 Bad Gateway on getUpdates',
      'polling resumed (grammY auto-retry backs off 3 s), question sent during the outage answered',
      `answered after ${ms} ms`,
    ]);
  });

  it('network errors on getUpdates: polling resumes and questions sent during and after the outage are answered', async () => {
    failPolls = 5;
    // Failed polls never reach the emulator, so watch the counter directly rather than the harness.
    const outageStarted = Date.now();
    while (pollFailures.length === 0 && Date.now() - outageStarted < 5000) await new Promise((r) => setTimeout(r, 5));
    const chat = s.h.privateChat(++nextUser);
    const sent = Date.now();
    await chat.send('Who won the national chess championship?');
    // The question really went out during the outage: polling was still failing.
    expect(pollFailures.length).toBeGreaterThan(0);
    expect(failPolls).toBeGreaterThan(0);
    const [during] = await chat.waitForReplies(1, 30_000);
    const ms = Date.now() - sent;
    expect(textOf(during!)).toMatch(/Sources/);
    expect(pollFailures).toHaveLength(5);
    await chat.send('What erupted on Tamuna?');
    const [after] = await chat.waitForReplies(1, 20_000);
    expect(textOf(after!)).toMatch(/volcano/i);
    const attempts = [...pollFailures, recoveredAt!];
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    rows.push([
      '5 network errors in a row on getUpdates',
      'polling resumed (runner retries), question sent during the outage answered, next one too',
      `answered after ${ms} ms; runner retried after ${gaps.join(', ')} ms (doubling, no cap)`,
    ]);
    expect(s.h.logEvents().filter((e) => e.event === 'bot.polling_failed')).toEqual([]);
  });
});

describe('afterwards', () => {
  it('nothing was lost or sent broken, and no unexpected error was logged', async () => {
    expect(badPayloads(s.h)).toEqual([]);
    expect(unexpectedErrors(s.h)).toEqual([]);
  });
});
