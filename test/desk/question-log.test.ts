/**
 * The question log behind its seam (src/desk/log.ts), in both modes: the same cases against SQLite
 * under a state folder and PostgreSQL (TEST_DATABASE_URL, or the embedded server), then the desk's
 * rules over each: keyed hashes instead of ids, no sender in groups, retention, /forgetme.
 */
import fs from 'node:fs';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CorrectionReceipts, type NewQuestion, type QuestionLog, QuestionDesk } from '../../src/desk/index.js';
import { PgReceipts, SqliteReceipts } from '../../src/desk/corrections.js';
import { SqliteQuestionLog } from '../../src/desk/log.js';
import { PgQuestionLog } from '../../src/desk/pg-log.js';
import { migratedDatabase } from '../support/postgres.js';
import { tempDir } from '../support/stack.js';
import { FAKE_ARTICLES, citationOf, makeAnswer } from '../support/telegram-fakes.js';

const DAY = 86_400_000;
const database = migratedDatabase();
let pool: pg.Pool;
const dirs: string[] = [];

beforeAll(() => {
  pool = database.pool();
});
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

type Backend = { name: string; open: () => Promise<QuestionLog> };
const BACKENDS: Backend[] = [
  {
    name: 'SQLite',
    open: async () => {
      const dir = tempDir('question-log-');
      dirs.push(dir);
      return new SqliteQuestionLog(dir);
    },
  },
  {
    name: 'PostgreSQL',
    open: async () => {
      // One database for the file: each test starts from empty tables.
      await pool.query('TRUNCATE desk_questions, desk_meta');
      return new PgQuestionLog(pool);
    },
  },
];

const question = (fields: Partial<NewQuestion> = {}): NewQuestion => ({
  at: Date.UTC(2026, 0, 10),
  text: 'When does the ferry to Elm Island start?',
  chatType: 'private',
  outcome: 'not-covered',
  weak: false,
  language: 'en',
  reader: 'reader-a',
  chat: 'chat-a',
  cited: [],
  ...fields,
});

describe.each(BACKENDS)('question log in $name', ({ open }) => {
  let log: QuestionLog;
  beforeEach(async () => {
    log = await open();
  });

  it('stores every field and gives it back', async () => {
    const cited = [{ articleId: 'city/flood.md', title: 'Flood barriers', score: 0.031 }];
    const id = await log.add(question({ outcome: 'answered', cited, language: null, weak: true }));
    expect(await log.get(id)).toEqual({
      id,
      ...question({ outcome: 'answered', cited, language: null, weak: true }),
      vote: null,
      reason: null,
    });
    expect(await log.get(id + 1000)).toBeNull();
  });

  it('lists the questions of a period, oldest first, end excluded', async () => {
    const t = Date.UTC(2026, 0, 10);
    await log.add(question({ at: t + 2, text: 'c' }));
    await log.add(question({ at: t, text: 'a' }));
    await log.add(question({ at: t + 1, text: 'b' }));
    await log.add(question({ at: t + 3, text: 'd' }));
    expect((await log.between(t, t + 3)).map((r) => r.text)).toEqual(['a', 'b', 'c']);
  });

  it('takes a vote only from the chat that asked, lets the reader change it, and keeps a reason only with 👎', async () => {
    const id = await log.add(question());
    expect(await log.setVote(id, 'chat-b', 'down')).toBe(false);
    expect(await log.setVote(id, 'chat-a', 'up')).toBe(true);
    expect(await log.setReason(id, 'chat-a', 'wrong')).toBe(false);
    expect(await log.setVote(id, 'chat-a', 'down')).toBe(true);
    expect(await log.setReason(id, 'chat-b', 'outdated')).toBe(false);
    expect(await log.setReason(id, 'chat-a', 'outdated')).toBe(true);
    expect(await log.get(id)).toMatchObject({ vote: 'down', reason: 'outdated' });
    // A new vote starts without the old reason; null takes the vote back.
    expect(await log.setVote(id, 'chat-a', 'up')).toBe(true);
    expect(await log.get(id)).toMatchObject({ vote: 'up', reason: null });
    expect(await log.setVote(id, 'chat-a', null)).toBe(true);
    expect(await log.get(id)).toMatchObject({ vote: null, reason: null });
  });

  it('forgets one reader and nobody else', async () => {
    await log.add(question({ reader: 'reader-a' }));
    await log.add(question({ reader: 'reader-a', text: 'second' }));
    const other = await log.add(question({ reader: 'reader-b' }));
    const group = await log.add(question({ reader: null, chatType: 'group' }));
    expect(await log.forgetReader('reader-a')).toBe(2);
    expect((await log.between(0, Date.UTC(2030, 0, 1))).map((r) => r.id)).toEqual([other, group]);
  });

  it('prunes what is older than the cut', async () => {
    const t = Date.UTC(2026, 0, 10);
    await log.add(question({ at: t - 1 }));
    const kept = await log.add(question({ at: t }));
    expect(await log.prune(t)).toBe(1);
    expect((await log.between(0, t + 1)).map((r) => r.id)).toEqual([kept]);
  });

  it('lets one caller claim a periodic job per period, starting the first period at the first call', async () => {
    const t = Date.UTC(2026, 0, 10);
    // The secret shares the table: a value that is no number must not break the claim.
    await log.installSecret('not-a-number-secret');
    expect(await log.claimEvery('digest', t, 1000)).toBe(false);
    expect(await log.claimEvery('digest', t + 999, 1000)).toBe(false);
    expect(await Promise.all([log.claimEvery('digest', t + 1000, 1000), log.claimEvery('digest', t + 1000, 1000)])).toEqual(
      expect.arrayContaining([true, false]),
    );
    expect(await log.claimEvery('digest', t + 1500, 1000)).toBe(false);
    expect(await log.claimEvery('other', t + 1500, 1000)).toBe(false);
  });

  it('keeps the first installation secret it is offered', async () => {
    expect(await log.installSecret('first-secret')).toBe('first-secret');
    expect(await log.installSecret('second-secret')).toBe('first-secret');
  });

  it('under the desk: readers and chats only as keyed hashes, groups without the sender, /forgetme by reader', async () => {
    const desk = new QuestionDesk(log, { retentionDays: 30, secret: 'a-configured-secret-0123456789' });
    const answer = makeAnswer({ text: 'Mayor Park asked for barriers [1]', citations: [citationOf(1, FAKE_ARTICLES[0]!)] });
    const mine = await desk.record({
      text: 'what did the mayor ask for?',
      outcome: 'answered',
      chatType: 'private',
      userId: 4242,
      chatId: 4242,
      answer,
    });
    const inGroup = await desk.record({
      text: 'and the council?',
      outcome: 'answered',
      chatType: 'group',
      userId: 4242,
      chatId: -100777,
      answer,
    });
    const rows = await log.between(0, Date.now() + 1);
    expect(rows.map((r) => r.id)).toEqual([mine, inGroup]);
    const [p, g] = rows;
    expect(p!.reader).toBe(await desk.readerKey(4242));
    expect(p!.reader).not.toContain('4242');
    expect(g!.reader).toBeNull();
    expect(g!.chat).toBe(await desk.chatKey(-100777));
    expect(p!.cited).toEqual([{ articleId: FAKE_ARTICLES[0]!.id, title: FAKE_ARTICLES[0]!.title, score: 0 }]);
    // Another secret gives other hashes: without the secret a hash does not lead back to the id.
    const other = new QuestionDesk(log, { retentionDays: 30, secret: 'another-secret-abcdefghijklmno' });
    expect(await other.readerKey(4242)).not.toBe(p!.reader);
    expect(await desk.forget(4242)).toBe(1);
    expect((await log.between(0, Date.now() + 1)).map((r) => r.id)).toEqual([inGroup]);
  });

  it('under the desk without a configured secret: one per installation, the same for a second process', async () => {
    const a = new QuestionDesk(log, { retentionDays: 30, secret: undefined });
    const b = new QuestionDesk(log, { retentionDays: 30, secret: undefined });
    expect(await a.readerKey(7)).toBe(await b.readerKey(7));
    expect(await a.readerKey(7)).not.toBe(await a.readerKey(8));
  });

  it('under the desk: keeps QUESTION_LOG_DAYS, and with 0 records nothing and deletes what is left', async () => {
    let now = Date.UTC(2026, 0, 31);
    const desk = new QuestionDesk(log, { retentionDays: 30, secret: 's'.repeat(16) }, undefined, () => now);
    await log.add(question({ at: now - 31 * DAY, text: 'too old' }));
    await log.add(question({ at: now - 29 * DAY, text: 'kept' }));
    await desk.start();
    expect((await log.between(0, now + 1)).map((r) => r.text)).toEqual(['kept']);
    const off = new QuestionDesk(log, { retentionDays: 0, secret: 's'.repeat(16) }, undefined, () => now);
    expect(await off.record({ text: 'not logged', outcome: 'answered', chatType: 'private', userId: 1, chatId: 1 })).toBeNull();
    await off.start();
    now += 1;
    expect(await log.between(0, now + 1)).toEqual([]);
  });
});

const RECEIPTS: { name: string; open: () => Promise<CorrectionReceipts> }[] = [
  { name: 'SQLite', open: async () => new SqliteReceipts(tempDirFor()) },
  {
    name: 'PostgreSQL',
    open: async () => {
      await pool.query('TRUNCATE desk_receipts');
      return new PgReceipts(pool);
    },
  },
];

function tempDirFor(): string {
  const dir = tempDir('receipts-');
  dirs.push(dir);
  return dir;
}

describe.each(RECEIPTS)('correction receipts in $name', ({ open }) => {
  it('keep the latest version given per chat and article, revise it, and prune by age', async () => {
    const r = await open();
    const t = Date.UTC(2026, 0, 10);
    await r.give({ chatId: 5550000001, articleId: 'a.md', version: 'v1', title: 'A', at: t });
    await r.give({ chatId: 5550000001, articleId: 'a.md', version: 'v2', title: 'A2', at: t + 10 });
    await r.give({ chatId: -100200, articleId: 'a.md', version: 'v1', title: 'A', at: t - 10 });
    expect(await r.since(t)).toEqual([{ chatId: 5550000001, articleId: 'a.md', version: 'v2', title: 'A2', at: t + 10 }]);
    await r.revise(-100200, 'a.md', 'v3');
    expect((await r.since(0)).map((x) => [x.chatId, x.version])).toEqual([
      [-100200, 'v3'],
      [5550000001, 'v2'],
    ]);
    expect(await r.prune(t)).toBe(1);
    expect((await r.since(0)).map((x) => x.chatId)).toEqual([5550000001]);
    await r.give({ chatId: 5550000002, articleId: 'b.md', version: 'v1', title: 'B', at: t + 20 });
    expect(await r.forgetChat(5550000001)).toBe(1);
    expect((await r.since(0)).map((x) => x.chatId)).toEqual([5550000002]);
    await r.close();
  });
});
