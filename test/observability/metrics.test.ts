/**
 * Health and metrics of a running bot (issue #18), through its public surfaces only: `npm start`
 * as a process in polling mode with METRICS_PORT, the Bot API emulator, a fake OpenAI server and a
 * feed site. A scripted conversation produces every question outcome; then /metrics is scraped
 * over HTTP and each counter is compared with what the script did and what the fakes recorded.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NOT_COVERED_REPLY } from '../../src/answering/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, folders, startBotProcess, until } from '../support/bot-process.js';
import { type FakeOpenAI, fakeUsage, startFakeOpenAI } from '../support/fake-openai.js';
import { FeedSite, storyText } from '../support/feed-server.js';
import { mdArticle, tempDir, writeFiles } from '../support/stack.js';
import { FAKE_TOKEN, freePort, TelegramHarness, textOf } from '../support/telegram.js';

const METRICS_TOKEN = 'scrape-token-for-tests-123';
const MAX_CHARS = 60;

let root: string;
let h: TelegramHarness;
let llm: FakeOpenAI;
let site: FeedSite;
let bot: BotProcess;
let port: number;
/** The fake LLM's successful replies, with the messages they answered (for the token counts). */
const served: { messages: { role: string; content: string }[]; text: string }[] = [];

beforeAll(async () => {
  root = tempDir('metrics-');
  writeFiles(path.join(root, 'articles'), {
    'chess.md': mdArticle(
      'Ingrid Solberg wins the Tromsø chess open',
      '2024-07-02',
      'Ingrid Solberg won the Tromsø chess open on Sunday, beating the defending champion in the final round.',
    ),
    'ferry.md': mdArticle(
      'Harbour ferry timetable changes in Bergen',
      '2024-07-05',
      'The Bergen harbour ferry will run every twenty minutes from August. The city says the new boats are quieter.',
    ),
  });
  h = await TelegramHarness.forProcesses();
  let first = true;
  llm = await startFakeOpenAI({
    handler: (req) => {
      // The very first LLM call fails once with a server error; the retry succeeds.
      if (first) {
        first = false;
        return 500;
      }
      const question = req.messages[req.messages.length - 1]?.content ?? '';
      // (The question's message carries the sources too: look for the words of each question.)
      const text = question.includes('Quasar')
        ? NOT_COVERED_REPLY
        : question.includes('harbour ferry change')
          ? 'The ferry will run every twenty minutes from August [1].'
          : 'Ingrid Solberg won the chess open [1].';
      served.push({ messages: req.messages, text });
      return text;
    },
  });
  site = await FeedSite.start();
  site.rss('/news.rss', 'Test News', [
    {
      guid: 'g1',
      title: 'Lighthouse restored in Ålesund',
      date: '2024-07-06T08:00:00Z',
      path: '/l',
      content: storyText('The lighthouse was restored.'),
    },
  ]);
  const deadPort = await freePort();
  port = await freePort();
  bot = startBotProcess({
    ...folders(root),
    EMBEDDING_PROVIDER: 'none',
    TELEGRAM_BOT_TOKEN: FAKE_TOKEN,
    TELEGRAM_API_ROOT: h.apiRoot,
    OPENAI_API_KEY: 'sk-fake-key-for-tests',
    OPENAI_BASE_URL: llm.url,
    RATE_LIMIT_PER_MINUTE: '3',
    MAX_QUESTION_CHARS: String(MAX_CHARS),
    FEED_URLS: `${site.url('/news.rss')},http://127.0.0.1:${deadPort}/gone.rss`,
    ALLOW_PRIVATE_URLS: 'true',
    METRICS_PORT: String(port),
    METRICS_TOKEN,
  });
  await bot.started();
}, 120_000);

afterAll(async () => {
  await bot?.stop();
  await h?.stop();
  await llm?.close();
  await site?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one sample in Prometheus text (`name{a="b"} 3`), matching the given labels; 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
      total += Number(m[3]);
      found = true;
    }
  }
  return found ? total : 0;
}

/** Sends `text` and waits until the bot has logged one more `event` (the outcome of this message). */
async function ask(chat: ReturnType<TelegramHarness['privateChat']>, text: string, event: string): Promise<void> {
  const count = () => bot.events().filter((e) => e.event === event).length;
  const before = count();
  await chat.send(text);
  await until(() => count() > before, 30_000, `${event} after "${text}"`);
}

function lastText(chatId: number): string {
  const messages = h.messagesIn(chatId);
  return messages.length ? textOf(messages[messages.length - 1]!) : '';
}

const long = 'Please tell me absolutely everything you know about the chess open in Tromsø';

describe('metrics after a scripted conversation', () => {
  it('/healthz, /readyz and a token-guarded /metrics answer on METRICS_PORT', async () => {
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, checks: { index: 'ok', telegram: 'ok' } });
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/nothing`)).status).toBe(404);
  });

  it('counts every outcome, latency, LLM tokens and errors, the index, feeds and Telegram errors', { timeout: 90_000 }, async () => {
    expect(long.length).toBeGreaterThan(MAX_CHARS);
    const before = await scrape();
    for (const outcome of ['answered', 'not_covered', 'refused', 'rate_limited', 'failed']) {
      expect(sample(before, 'newsdesk_questions_total', { outcome }), outcome).toBe(0);
    }

    // A: answered (the LLM fails once, then answers), not covered, too long.
    const a = h.privateChat(7001);
    await ask(a, 'Who won the Tromsø chess open?', 'bot.answered');
    expect(lastText(7001)).toContain('Ingrid Solberg');
    await ask(a, 'Quasar xylophone zeppelin?', 'bot.answered');
    expect(lastText(7001)).toMatch(/don't cover/);
    await ask(a, long, 'bot.question_refused');
    await until(() => /too long/.test(lastText(7001)), 10_000, 'the too-long reply');

    // B: three refusals use up the limit of 3 a minute; the next two are rate-limited (one reply).
    const b = h.privateChat(7002);
    for (let i = 0; i < 3; i++) await ask(b, long, 'bot.question_refused');
    await ask(b, 'Who won?', 'bot.rate_limited');
    await until(() => /faster than I can answer/.test(lastText(7002)), 10_000, 'the rate-limit reply');
    await ask(b, 'Who won now?', 'bot.rate_limited');

    // C: answered by the LLM but Telegram refuses every message to this chat: the answer fails.
    h.faults.push((method, payload) =>
      method === 'sendMessage' && payload.chat_id === 7003
        ? { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: chat is gone' } }
        : undefined,
    );
    const c = h.privateChat(7003);
    await c.send('When does the Bergen harbour ferry change?');
    await until(() => bot.events().some((e) => e.event === 'bot.answer_undelivered'), 30_000, 'the undelivered answer');
    await until(() => bot.events().some((e) => e.event === 'feeds.polled'), 30_000, 'a feed poll');

    const text = await until(
      async () => {
        const t = await scrape();
        return sample(t, 'newsdesk_questions_total', { outcome: 'rate_limited' }) === 2 ? t : false;
      },
      10_000,
      'both rate-limited messages to be counted',
    );
    const q = (outcome: string) => sample(text, 'newsdesk_questions_total', { outcome });
    expect({
      answered: q('answered'),
      not_covered: q('not_covered'),
      refused: q('refused'),
      rate_limited: q('rate_limited'),
      failed: q('failed'),
    }).toEqual({ answered: 1, not_covered: 1, refused: 4, rate_limited: 2, failed: 1 });
    // Whole answers delivered: A's two. Retrievals: A's two and C's.
    expect(sample(text, 'newsdesk_answer_duration_seconds_count')).toBe(2);
    expect(sample(text, 'newsdesk_answer_duration_seconds_sum')).toBeGreaterThan(0);
    expect(sample(text, 'newsdesk_retrieval_duration_seconds_count')).toBe(3);
    // One LLM call per reply the fake served (the retried one counts once): A's answer, A's follow-up
    // condensed into a standalone query, C's answer.
    expect(sample(text, 'newsdesk_llm_duration_seconds_count')).toBe(served.length);
    expect(sample(text, 'newsdesk_llm_duration_seconds_count', { call: 'stream' })).toBe(2);
    expect(sample(text, 'newsdesk_llm_errors_total', { kind: 'server', outcome: 'retried' })).toBe(1);
    expect(sample(text, 'newsdesk_llm_errors_total', { outcome: 'gave_up' })).toBe(0);
    expect(served).toHaveLength(3);
    const usage = served.map((s) => fakeUsage(s.messages, s.text));
    expect(sample(text, 'newsdesk_llm_tokens_total', { kind: 'prompt' })).toBe(usage.reduce((n, u) => n + u.prompt_tokens, 0));
    expect(sample(text, 'newsdesk_llm_tokens_total', { kind: 'completion' })).toBe(usage.reduce((n, u) => n + u.completion_tokens, 0));

    // The index as served (the feed may already have added its story), and its age.
    const articles = sample(text, 'newsdesk_articles');
    expect([2, 3]).toContain(articles);
    expect(sample(text, 'newsdesk_chunks')).toBeGreaterThanOrEqual(articles);
    const age = sample(text, 'newsdesk_index_generation_age_seconds');
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(600);

    // Feeds: as many fetches and failures as the poller reported (the dead one fails every time).
    const polled = bot.events().filter((e) => e.event === 'feeds.polled');
    expect(sample(text, 'newsdesk_feed_polls_total')).toBe(polled.reduce((n, e) => n + Number(e.feeds), 0));
    expect(sample(text, 'newsdesk_feed_poll_failures_total')).toBe(polled.reduce((n, e) => n + Number(e.failed), 0));
    expect(sample(text, 'newsdesk_feed_poll_failures_total')).toBeGreaterThanOrEqual(1);

    // Telegram errors: per method, exactly the failed calls the emulator side recorded.
    const failedCalls = new Map<string, number>();
    for (const call of h.calls) if (!call.ok) failedCalls.set(call.method, (failedCalls.get(call.method) ?? 0) + 1);
    expect(failedCalls.get('sendMessage')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'newsdesk_telegram_api_errors_total', { method: 'sendMessage', code: '400' })).toBe(failedCalls.get('sendMessage'));
    for (const [method, n] of failedCalls) expect(sample(text, 'newsdesk_telegram_api_errors_total', { method }), method).toBe(n);

    // The process's own metrics come along.
    expect(sample(text, 'newsdesk_process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});
