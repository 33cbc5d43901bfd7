/**
 * Failure handling: Telegram refusing HTML, the answerer failing, floods, connections
 * reset while sending, strangers under an allowlist, secrets in logs, a second instance
 * (409) and shutting down with an answer in flight.
 */
import type { Transformer } from 'grammy';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBot } from '../../src/bot/index.js';
import { sqliteBotState } from '../../src/bot/stores.js';
import type { AnswerStream } from '../../src/types.js';
import { UserError } from '../../src/util/errors.js';
import { silentLogger } from '../../src/util/log.js';
import { BOT, FAKE_TOKEN, TelegramHarness, freePort, telegramConfig, type HarnessOptions, type SocketFault } from '../support/telegram.js';
import { FakeAnswerer, FakeLibrary } from '../support/telegram-fakes.js';

let h: TelegramHarness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function start(options: Partial<HarnessOptions> = {}): Promise<{ h: TelegramHarness; answerer: FakeAnswerer }> {
  const answerer = new FakeAnswerer();
  h = await TelegramHarness.start({ answerer, library: new FakeLibrary(), ...options });
  return { h, answerer };
}

describe('formatting refused by Telegram', () => {
  it('resends the answer as plain text when the HTML is rejected', async () => {
    let refused = 0;
    const refuseFirstHtml: Transformer = async (prev, method, payload, signal) => {
      if (method === 'sendMessage' && (payload as { parse_mode?: string }).parse_mode === 'HTML' && refused === 0) {
        refused++;
        return {
          ok: false,
          error_code: 400,
          description: 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 3',
        };
      }
      return prev(method, payload, signal);
    };
    const { h } = await start({ transformers: [refuseFirstHtml] });
    const chat = h.privateChat(7001);
    await chat.send('What did the mayor ask the council for?');
    const [reply] = await chat.waitForReplies(1);
    expect(refused).toBe(1);
    expect(reply!.parse_mode).toBeUndefined();
    expect(reply!.text).toMatch(
      /12 million dollars .*\[1\]\n\nSources\n\[1\] Mayor Alice Park asks council for flood barriers \(https:\/\/news\.example\/flood-barriers\) · 2024-03-02$/s,
    );
    expect(reply!.reply_markup?.inline_keyboard.flat().map((b) => b.text)).toEqual(['Show quotes']);
    expect(h.logEvents().filter((e) => e.event === 'bot.html_rejected')).toHaveLength(1);
  });
});

describe('Telegram flood limits', () => {
  it('honours retry_after on a 429 and delivers the answer after waiting', async () => {
    const { h } = await start();
    let limited = false;
    h.faults.push((method, payload) => {
      if (method !== 'sendMessage' || payload.chat_id !== 7010 || limited) return undefined;
      limited = true;
      return {
        status: 429,
        body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } },
      };
    });
    const chat = h.privateChat(7010);
    await chat.send('What did the mayor ask the council for?');
    const [answer] = await chat.waitForReplies(1);
    expect(answer!.text).toContain('Mayor Alice Park');
    const sends = h.callsOf('sendMessage').filter((c) => c.payload.chat_id === 7010);
    expect(sends.map((c) => c.ok)).toEqual([false, true]);
    expect(sends[1]!.at - sends[0]!.at).toBeGreaterThanOrEqual(1000);
  });
});

describe('connections that break while an answer is sent', () => {
  const QUESTION = 'What did the mayor ask the council for?';
  const APOLOGY =
    'Sorry, your answer is ready but I could not send it (a connection problem). Tap “Try again”, or send “try again”, and it comes right away.';

  /** Breaks the next `times` sendMessage calls to `chatId` with `fault`. */
  function breakSends(h: TelegramHarness, chatId: number, fault: SocketFault, times: number): void {
    let left = times;
    h.socketFaults.push((method, payload) => {
      if (method !== 'sendMessage' || Number(payload.chat_id) !== chatId || left === 0) return undefined;
      left--;
      return fault;
    });
  }

  const sendsTo = (h: TelegramHarness, chatId: number) => h.callsOf('sendMessage').filter((c) => Number(c.payload.chat_id) === chatId);

  it('sends once more when the connection is reset before any response, and the user just gets the answer', async () => {
    const { h, answerer } = await start();
    breakSends(h, 7020, 'reset', 1);
    const chat = h.privateChat(7020);
    await chat.send(QUESTION);
    const [answer] = await chat.waitForReplies(1);
    expect(answer!.text).toContain('Mayor Alice Park');
    await chat.expectNoReplies(300);
    expect(sendsTo(h, 7020).map((c) => c.error ?? 'ok')).toEqual(['connection reset', 'ok']);
    expect(answerer.calls).toHaveLength(1);
    expect(h.logEvents().filter((e) => e.event === 'bot.send_retried')).toMatchObject([{ level: 'warn', method: 'sendMessage' }]);
  });

  it('edits once more when the final edit of a streamed preview is reset before any response', async () => {
    const { h, answerer } = await start({ tuning: { editIntervalMs: 100 } });
    answerer.deltaDelayMs = 40;
    let reset = false;
    h.socketFaults.push((method, payload) => {
      if (reset || method !== 'editMessageText' || payload.parse_mode !== 'HTML') return undefined;
      reset = true;
      return 'reset';
    });
    const group = h.groupChat(-100_700, 7024);
    await group.send(`@${BOT.username} what did the mayor ask the council for?`);
    const final = await group.waitForNew((m) => m.text.includes('<b>Sources</b>'), 15_000, 'the finished answer');
    await group.expectNoReplies(300);
    expect(group.messages).toEqual([final]);
    const finalEdits = h.callsOf('editMessageText').filter((c) => c.payload.parse_mode === 'HTML');
    expect(finalEdits.map((c) => c.error ?? 'ok')).toEqual(['connection reset', 'ok']);
  });

  it('after a second reset, apologises with a button that sends the kept answer without asking again', async () => {
    const { h, answerer } = await start();
    breakSends(h, 7021, 'reset', 2);
    const chat = h.privateChat(7021);
    await chat.send(QUESTION);
    const [apology] = await chat.waitForReplies(1);
    expect(apology!.text).toBe(APOLOGY);
    expect(apology!.reply_markup?.inline_keyboard.flat().map((b) => b.text)).toEqual(['Try again']);
    expect(h.logEvents().filter((e) => e.event === 'bot.update_failed')).toHaveLength(0);

    await chat.tap(apology!, 'Try again');
    const [answer] = await chat.waitForReplies(1);
    expect(answer!.text).toContain('Mayor Alice Park');
    expect(answer!.reply_markup?.inline_keyboard.flat().map((b) => b.text)).toEqual(['Show quotes']);
    // Answered from the kept answer: the answerer ran once, for the original question.
    expect(answerer.calls).toHaveLength(1);
    // The button has done its job; pressed again, it says so instead of sending the answer twice.
    await chat.tap(apology!, 'Try again');
    await chat.expectNoReplies(300);
    // The delivered answer is part of the conversation: a follow-up gets it as history.
    await chat.send('And when?');
    await chat.waitForReplies(1);
    expect(answerer.calls[1]!.history.map((t) => t.role)).toEqual(['user', 'assistant']);
  });

  it('answers a typed "try again" from the kept answer at once', async () => {
    const { h, answerer } = await start();
    breakSends(h, 7022, 'reset', 2);
    const chat = h.privateChat(7022);
    await chat.send(QUESTION);
    const [apology] = await chat.waitForReplies(1);
    expect(apology!.text).toBe(APOLOGY);
    await chat.send('Try again!');
    const [answer] = await chat.waitForReplies(1);
    expect(answer!.text).toContain('Mayor Alice Park');
    expect(answerer.calls.map((c) => c.question)).toEqual([QUESTION]);
    // Nothing is kept any more: "try again" is an ordinary message now.
    await chat.send('try again');
    await chat.waitForReplies(1);
    expect(answerer.calls.map((c) => c.question)).toEqual([QUESTION, 'try again']);
  });

  it('never sends again when Telegram did respond, even if the response broke off', async () => {
    const { h, answerer } = await start();
    breakSends(h, 7023, 'torn', 1);
    const chat = h.privateChat(7023);
    await chat.send(QUESTION);
    // Telegram took the message, so it is there; the bot could not know and apologises.
    const [delivered, apology] = await chat.waitForReplies(2);
    expect(delivered!.text).toContain('Mayor Alice Park');
    expect(apology!.text).toBe(APOLOGY);
    expect(sendsTo(h, 7023).map((c) => c.error ?? 'ok')).toEqual(['connection torn', 'ok']);
    expect(h.logEvents().filter((e) => e.event === 'bot.send_retried')).toHaveLength(0);
    expect(answerer.calls).toHaveLength(1);
  });
});

describe('the error boundary', () => {
  it('apologises when the answerer throws, logs the update id, and keeps answering', async () => {
    const { h, answerer } = await start();
    const chat = h.privateChat(7002);
    answerer.respond = () => {
      throw new Error('index exploded');
    };
    await chat.send('What did the mayor ask the council for?');
    const [apology] = await chat.waitForReplies(1);
    expect(apology!.text).toBe('Sorry, something went wrong on my side. Please try again in a moment.');
    const failure = h.logEvents().find((e) => e.event === 'bot.update_failed');
    expect(failure).toMatchObject({ level: 'error', update_id: expect.any(Number), error: { message: 'index exploded' } });

    // A synchronous throw from askStream takes the same path.
    const askStream = answerer.askStream.bind(answerer);
    answerer.askStream = (): AnswerStream => {
      throw new Error('not even a stream');
    };
    await chat.send('What did the mayor ask the council for?');
    const [second] = await chat.waitForReplies(1);
    expect(second!.text).toBe(apology!.text);

    answerer.askStream = askStream;
    answerer.respond = undefined;
    await chat.send('What did the mayor ask the council for?');
    const [answer] = await chat.waitForReplies(1);
    expect(answer!.text).toContain('Mayor Alice Park');
  });
});

describe('rate limit', () => {
  it('replies once, politely, then stays quiet until the window passes', async () => {
    const { h, answerer } = await start({ config: { rateLimitPerMinute: 2 } });
    const chat = h.privateChat(7003);
    for (let i = 0; i < 5; i++) await chat.send(`What did the mayor ask the council for? (${i})`);
    const replies = await chat.waitForReplies(3);
    await chat.expectNoReplies(500);
    expect(replies.filter((r) => r.text.includes('faster than I can answer'))).toHaveLength(1);
    expect(replies.find((r) => r.text.includes('faster'))!.text).toBe(
      "You're sending messages faster than I can answer (limit: 2 per minute). Please wait a minute, then ask again.",
    );
    expect(answerer.calls.map((c) => c.question)).toEqual([
      'What did the mayor ask the council for? (0)',
      'What did the mayor ask the council for? (1)',
    ]);
    // Other users are not affected.
    const other = h.privateChat(7004);
    await other.send('What did the mayor ask the council for?');
    const [answer] = await other.waitForReplies(1);
    expect(answer!.text).toContain('Mayor Alice Park');
  });
});

describe('allowlist', () => {
  it('refuses strangers once, politely, and serves listed users and admins', async () => {
    const { h, answerer } = await start({ config: { allowedUserIds: [7005], adminUserIds: [7006] } });
    const stranger = h.privateChat(7007);
    await stranger.send('What did the mayor ask the council for?');
    const [refusal] = await stranger.waitForReplies(1);
    expect(refusal!.text).toBe('Sorry, this bot is private. Please ask its owner for access.');
    await stranger.send('/start');
    await stranger.send('hello?');
    await stranger.expectNoReplies(300);
    expect(answerer.calls).toHaveLength(0);
    for (const id of [7005, 7006]) {
      const chat = h.privateChat(id);
      await chat.send('What did the mayor ask the council for?');
      const [answer] = await chat.waitForReplies(1);
      expect(answer!.text).toContain('Mayor Alice Park');
    }
  });
});

describe('secrets', () => {
  it('never writes the bot token to a log line or a message, even when an error quotes it', async () => {
    const { h, answerer } = await start({ config: { adminUserIds: [7008] } });
    const chat = h.privateChat(7008);
    await chat.send('What did the mayor ask the council for?');
    await chat.waitForReplies(1);
    answerer.respond = () => {
      throw new Error(`fetch https://api.telegram.org/bot${FAKE_TOKEN}/getFile failed`);
    };
    await chat.send('What did the mayor ask the council for?');
    await chat.waitForReplies(1);
    // A document whose download fails: the file URL embeds the token.
    await chat.sendDocument({ fileName: 'gone.txt' });
    await chat.waitForReplies(1);
    await h.restartBot();

    const secretPart = FAKE_TOKEN.split(':')[1]!;
    expect(h.logs.length).toBeGreaterThan(5);
    for (const line of h.logs) expect(line).not.toContain(secretPart);
    for (const m of h.messages.values()) for (const v of m.versions) expect(v).not.toContain(secretPart);
    // Redaction really happened (the error above quoted the token), rather than nothing being logged.
    expect(h.logs.some((l) => l.includes('/bot***/getFile'))).toBe(true);
  });
});

describe('lifecycle', () => {
  it('on a 409 Conflict from getUpdates, logs one clear line and stops polling', async () => {
    const { h } = await start();
    h.faults.push((method) =>
      method === 'getUpdates'
        ? {
            status: 409,
            body: {
              ok: false,
              error_code: 409,
              description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
            },
          }
        : undefined,
    );
    expect(await h.handle.finished).toBe('conflict');
    const polls = h.callsOf('getUpdates').length;
    await new Promise((r) => setTimeout(r, 600));
    expect(h.callsOf('getUpdates')).toHaveLength(polls);
    const conflict = h.logEvents().filter((e) => e.event === 'bot.polling_conflict');
    expect(conflict).toHaveLength(1);
    expect(conflict[0]).toMatchObject({ level: 'error', message: expect.stringMatching(/another instance/) });
    expect(h.logEvents().filter((e) => e.level === 'error')).toHaveLength(1);
  });

  it('stop() waits for the answer in flight, then closes', async () => {
    const { h, answerer } = await start();
    answerer.deltaDelayMs = 60;
    const chat = h.privateChat(7009);
    await chat.send('What did the mayor ask the council for?');
    await h.waitUntil(() => h.callsOf('sendChatAction').some((c) => c.payload.chat_id === 7009));
    expect(chat.messages).toHaveLength(0);
    await h.handle.stop();
    expect(chat.messages).toHaveLength(1);
    expect(chat.messages[0]!.text).toContain('Sources');
    expect(await h.handle.finished).toBe('stopped');
  });
});

describe('start-up failures', () => {
  async function startAgainst(apiRoot: string, token: string): Promise<unknown> {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bot-state-'));
    const bot = createBot({
      token,
      config: telegramConfig(apiRoot, { token }),
      intake: { maxUploadBytes: 20_000_000, fetchTimeoutMs: 15_000 },
      state: (settings) => sqliteBotState(stateDir, { ...settings, historyTurns: 6 }),
      answerer: new FakeAnswerer(),
      library: new FakeLibrary(),
      logger: silentLogger,
      secrets: [],
    });
    try {
      await bot.start();
      return undefined;
    } catch (err) {
      return err;
    } finally {
      await bot.stop();
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  }

  it('explains a rejected token in one line', async () => {
    const { h } = await start();
    const err = await startAgainst(h.apiRoot, '123:not-the-right-token');
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe('Telegram rejected the bot token (401); check TELEGRAM_BOT_TOKEN.');
  });

  it('explains an unreachable Bot API server in one line', async () => {
    const apiRoot = `http://127.0.0.1:${await freePort()}`;
    const err = await startAgainst(apiRoot, FAKE_TOKEN);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(`Could not reach the Telegram Bot API at ${apiRoot}; check the network or TELEGRAM_API_ROOT.`);
  });
});
