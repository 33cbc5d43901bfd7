/**
 * Inline buttons under abuse: forged paging data and button mashing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TelegramHarness, textOf } from '../support/telegram.js';
import { FakeAnswerer, FakeLibrary } from '../support/telegram-fakes.js';

describe('/sources paging buttons', () => {
  let h: TelegramHarness;
  beforeAll(async () => {
    h = await TelegramHarness.start({ answerer: new FakeAnswerer(), library: new FakeLibrary(), tuning: { sourcesPageSize: 2 } });
  });
  afterAll(async () => h?.stop());

  it('treats an out-of-range page offset as a stale button, not an internal error', async () => {
    const chat = h.privateChat(9101);
    await chat.send('/sources');
    const [list] = await chat.waitForReplies(1);
    await chat.tapData(list!, 's:99999999999999999999');
    // A real page button still works afterwards (updates of one chat are handled in order).
    await chat.tap(list!, 'Next ›');
    const turned = await chat.waitFor((m) => m.message_id === list!.message_id && m.versions.length === 2);
    expect(textOf(turned)).toMatch(/^Articles 3–3 of 3/);
    const answers = h.callsOf('answerCallbackQuery');
    expect(answers.filter((c) => String(c.payload.text ?? '').includes('Sorry, something went wrong'))).toHaveLength(0);
    expect(h.logEvents().filter((e) => e.event === 'bot.update_failed')).toHaveLength(0);
  });
});

describe('rate limit on button presses', () => {
  const LIMIT = 3;
  let h: TelegramHarness;
  beforeAll(async () => {
    h = await TelegramHarness.start({ answerer: new FakeAnswerer(), library: new FakeLibrary(), config: { rateLimitPerMinute: LIMIT } });
  });
  afterAll(async () => h?.stop());

  it('counts "Show quotes" presses against the per-user limit and refuses with a button notice', async () => {
    const chat = h.privateChat(9201);
    await chat.send('What did the mayor ask the council for?');
    const [answer] = await chat.waitForReplies(1);
    const presses = 10;
    for (let i = 0; i < presses; i++) await chat.tap(answer!, 'Show quotes');
    await h.waitUntil(() => h.callsOf('answerCallbackQuery').length >= presses || undefined, 10_000, 'every press answered');
    await chat.expectNoReplies(300).catch(() => undefined);
    const quotes = chat.messages.filter((m) => textOf(m).startsWith('Quotes'));
    // One hit went to the question; the presses share the rest of the window.
    expect(quotes.length).toBeGreaterThan(0);
    expect(quotes.length).toBeLessThanOrEqual(LIMIT - 1);
    expect(chat.messages.filter((m) => m.text.includes('faster than I can answer'))).toHaveLength(0);
    const notices = h.callsOf('answerCallbackQuery').filter((c) => String(c.payload.text ?? '').includes('faster than I can answer'));
    expect(notices.length).toBe(presses - quotes.length);
  });
});
