/**
 * The bot's state behind its interfaces (src/bot/stores.ts), in both modes: the same rules for
 * SQLite (one process) and PostgreSQL (replicas), then what only the shared database gives:
 * two replicas (two pools, two bots) see one conversation, one quote store, one rate-limit
 * window, one kept answer and one audit trail.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pgBotState } from '../../src/bot/pg-state.js';
import { type BotState, sqliteBotState, type StateSettings } from '../../src/bot/stores.js';
import type { UndeliveredAnswer } from '../../src/bot/undelivered.js';
import { createPool } from '../../src/db/pool.js';
import { migratedDatabase } from '../support/postgres.js';
import { FAKE_ARTICLES, FakeAnswerer, FakeLibrary, citationOf, makeAnswer } from '../support/telegram-fakes.js';
import { freePort, TelegramHarness, textOf } from '../support/telegram.js';

const MINUTE = 60_000;
const SETTINGS: StateSettings = {
  conversationTtlMs: 30 * MINUTE,
  historyTurns: 4,
  quoteTtlMs: 10 * MINUTE,
  undeliveredTtlMs: 15 * MINUTE,
  rateLimitPerMinute: 3,
};

const database = migratedDatabase();
const newPool = () => database.pool();
let shared: pg.Pool | undefined;
/** One pool the single-replica cases share. */
const sharedPool = () => (shared ??= newPool());
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh chat id per test, so tests sharing the database never see each other's rows. */
let nextChat = 1;
const chatId = () => 1000 * nextChat++ + Math.floor(Math.random() * 1000);

const kept = (question: string): UndeliveredAnswer => ({
  question,
  answer: makeAnswer({ text: `answer to ${question}`, citations: [citationOf(1, FAKE_ARTICLES[0]!)] }),
  parentId: null,
  replyTo: undefined,
});

type Backend = { name: string; open: (now: () => number) => BotState };
const BACKENDS: Backend[] = [
  {
    name: 'SQLite',
    open: (now) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shared-state-'));
      dirs.push(dir);
      return sqliteBotState(dir, SETTINGS, now);
    },
  },
  { name: 'PostgreSQL', open: (now) => pgBotState(sharedPool(), SETTINGS, { now }) },
];

describe.each(BACKENDS)('bot state in $name', ({ open }) => {
  let now = Date.now();
  let state: BotState;
  beforeEach(() => {
    now = Date.now();
    state = open(() => now);
  });

  async function say(chat: number, q: string, messageId: number, replyTo?: number): Promise<void> {
    const { parentId } = await state.conversations.contextFor(chat, replyTo);
    const id = await state.conversations.record(chat, parentId, q, `answer to ${q}`);
    await state.conversations.linkMessages(chat, [messageId], id);
  }
  const contents = async (chat: number, replyTo?: number) =>
    (await state.conversations.contextFor(chat, replyTo)).history.map((t) => t.content);

  it('hands back the chat history oldest first, bounded, and branches from a replied-to answer', async () => {
    const chat = chatId();
    for (let i = 1; i <= 3; i++) await say(chat, `q${i}`, 100 + i);
    expect(await contents(chat)).toEqual(['q2', 'answer to q2', 'q3', 'answer to q3']);
    expect(await contents(chat, 101)).toEqual(['q1', 'answer to q1']);
    await say(chat, 'q1b', 110, 101);
    expect(await contents(chat)).toEqual(['q1', 'answer to q1', 'q1b', 'answer to q1b']);
    expect(await contents(chat, 999)).toEqual(['q1', 'answer to q1', 'q1b', 'answer to q1b']);
    expect(await contents(chatId())).toEqual([]);
  });

  it('reset forgets the chat, including branches reachable by replying', async () => {
    const [a, b] = [chatId(), chatId()];
    await say(a, 'qa', 10);
    await say(b, 'qb', 11);
    await state.conversations.reset(a);
    expect(await contents(a)).toEqual([]);
    expect(await contents(a, 10)).toEqual([]);
    expect(await contents(b)).toEqual(['qb', 'answer to qb']);
  });

  it('forgets a conversation idle for longer than the TTL', async () => {
    const chat = chatId();
    await say(chat, 'q1', 10);
    now += 29 * MINUTE;
    expect(await contents(chat)).toHaveLength(2);
    now += 2 * MINUTE;
    expect(await state.conversations.contextFor(chat)).toEqual({ parentId: null, history: [] });
  });

  it('keeps quotes behind a key per chat until they expire', async () => {
    const chat = chatId();
    const citations = [citationOf(1, FAKE_ARTICLES[1]!, 'the quoted sentence')];
    const key = await state.quotes.save(chat, citations);
    expect(await state.quotes.load(chat, key)).toEqual(citations);
    expect(await state.quotes.load(chat + 1, key)).toBeNull();
    now += 11 * MINUTE;
    expect(await state.quotes.load(chat, key)).toBeNull();
  });

  it('allows the limit, refuses once politely, then drops until the window has room', async () => {
    const user = chatId();
    const hit = async () => state.rateLimiter.hit(user);
    expect([await hit(), await hit(), await hit(), await hit(), await hit()]).toEqual(['allow', 'allow', 'allow', 'warn', 'drop']);
    now += MINUTE + 1;
    expect(await hit()).toBe('allow');
  });

  it('keeps one undelivered answer per chat, handed out once', async () => {
    const chat = chatId();
    expect(await state.undelivered.has(chat)).toBe(false);
    await state.undelivered.keep(chat, kept('old'));
    await state.undelivered.keep(chat, kept('new'));
    expect(await state.undelivered.has(chat)).toBe(true);
    expect((await state.undelivered.take(chat))?.question).toBe('new');
    expect(await state.undelivered.take(chat)).toBeUndefined();
  });

  it('counts and keeps an audit trail, newest first', async () => {
    const before = await state.counters.get('questions_answered');
    expect(await state.counters.increment('questions_answered')).toBe(before + 1);
    expect(await state.counters.get('questions_answered')).toBe(before + 1);
    const at = now;
    await state.audit.record({ at, userId: 7, userName: '@alice', action: 'add', target: 'https://x.example/a', outcome: 'ok: a' });
    await state.audit.record({ at: at + 1, userId: 8, userName: null, action: 'reindex', target: '', outcome: 'failed: busy' });
    expect((await state.audit.recent(2)).map((e) => [e.userId, e.userName, e.action, e.outcome, e.at])).toEqual([
      [8, null, 'reindex', 'failed: busy', at + 1],
      [7, '@alice', 'add', 'ok: a', at],
    ]);
  });

  it('keeps the language a chat chose until it is changed or forgotten', async () => {
    const chat = chatId();
    expect(await state.languages.get(chat)).toBeNull();
    await state.languages.set(chat, 'ru');
    await state.languages.set(chatId(), 'de');
    expect(await state.languages.get(chat)).toBe('ru');
    await state.languages.set(chat, 'en');
    expect(await state.languages.get(chat)).toBe('en');
    await state.languages.set(chat, null);
    expect(await state.languages.get(chat)).toBeNull();
  });

  it('ignores use after close instead of throwing', async () => {
    await state.close();
    expect(await state.conversations.record(chatId(), null, 'late', 'answer')).toBe(-1);
    expect((await state.conversations.contextFor(1)).history).toEqual([]);
  });
});

describe('two replicas sharing PostgreSQL', () => {
  it('see one conversation, one quote store, one kept answer and one audit trail', async () => {
    const a = pgBotState(newPool(), SETTINGS);
    const b = pgBotState(newPool(), SETTINGS);
    const chat = chatId();
    const id = await a.conversations.record(chat, null, 'Who is Alice Park?', 'The mayor.');
    await a.conversations.linkMessages(chat, [50], id);
    expect(await b.conversations.contextFor(chat)).toEqual({
      parentId: id,
      history: [
        { role: 'user', content: 'Who is Alice Park?' },
        { role: 'assistant', content: 'The mayor.' },
      ],
    });
    expect((await b.conversations.contextFor(chat, 50)).parentId).toBe(id);
    const key = await a.quotes.save(chat, [citationOf(1, FAKE_ARTICLES[0]!)]);
    expect((await b.quotes.load(chat, key))?.[0]?.articleId).toBe(FAKE_ARTICLES[0]!.id);
    await a.undelivered.keep(chat, kept('q'));
    // Both replicas asked at once ("try again" tapped twice): exactly one sends it.
    const taken = await Promise.all([a.undelivered.take(chat), b.undelivered.take(chat)]);
    expect(taken.filter(Boolean)).toHaveLength(1);
    await a.audit.record({ at: Date.now(), userId: 9, userName: '@bob', action: 'remove', target: 'x.md', outcome: 'ok' });
    expect((await b.audit.recent(1))[0]).toMatchObject({ userId: 9, action: 'remove', target: 'x.md' });
  });

  it('share the language a chat chose with /language', async () => {
    const a = pgBotState(newPool(), SETTINGS);
    const b = pgBotState(newPool(), SETTINGS);
    const chat = chatId();
    await a.languages.set(chat, 'uk');
    expect(await b.languages.get(chat)).toBe('uk');
    await b.languages.set(chat, null);
    expect(await a.languages.get(chat)).toBeNull();
  });

  it('count one rate-limit window: concurrent hits from both replicas allow exactly the limit', async () => {
    const a = pgBotState(newPool(), SETTINGS);
    const b = pgBotState(newPool(), SETTINGS);
    const user = chatId();
    const decisions = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).rateLimiter.hit(user)));
    expect(decisions.filter((d) => d === 'allow')).toHaveLength(3);
    expect(decisions.filter((d) => d === 'warn')).toHaveLength(1);
    expect(decisions.filter((d) => d === 'drop')).toHaveLength(8);
  });
});

describe('two bots sharing PostgreSQL (each with its own Bot API emulator)', () => {
  const [ADMIN, ADMIN2, ADMIN3] = [4242, 4343, 4444];
  const answerer = new FakeAnswerer();
  const library = new FakeLibrary();
  const libraryTwo = new FakeLibrary();
  let one: TelegramHarness;
  let two: TelegramHarness;
  beforeAll(async () => {
    const config = { adminUserIds: [ADMIN, ADMIN2, ADMIN3], rateLimitPerMinute: 4 };
    one = await TelegramHarness.start({ answerer, library, config, database: newPool() });
    two = await TelegramHarness.start({ answerer, library: libraryTwo, config, database: newPool() });
  });
  afterAll(async () => {
    await one?.stop();
    await two?.stop();
  });

  it('a follow-up sent to the other bot is answered with the first bot’s turn as history', async () => {
    const user = 7001;
    await one.privateChat(user).send('What did coach Ben Ortiz want?');
    await one.privateChat(user).waitForReplies(1);
    const chatTwo = two.privateChat(user);
    await chatTwo.send('What did he ask the board for?');
    const [reply] = await chatTwo.waitForReplies(1);
    expect(answerer.calls.at(-1)?.history.map((t) => t.content)[0]).toBe('What did coach Ben Ortiz want?');
    expect(textOf(reply!)).toContain('stadium lights');
  });

  it('"Show quotes" under an answer from one bot is served by the other', async () => {
    const user = 7002;
    const chatOne = one.privateChat(user);
    await chatOne.send('What did the mayor ask the council for?');
    const [answer] = await chatOne.waitForReplies(1);
    const chatTwo = two.privateChat(user);
    await chatTwo.tap(answer!, 'Show quotes');
    const [quotes] = await chatTwo.waitForReplies(1);
    expect(textOf(quotes!)).toContain('12 million dollars');
  });

  it('the rate limit counts messages to both bots together', async () => {
    const user = 7003;
    const [chatOne, chatTwo] = [one.privateChat(user), two.privateChat(user)];
    for (const chat of [chatOne, chatTwo, chatOne, chatTwo]) {
      await chat.send('What did the mayor ask the council for?');
      await chat.waitForReplies(1);
    }
    await chatOne.send('And the coach?');
    const [refusal] = await chatOne.waitForReplies(1);
    expect(textOf(refusal!)).toMatch(/faster than I can answer \(limit: 4 per minute\)/);
  });

  it('/audit on one bot lists an /add and a failed /remove made on the other, with who and what', async () => {
    library.pages.set('https://news.example/new-bridge', { title: 'New bridge opens', date: '2024-06-01' });
    const adminOne = one.privateChat(ADMIN, 'Ann');
    await adminOne.send('/add https://news.example/new-bridge');
    await adminOne.waitForReplies(1);
    await adminOne.send('/remove no/such-article.md');
    await adminOne.waitForReplies(1);
    const adminTwo = two.privateChat(ADMIN, 'Ann');
    await adminTwo.send('/audit');
    const [list] = await adminTwo.waitForReplies(1);
    const lines = textOf(list!).split('\n');
    expect(lines[1]).toMatch(/Ann \(4242\) · remove no\/such-article\.md → failed: No article with id "no\/such-article\.md"/);
    expect(lines[2]).toMatch(/Ann \(4242\) · add https:\/\/news\.example\/new-bridge → ok: web\/-new-bridge \(2 chunks\)/);
  });

  it('/reindex sent to both bots at once runs once; both admins are told, and both get its summary', async () => {
    const releases = [library.holdReindex(), libraryTwo.holdReindex()];
    const chats = [one.privateChat(ADMIN2, 'Bea'), two.privateChat(ADMIN3, 'Cal')];
    await Promise.all(chats.map((c) => c.send('/reindex')));
    const first = await Promise.all(chats.map(async (c) => textOf((await c.waitForReplies(1))[0]!)));
    expect(first.filter((t) => t === 'Reindex started…')).toHaveLength(1);
    const told = first.find((t) => t !== 'Reindex started…');
    expect(told).toMatch(
      /^A reindex is already running \(started \d+s ago by (Bea \(4343\)|Cal \(4444\))\)\. I'll post its summary when it finishes\.$/,
    );
    for (const release of releases) release();
    for (const c of chats) await c.waitFor((m) => textOf(m).startsWith('Reindex done'), 10_000, 'the summary');
    expect(library.callsOf('reindex').length + libraryTwo.callsOf('reindex').length).toBe(1);
    // Over: the next /reindex starts a new run.
    await chats[1]!.send('/reindex');
    await chats[1]!.waitFor((m) => textOf(m) === 'Reindex finished.', 10_000, 'a second run');
  });
});

describe('a bot whose database is away', () => {
  it('answers a question with a clear "try again" instead of failing silently, and logs the rate limit as unavailable', async () => {
    const port = await freePort();
    const dead = createPool({ url: `postgres://postgres@127.0.0.1:${port}/none`, poolMax: 2, connectTimeoutMs: 1000 });
    const h = await TelegramHarness.start({ answerer: new FakeAnswerer(), library: new FakeLibrary(), database: dead });
    try {
      const chat = h.privateChat(8001);
      await chat.send('What did the mayor ask the council for?');
      const [reply] = await chat.waitForReplies(1);
      expect(textOf(reply!)).toMatch(/^The database is unreachable \(.*\); try again in a moment\.$/);
      expect(h.logEvents().some((e) => e.event === 'bot.rate_limit_unavailable')).toBe(true);
    } finally {
      await h.stop();
      await dead.end();
    }
  });
});
