/**
 * Resource abuse: one user floods the bot from a private chat and four groups at once, while the
 * LLM is slow (300 ms a reply) and capped at two calls at a time. The per-user rate limit lets
 * only the first few of the flood through (one polite notice, the rest dropped), the global LLM
 * cap holds, and another user's single question is still answered. Its latency is measured
 * against the same question asked with no flood and printed, not asserted.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultHandler } from '../support/fake-openai.js';
import { BOT, textOf, type ChatHandle } from '../support/telegram.js';
import { markdownTable, startStack, unexpectedErrors, writeReport, type Stack } from './support.js';

const LIMIT = 5;
const LLM_DELAY_MS = 300;
const FLOOD = 40;
const QUESTION = 'Who won the national chess championship?';

let s: Stack;

beforeAll(async () => {
  s = await startStack({
    env: { LLM_MAX_CONCURRENCY: '2' },
    handler: async (req) => ({ text: String(await defaultHandler(req)), delayMs: LLM_DELAY_MS }),
    harness: { config: { rateLimitPerMinute: LIMIT } },
  });
});

afterAll(async () => s?.stop());

async function timedAnswer(chat: ChatHandle): Promise<number> {
  const started = Date.now();
  await chat.send(QUESTION);
  const [reply] = await chat.waitForReplies(1, 30_000);
  expect(textOf(reply!)).toMatch(/chess championship[\s\S]*Sources/);
  return Date.now() - started;
}

it('one user flooding from five chats cannot starve another user', async () => {
  const quiet = await timedAnswer(s.h.privateChat(8100));
  s.fake.reset();
  s.fake.setHandler(async (req) => ({ text: String(await defaultHandler(req)), delayMs: LLM_DELAY_MS }));

  const flooder = 8001;
  const chats = [s.h.privateChat(flooder), ...[1, 2, 3, 4].map((g) => s.h.groupChat(-100_800_000 - g, flooder))];
  // Round-robin over the chats, so the messages let through run concurrently and compete for the LLM.
  for (let i = 0; i < FLOOD; i++) {
    const chat = chats[i % chats.length]!;
    const text = chat.chat.type === 'private' ? `${QUESTION} (${i})` : `@${BOT.username} ${QUESTION} (${i})`;
    await chat.send(text);
  }
  const victim = s.h.privateChat(8002);
  const flooded = await timedAnswer(victim);

  // Let the flooder's admitted questions finish, then count.
  await s.h.waitUntil(
    () => s.h.logEvents().filter((e) => e.event === 'bot.answered').length >= 2 + LIMIT || undefined,
    30_000,
    'the admitted questions',
  );
  const floodReplies = chats.flatMap((c) => c.messages);
  const notices = floodReplies.filter((m) => m.text.includes('faster than I can answer'));
  const answers = floodReplies.filter((m) => textOf(m).includes('Sources'));
  const limited = s.h.logEvents().filter((e) => e.event === 'bot.rate_limited' && e.user_id === flooder);
  expect(answers).toHaveLength(LIMIT);
  expect(notices).toHaveLength(1);
  expect(limited).toHaveLength(FLOOD - LIMIT);
  expect(s.fake.maxConcurrent()).toBeLessThanOrEqual(2);
  // The flooder's admitted questions plus the victim's: nothing else reached the LLM.
  expect(s.fake.chatRequests()).toHaveLength(LIMIT + 1);
  expect(unexpectedErrors(s.h)).toEqual([]);

  const result = {
    rateLimitPerMinute: LIMIT,
    llmMaxConcurrency: 2,
    llmDelayMs: LLM_DELAY_MS,
    floodMessages: FLOOD,
    floodAdmitted: answers.length,
    floodNotices: notices.length,
    floodDropped: limited.length - notices.length,
    otherUserLatencyQuietMs: quiet,
    otherUserLatencyDuringFloodMs: flooded,
    llmMaxConcurrentSeen: s.fake.maxConcurrent(),
  };
  console.log(
    `\nFlood vs. another user:\n${markdownTable(
      [
        'messages from the flooder',
        'admitted',
        'notices',
        'dropped',
        'other user’s answer, quiet',
        'other user’s answer, during flood',
        'max LLM calls at once',
      ],
      [[FLOOD, answers.length, notices.length, result.floodDropped, `${quiet} ms`, `${flooded} ms`, result.llmMaxConcurrentSeen]],
    )}\n`,
  );
  writeReport('abuse.json', result);
}, 60_000);
