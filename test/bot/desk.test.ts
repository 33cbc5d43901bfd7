/**
 * The editors' desk through the Telegram emulator: questions the articles do not answer become
 * one /gaps topic, a 👎 puts an answered question there too (and a change of mind takes it out),
 * /forgetme deletes the reader's rows, and nothing stored or exported names a reader. Run with the
 * log in SQLite and in PostgreSQL.
 */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QuestionLog, QuestionDesk } from '../../src/desk/index.js';
import { SqliteQuestionLog } from '../../src/desk/log.js';
import { PgQuestionLog } from '../../src/desk/pg-log.js';
import { gapsCsv, gapsJson, gapsText } from '../../src/desk/report.js';
import { migratedDatabase } from '../support/postgres.js';
import { tempDir } from '../support/stack.js';
import { FakeAnswerer, FakeLibrary } from '../support/telegram-fakes.js';
import { BOT, type BotMessage, TelegramHarness, textOf } from '../support/telegram.js';

const ADMIN = 5550009999;
/** Readers with ids and names that cannot turn up in stored data by chance. */
const READERS = [
  { id: 5550123401, name: 'Zanzibarina' },
  { id: 5550123402, name: 'Quillonius' },
  { id: 5550123403, name: 'Marmaduketta' },
  { id: 5550123404, name: 'Ottoline' },
  { id: 5550123405, name: 'Periwinklea' },
];
const FERRY = ['When does the Elm Island ferry begin?', 'is there a ferry to elm island yet', 'elm island ferri schedule?'];
const COVERED = 'What did the mayor ask the council for?';

/** Polls an async condition (the log answers later in PostgreSQL). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const hasButton = (m: BotMessage, text: string) => m.reply_markup?.inline_keyboard.flat().some((b) => b.text === text) ?? false;

const database = migratedDatabase();
let pool: pg.Pool;
const dirs: string[] = [];
beforeAll(() => {
  pool = database.pool();
});
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const BACKENDS: { name: string; open: (dir: string) => QuestionLog }[] = [
  { name: 'SQLite', open: (dir) => new SqliteQuestionLog(dir) },
  { name: 'PostgreSQL', open: () => new PgQuestionLog(pool) },
];

describe.each(BACKENDS)("the editors' desk with the log in $name", ({ name, open }) => {
  let h: TelegramHarness;
  let log: QuestionLog;
  let desk: QuestionDesk;
  let stateDir: string;
  const answerer = new FakeAnswerer();

  beforeAll(async () => {
    stateDir = tempDir('desk-state-');
    dirs.push(stateDir);
    log = open(stateDir);
    desk = new QuestionDesk(log, { retentionDays: 30, secret: 'test-secret-for-the-desk-0123' });
    h = await TelegramHarness.start({
      answerer,
      library: new FakeLibrary(),
      stateDir,
      config: { adminUserIds: [ADMIN] },
      desk: { questions: desk, embedder: null },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await desk?.close();
  });

  const allRows = () => log.between(0, Date.now() + 60_000);
  // One handle per person: a handle counts the replies it has seen.
  const chats = new Map<number, ReturnType<TelegramHarness['privateChat']>>();
  const chatOf = (user: { id: number; name: string }) => {
    if (!chats.has(user.id)) chats.set(user.id, h.privateChat(user.id, user.name));
    return chats.get(user.id)!;
  };

  async function gapsMessage(): Promise<BotMessage> {
    const admin = chatOf({ id: ADMIN, name: 'Editor' });
    await admin.send('/gaps');
    const [reply] = await admin.waitForReplies(1);
    return reply!;
  }

  it('groups three readers’ differently worded uncovered questions into one topic, without the covered one', async () => {
    for (const [i, q] of FERRY.entries()) {
      const chat = chatOf(READERS[i]!);
      await chat.send(q);
      const [reply] = await chat.waitForReplies(1);
      // "Not covered" needs no feedback: it is a gap already.
      expect(hasButton(reply!, '👎')).toBe(false);
    }
    const fourth = chatOf(READERS[3]!);
    await fourth.send(COVERED);
    const [answer] = await fourth.waitForReplies(1);
    expect(hasButton(answer!, '👍') && hasButton(answer!, '👎')).toBe(true);

    const text = textOf(await gapsMessage());
    expect(text).toMatch(/in 1 topic\b/);
    expect(text).toMatch(/1\. .*ferry.*: 3 readers, 3 questions \(new\)/i);
    for (const q of FERRY) expect(text).toContain(q);
    expect(text).not.toContain(COVERED);
    const rows = await allRows();
    expect(rows.map((r) => r.outcome)).toEqual(['not-covered', 'not-covered', 'not-covered', 'answered']);
    expect(rows[3]!.cited.map((c) => c.articleId)).toEqual(['city/flood-barriers.md']);
    expect(rows.every((r) => r.chatType === 'private')).toBe(true);
    // No function word in "elm island ferri schedule?": no language is claimed for it.
    expect(rows.map((r) => r.language)).toEqual(['en', 'en', null, 'en']);
  });

  it('puts a 👎 answer under /gaps with its reason, and takes it out when the reader changes their mind', async () => {
    const chat = chatOf(READERS[4]!);
    const question = 'What did coach Ben Ortiz want from the board?';
    await chat.send(question);
    const [answer] = await chat.waitForReplies(1);
    await chat.tap(answer!, '👎');
    const [prompt] = await chat.waitForReplies(1);
    expect(textOf(prompt!)).toMatch(/What was wrong\?/);
    await h.waitUntil(() => hasButton(h.messagesIn(chat.chat.id)[0]!, '👎 ✓'), 5000, 'the 👎 marked');
    // A reason typed as a reply to the prompt.
    await chat.send('the board already decided', { replyTo: prompt! });
    await chat.waitForReplies(1);
    const row = (await allRows()).find((r) => r.text === question)!;
    expect(row).toMatchObject({ vote: 'down', reason: 'the board already decided', outcome: 'answered' });
    expect(textOf(await gapsMessage())).toContain(question);

    // Pressing 👎 again takes it back; then 👍.
    await chat.tap(h.messagesIn(chat.chat.id)[0]!, '👎 ✓');
    await eventually(async () => (await log.get(row.id))?.vote === null, 'the 👎 taken back');
    await h.waitUntil(() => hasButton(h.messagesIn(chat.chat.id)[0]!, '👎'), 5000, 'the mark removed');
    await chat.tap(h.messagesIn(chat.chat.id)[0]!, '👍');
    await eventually(async () => (await log.get(row.id))?.vote === 'up', 'the 👍');
    expect(textOf(await gapsMessage())).not.toContain(question);
  });

  it('keeps /gaps to admins, in private chats', async () => {
    const reader = chatOf(READERS[0]!);
    await reader.send('/gaps');
    const [reply] = await reader.waitForReplies(1);
    expect(textOf(reply!)).toMatch(/only the bot’s admins/);
    const group = h.groupChat(-100999, ADMIN);
    await group.send(`/gaps@${BOT.username}`);
    const [inGroup] = await group.waitForReplies(1);
    expect(textOf(inGroup!)).toBe('Send /gaps in a private chat with me: it shows what readers asked.');
  });

  it('stores and exports no raw user id or name', async () => {
    const report = await desk.gaps(7);
    const stored = JSON.stringify(await allRows());
    const exports = [gapsText(report), gapsJson(report), gapsCsv(report)].join('\n');
    const files =
      name === 'SQLite'
        ? fs
            .readdirSync(stateDir)
            .filter((f) => f.startsWith('questions.sqlite'))
            .map((f) => fs.readFileSync(path.join(stateDir, f)).toString('latin1'))
            .join('')
        : '';
    expect(stored).toContain(FERRY[0]);
    expect(exports).toContain(FERRY[0]);
    for (const r of READERS) {
      for (const haystack of [stored, exports, files]) {
        expect(haystack).not.toContain(String(r.id));
        expect(haystack).not.toContain(r.name);
      }
    }
  });

  it('/stats adds the question volume, outcomes, feedback, most-cited articles and most-asked topics', async () => {
    const admin = chatOf({ id: ADMIN, name: 'Editor' });
    await admin.send('/stats');
    const [reply] = await admin.waitForReplies(1);
    const text = textOf(reply!);
    // Four uncovered or answered questions so far, plus the coach question; one 👍 after the change of mind.
    expect(text).toMatch(/Questions, last 7 days: 5 \(answered 40%, not-covered 60%\)/);
    expect(text).toMatch(/Per day: .*\d\d-\d\d 5$/m);
    expect(text).toContain('Feedback: 👍 1 · 👎 0');
    expect(text).toMatch(
      /Most cited:\n1\. (Mayor Alice Park asks council for flood barriers|Coach Ben Ortiz wants new stadium lights) \(1\)/,
    );
    expect(text).toMatch(/Most asked:\n1\. .*ferry.* \(3\)/i);
  });

  it('/forgetme deletes the reader’s rows and conversation, and nobody else’s', async () => {
    const reader = READERS[3]!;
    const hash = await desk.readerKey(reader.id);
    const before = await allRows();
    expect(before.filter((r) => r.reader === hash)).toHaveLength(1);
    const chat = chatOf(reader);
    await chat.send('/forgetme');
    const [reply] = await chat.waitForReplies(1);
    expect(textOf(reply!)).toBe('Done: I deleted 1 logged question of yours and our conversation.');
    const after = await allRows();
    expect(after.filter((r) => r.reader === hash)).toEqual([]);
    expect(after).toHaveLength(before.length - 1);
    // The conversation went too: a follow-up starts without history.
    await chat.send('and what did she want?');
    await chat.waitForReplies(1);
    expect(answerer.calls.at(-1)).toEqual({ question: 'and what did she want?', history: [] });
  });
});

describe('outcomes other than answers', () => {
  let h: TelegramHarness;
  let log: SqliteQuestionLog;
  let stateDir: string;
  beforeAll(async () => {
    stateDir = tempDir('desk-outcomes-');
    dirs.push(stateDir);
    log = new SqliteQuestionLog(stateDir);
    h = await TelegramHarness.start({
      answerer: new FakeAnswerer(),
      library: new FakeLibrary(),
      stateDir,
      config: { rateLimitPerMinute: 2, maxQuestionChars: 60 },
      desk: { questions: new QuestionDesk(log, { retentionDays: 30, secret: undefined }), embedder: null },
    });
  });
  afterAll(async () => {
    await h?.stop();
    log?.close();
  });

  it('logs a question too long as refused, one over the rate limit as rate-limited, and a group question without its sender', async () => {
    const chat = h.privateChat(5550200001, 'Leontyne');
    await chat.send(`What did the mayor ask for? ${'really '.repeat(10)}`);
    await chat.waitForReplies(1);
    await chat.send('What did the mayor ask for?');
    await chat.waitForReplies(1);
    await chat.send('And the coach?');
    await chat.waitForReplies(1);
    const group = h.groupChat(-100555, 5550200002);
    await group.send(`@${BOT.username} what did the coach want?`);
    await group.waitForReplies(1);
    const rows = log.between(0, Date.now() + 60_000);
    expect(rows.map((r) => [r.outcome, r.chatType, r.reader === null])).toEqual([
      ['refused', 'private', false],
      ['answered', 'private', false],
      ['rate-limited', 'private', false],
      ['answered', 'supergroup', true],
    ]);
    expect(rows[3]!.text).toBe('what did the coach want?');
    expect(rows[3]!.chat).not.toBeNull();
  });
});

describe('the weekly digest (GAPS_DIGEST=weekly), on a shortened schedule', () => {
  it('sends each admin the /gaps summary once a period, not at the first start', async () => {
    const dir = tempDir('desk-digest-');
    dirs.push(dir);
    const log = new SqliteQuestionLog(dir);
    const desk = new QuestionDesk(log, { retentionDays: 30, secret: undefined });
    log.add({
      at: Date.now() - 60_000,
      text: 'when does the elm island ferry begin',
      chatType: 'private',
      outcome: 'not-covered',
      weak: false,
      language: 'en',
      reader: 'r',
      chat: 'c',
      cited: [],
    });
    const h = await TelegramHarness.start({
      answerer: new FakeAnswerer(),
      library: new FakeLibrary(),
      stateDir: dir,
      config: { adminUserIds: [ADMIN, ADMIN + 1] },
      desk: { questions: desk, embedder: null, digest: { everyMs: 600, tickMs: 50 } },
    });
    try {
      const digests = (chat: number) => h.messagesIn(chat).filter((m) => textOf(m).startsWith('Weekly summary.'));
      await new Promise((r) => setTimeout(r, 300));
      expect(digests(ADMIN)).toHaveLength(0);
      await h.waitUntil(() => digests(ADMIN).length === 1 && digests(ADMIN + 1).length === 1, 5000, 'the first digest');
      expect(textOf(digests(ADMIN)[0]!)).toContain('when does the elm island ferry begin');
      await new Promise((r) => setTimeout(r, 300));
      expect(digests(ADMIN)).toHaveLength(1);
    } finally {
      await h.stop();
      log.close();
    }
  });
});
