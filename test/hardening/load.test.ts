/**
 * Load through the Telegram emulator on 127.0.0.1, over the real stack: 200 private chats at once,
 * each asking five questions about its own person from a generated corpus of 50 profiles. Only the
 * first question names the person; the other four ("what did he announce?") resolve only through
 * that chat's history: the fake LLM's rewrite step replaces the pronoun with the last person named
 * in the transcript it receives, and checks the transcript carries only this reader's questions.
 * A wrong history therefore shows up as a wrong name in the answer (or a counted mismatch).
 *
 * Half the chats are conversational (the next question goes out when the answer arrives), half
 * send all five questions at once, which checks that the bot answers each chat in order and
 * carries history from one queued question to the next.
 *
 * Asserted: all 1000 answered, none duplicated, in order per chat, each about the right person,
 * no history mix-up. Measured and printed (also written to reports/load.json): throughput,
 * p50/p95 latency, peak RSS of this process (bot, emulator, proxy and fake LLM together).
 */
import type { Transformer } from 'grammy';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { visibleText } from '../support/telegram-html.js';
import { expectedAnswer, people, peopleArticles, peopleLlm, QUESTION_KINDS, questionText, type PeopleLlmStats } from './people.js';
import { badPayloads, markdownTable, percentile, startStack, unexpectedErrors, writeReport, type Stack } from './support.js';

const CHATS = 200;
const QUESTIONS = QUESTION_KINDS.length;
const FIRST_CHAT = 1_000_001;
const LLM_CONCURRENCY = 64;
const list = people(50);
const stats: PeopleLlmStats = { historyMismatches: 0, unresolved: 0, condense: 0, answers: 0 };
// A realistic model: 150–300 ms before the first token, then a short stream.
const llmDelay = () => 150 + Math.floor(Math.random() * 150);

interface Delivered {
  text: string;
  messageId: number;
  at: number;
}
const delivered = new Map<number, Delivered[]>();
const waiters = new Map<number, { count: number; resolve: () => void }[]>();

/** Resolves once `chatId` has received `count` replies. */
function replies(chatId: number, count: number): Promise<void> {
  if ((delivered.get(chatId)?.length ?? 0) >= count) return Promise.resolve();
  return new Promise((resolve) => waiters.set(chatId, [...(waiters.get(chatId) ?? []), { count, resolve }]));
}

// Sees every reply as the bot sends it. In private chats previews are drafts, so each answer is one sendMessage.
const observe: Transformer = async (prev, method, payload, signal) => {
  const res = await prev(method, payload, signal);
  if (method === 'sendMessage' && res.ok) {
    const p = payload as { chat_id: number; text: string; parse_mode?: string };
    const list = delivered.get(p.chat_id) ?? [];
    list.push({ text: visibleText(p.text, p.parse_mode), messageId: (res.result as { message_id: number }).message_id, at: Date.now() });
    delivered.set(p.chat_id, list);
    for (const w of waiters.get(p.chat_id) ?? []) if (list.length >= w.count) w.resolve();
  }
  return res;
};

let s: Stack;

beforeAll(async () => {
  s = await startStack({
    noCorpus: true,
    articles: peopleArticles(list),
    env: { CHUNK_MAX_TOKENS: '400', LLM_MAX_CONCURRENCY: String(LLM_CONCURRENCY), LLM_TIMEOUT_MS: '30000' },
    handler: peopleLlm(list, llmDelay, stats),
    harness: { config: { rateLimitPerMinute: 10_000 }, transformers: [observe] },
  });
});

afterAll(async () => s?.stop());

it(`answers ${CHATS} chats × ${QUESTIONS} questions with follow-ups, in order, each from its own history`, async () => {
  let peakRss = process.memoryUsage().rss;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const cpuBefore = process.cpuUsage();
  const sentAt = new Map<number, number[]>();
  const started = Date.now();

  async function converse(c: number): Promise<void> {
    const chatId = FIRST_CHAT + c;
    const chat = s.h.privateChat(chatId);
    const person = list[c % list.length]!;
    const times: number[] = [];
    sentAt.set(chatId, times);
    const burst = c % 2 === 1;
    for (const [k, kind] of QUESTION_KINDS.entries()) {
      if (!burst && k > 0) await replies(chatId, k);
      times.push(Date.now());
      await chat.send(questionText(kind, person, c));
    }
    await replies(chatId, QUESTIONS);
  }

  const timeout = new Promise<never>((_, reject) =>
    setTimeout(
      () => reject(new Error(`Not all answered within 90 s: ${[...delivered.values()].reduce((n, l) => n + l.length, 0)} answers`)),
      90_000,
    ),
  );
  await Promise.race([Promise.all(Array.from({ length: CHATS }, (_, c) => converse(c))), timeout]);
  const seconds = (Date.now() - started) / 1000;
  // Anything sent twice would arrive shortly after; give it the chance before counting.
  await new Promise((r) => setTimeout(r, 500));
  clearInterval(rssTimer);
  const cpu = process.cpuUsage(cpuBefore);

  const latencies: number[] = [];
  const conversational: number[] = [];
  const service: number[] = [];
  const wrong: string[] = [];
  for (let c = 0; c < CHATS; c++) {
    const chatId = FIRST_CHAT + c;
    const answers = delivered.get(chatId) ?? [];
    const person = list[c % list.length]!;
    if (answers.length !== QUESTIONS) wrong.push(`chat ${chatId}: ${answers.length} replies`);
    for (const [k, kind] of QUESTION_KINDS.entries()) {
      const a = answers[k];
      if (!a) continue;
      if (!a.text.startsWith(expectedAnswer(person, kind)) || !a.text.includes('\n\nSources\n[1] '))
        wrong.push(`chat ${chatId} answer ${k + 1}: expected "${expectedAnswer(person, kind)}", got "${a.text.slice(0, 80)}"`);
      if (k > 0 && a.messageId <= answers[k - 1]!.messageId) wrong.push(`chat ${chatId}: answer ${k + 1} sent before answer ${k}`);
      const sent = sentAt.get(chatId)![k]!;
      latencies.push(a.at - sent);
      if (c % 2 === 0) conversational.push(a.at - sent);
      service.push(a.at - Math.max(sent, k > 0 ? answers[k - 1]!.at : 0));
    }
  }
  expect({ problems: wrong.length, first: wrong.slice(0, 5) }).toEqual({ problems: 0, first: [] });
  expect(stats.historyMismatches).toBe(0);
  expect(stats.unresolved).toBe(0);
  expect(stats.condense).toBe(CHATS * (QUESTIONS - 1));
  expect(s.h.logEvents().filter((e) => e.event === 'bot.answered' && e.mode === 'llm')).toHaveLength(CHATS * QUESTIONS);
  expect(unexpectedErrors(s.h)).toEqual([]);
  expect(badPayloads(s.h)).toEqual([]);

  const total = CHATS * QUESTIONS;
  const report = {
    chats: CHATS,
    questionsPerChat: QUESTIONS,
    answered: total,
    llmCalls: stats.condense + stats.answers,
    llmDelayMs: '150-300 (uniform) before the first token, streamed',
    llmMaxConcurrency: LLM_CONCURRENCY,
    seconds: Number(seconds.toFixed(2)),
    throughputQuestionsPerSecond: Number((total / seconds).toFixed(1)),
    latencyMs: {
      conversationalChats: {
        p50: percentile(conversational, 50),
        p95: percentile(conversational, 95),
        max: percentile(conversational, 100),
      },
      burstChatsService: {
        p50: percentile(
          service.filter((_, i) => Math.floor(i / QUESTIONS) % 2 === 1),
          50,
        ),
        p95: percentile(
          service.filter((_, i) => Math.floor(i / QUESTIONS) % 2 === 1),
          95,
        ),
      },
      allSendToAnswer: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: percentile(latencies, 100) },
    },
    peakRssMB: Math.round(peakRss / 2 ** 20),
    cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
    telegramCalls: s.h.calls.length,
    node: process.version,
    note: 'One process holds the bot, the emulator, the proxy and the fake LLM; RSS and CPU are theirs together.',
  };
  writeReport('load.json', report);
  console.log(
    `\nLoad: ${CHATS} chats × ${QUESTIONS} questions\n${markdownTable(
      [
        'answered',
        'seconds',
        'questions/s',
        'p50 / p95 latency (conversational)',
        'p50 / p95 (all, incl. queued bursts)',
        'peak RSS',
        'CPU s',
      ],
      [
        [
          total,
          report.seconds,
          report.throughputQuestionsPerSecond,
          `${report.latencyMs.conversationalChats.p50} / ${report.latencyMs.conversationalChats.p95} ms`,
          `${report.latencyMs.allSendToAnswer.p50} / ${report.latencyMs.allSendToAnswer.p95} ms`,
          `${report.peakRssMB} MB`,
          report.cpuSeconds,
        ],
      ],
    )}\n`,
  );
}, 115_000);
