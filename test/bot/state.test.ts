import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConversationStore } from '../../src/bot/conversations.js';
import { QuoteStore } from '../../src/bot/quote-store.js';
import { QUOTES_PREFIX } from '../../src/bot/quotes.js';
import { RateLimiter } from '../../src/bot/ratelimit.js';
import { openStateDb, type StateDb } from '../../src/bot/state.js';
import { LatestThrottle } from '../../src/bot/throttle.js';
import { FAKE_ARTICLES, citationOf } from '../support/telegram-fakes.js';

let dir: string;
let state: StateDb;
let now: number;
const clock = () => now;
const MINUTE = 60_000;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bot-state-unit-'));
  state = openStateDb(dir);
  now = Date.UTC(2024, 0, 1);
});
afterEach(() => {
  state.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function store(maxTurns = 6, ttlMinutes = 30): ConversationStore {
  return new ConversationStore(state, { ttlMs: ttlMinutes * MINUTE, maxTurns, now: clock });
}

/** Records an exchange continuing the current conversation and links it to bot message `messageId`. */
function say(s: ConversationStore, chat: number, q: string, messageId: number, replyTo?: number): void {
  const { parentId } = s.contextFor(chat, replyTo);
  const id = s.record(chat, parentId, q, `answer to ${q}`);
  s.linkMessages(chat, [messageId], id);
}

describe('conversation memory', () => {
  it('hands back the chat history oldest first, bounded to the last turns', () => {
    const s = store(4);
    for (let i = 1; i <= 5; i++) say(s, 1, `q${i}`, 100 + i);
    expect(s.contextFor(1).history).toEqual([
      { role: 'user', content: 'q4' },
      { role: 'assistant', content: 'answer to q4' },
      { role: 'user', content: 'q5' },
      { role: 'assistant', content: 'answer to q5' },
    ]);
  });

  it('hands back no history at all when memory is off (0 turns)', () => {
    const s = store(0);
    say(s, 1, 'q1', 201);
    say(s, 1, 'q2', 202);
    expect(s.contextFor(1).history).toEqual([]);
    expect(s.contextFor(1, 201).history).toEqual([]);
  });

  it('keeps chats apart', () => {
    const s = store();
    say(s, 1, 'one', 10);
    say(s, 2, 'two', 11);
    expect(s.contextFor(1).history.map((t) => t.content)).toEqual(['one', 'answer to one']);
    expect(s.contextFor(2).history.map((t) => t.content)).toEqual(['two', 'answer to two']);
  });

  it('forgets a conversation idle for longer than the TTL', () => {
    const s = store(6, 30);
    say(s, 1, 'q1', 10);
    now += 29 * MINUTE;
    expect(s.contextFor(1).history).toHaveLength(2);
    say(s, 1, 'q2', 11);
    now += 31 * MINUTE;
    expect(s.contextFor(1)).toEqual({ parentId: null, history: [] });
  });

  it('continues from an older answer when it is replied to, and then along that branch', () => {
    const s = store(10);
    say(s, 1, 'q1', 10);
    say(s, 1, 'q2', 11);
    say(s, 1, 'q3', 12);
    expect(s.contextFor(1, 10).history.map((t) => t.content)).toEqual(['q1', 'answer to q1']);
    say(s, 1, 'q1b', 13, 10);
    expect(s.contextFor(1).history.map((t) => t.content)).toEqual(['q1', 'answer to q1', 'q1b', 'answer to q1b']);
    // A reply to a message that is not a known answer falls back to the current conversation.
    expect(s.contextFor(1, 999).history.map((t) => t.content)).toEqual(['q1', 'answer to q1', 'q1b', 'answer to q1b']);
  });

  it('reset forgets the chat entirely, including branches reachable by replying', () => {
    const s = store();
    say(s, 1, 'q1', 10);
    say(s, 2, 'other', 20);
    s.reset(1);
    expect(s.contextFor(1).history).toEqual([]);
    expect(s.contextFor(1, 10).history).toEqual([]);
    expect(s.contextFor(2).history).toHaveLength(2);
  });

  it('survives closing and reopening the database (a restart)', () => {
    say(store(), 1, 'before restart', 10);
    state.close();
    state = openStateDb(dir);
    expect(
      store()
        .contextFor(1)
        .history.map((t) => t.content),
    ).toEqual(['before restart', 'answer to before restart']);
  });

  it('ignores writes after the database is closed instead of throwing', () => {
    const s = store();
    state.close();
    expect(s.record(1, null, 'late', 'answer')).toBe(-1);
    expect(s.contextFor(1).history).toEqual([]);
  });
});

describe('quote keys', () => {
  it('stores citations behind a short key that expires', () => {
    const quotes = new QuoteStore(state, 10 * MINUTE, clock);
    const citations = [citationOf(1, FAKE_ARTICLES[0]!, 'the quoted sentence')];
    const key = quotes.save(5, citations);
    expect(Buffer.byteLength(QUOTES_PREFIX + key)).toBeLessThan(64);
    expect(quotes.load(5, key)).toEqual(citations);
    expect(quotes.load(6, key)).toBeNull();
    now += 11 * MINUTE;
    expect(quotes.load(5, key)).toBeNull();
  });
});

describe('rate limiter', () => {
  it('allows the limit, refuses once politely, then drops until the window has room', () => {
    const limiter = new RateLimiter(3, MINUTE, clock);
    expect([1, 2, 3].map(() => limiter.hit(7))).toEqual(['allow', 'allow', 'allow']);
    expect(limiter.hit(7)).toBe('warn');
    expect(limiter.hit(7)).toBe('drop');
    expect(limiter.hit(8)).toBe('allow');
    now += 30_000;
    expect(limiter.hit(7)).toBe('drop');
    now += 30_001;
    expect(limiter.hit(7)).toBe('allow');
    expect(limiter.hit(7)).toBe('allow');
    expect(limiter.hit(7)).toBe('allow');
    expect(limiter.hit(7)).toBe('warn');
  });

  it('forgets users whose messages have all left the window, so memory follows active users', () => {
    const limiter = new RateLimiter(3, MINUTE, clock);
    for (let user = 0; user < 1500; user++) limiter.hit(user);
    now += MINUTE + 1;
    for (let user = 1500; user < 2000; user++) limiter.hit(user);
    expect(limiter.trackedUsers).toBe(500);
  });
});

describe('latest-value throttle', () => {
  it('runs at most once per interval, never concurrently, with the latest value', async () => {
    const seen: number[] = [];
    let active = 0;
    let maxActive = 0;
    const t = new LatestThrottle<number>(60, async (v) => {
      active++;
      maxActive = Math.max(maxActive, active);
      seen.push(v);
      await new Promise((r) => setTimeout(r, 10));
      active--;
    });
    for (let i = 1; i <= 20; i++) {
      t.push(i);
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 100));
    await t.close();
    expect(maxActive).toBe(1);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.length).toBeLessThanOrEqual(6);
    expect(seen[seen.length - 1]).toBe(20);
  });

  it('counts the interval from when a call finished, so calls slower than usual cannot arrive closer together than the interval', async () => {
    // Telegram sees a call when it arrives. Counting from the call's start let a slow call followed
    // by a fast one land less than the interval apart (939 ms for a 1 s edit interval under load).
    const spans: { start: number; end: number }[] = [];
    const t = new LatestThrottle<number>(50, async () => {
      const start = Date.now();
      await new Promise((r) => setTimeout(r, 40));
      spans.push({ start, end: Date.now() });
    });
    for (let i = 1; i <= 12; i++) {
      t.push(i);
      await new Promise((r) => setTimeout(r, 15));
    }
    await new Promise((r) => setTimeout(r, 120));
    await t.close();
    expect(spans.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.start - spans[i - 1]!.end).toBeGreaterThanOrEqual(49);
  });
});
