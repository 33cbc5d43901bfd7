/**
 * Admin rights over the real stack: every admin command (/reindex, /reindex full, /add, /remove,
 * /stats, a document upload) tried by a non-admin in a private chat, in a group, through an edited
 * message, by an impostor with the admin's name, and by an anonymous group admin. All are refused
 * (or, for edits, ignored), and the library is untouched: same articles, same files, same index
 * build, no page fetched, no file downloaded. The admin, by contrast, can.
 *
 * Also allowlist mode with ALLOWED_USER_IDS and ALLOWED_CHAT_IDS: everyone else is refused once,
 * politely, and never reaches the LLM. (test/bot/resilience.test.ts covers ALLOWED_USER_IDS with a
 * fake answerer; test/bot/admin.test.ts covers private refusals and /reindex in a group with a fake library.)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT, textOf, type ChatHandle } from '../support/telegram.js';
import { injectUpdates, markdownTable, postRaw, startStack, unexpectedErrors, waitIgnored, type Stack } from './support.js';

const ADMIN = 424_242;
const REFUSED = 'Sorry, only the bot’s admins can use that command.';
const UPLOAD_REFUSED = /^Only the bot’s admins can add articles/;

let s: Stack;
let pages: http.Server;
let pageUrl: string;
let pageHits = 0;
let before: { articles: number; builtAt: string | null; files: string[] };
const rows: (string | number)[][] = [];

beforeAll(async () => {
  pages = http.createServer((_req, res) => {
    pageHits++;
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(
      '<html><head><title>Harbour reopens</title></head><body><article><p>The old harbour reopened on Friday after two years of repairs to the sea wall and the piers.</p></article></body></html>',
    );
  });
  await new Promise<void>((r) => pages.listen(0, '127.0.0.1', r));
  pageUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}/harbour`;
  s = await startStack({ env: { ALLOW_PRIVATE_URLS: 'true' }, harness: { config: { adminUserIds: [ADMIN] } } });
  const st = s.app.library.stats();
  before = { articles: st.articles, builtAt: st.builtAt, files: s.articleFiles() };
});

afterAll(async () => {
  console.log(`\nAdmin commands by non-admins:\n${markdownTable(['who / where', 'tried', 'outcome'], rows)}\n`);
  await s?.stop();
  await new Promise<void>((r) => pages.close(() => r()));
});

const commands = () => ['/reindex', '/reindex full', `/add ${pageUrl}`, '/remove chess', '/stats'];

function expectLibraryUntouched(): void {
  const st = s.app.library.stats();
  expect({ articles: st.articles, builtAt: st.builtAt, files: s.articleFiles() }).toEqual(before);
  expect(pageHits).toBe(0);
  expect(s.h.callsOf('getFile')).toEqual([]);
  expect(s.h.downloads).toEqual([]);
  expect(s.h.logEvents().filter((e) => ['bot.reindexed', 'bot.article_added', 'bot.article_removed'].includes(e.event))).toEqual([]);
}

async function expectRefusals(where: string, chat: ChatHandle, list: string[], prefix = ''): Promise<void> {
  for (const cmd of list) {
    await chat.send(`${prefix}${cmd}`);
    const [reply] = await chat.waitForReplies(1);
    expect(reply!.text, cmd).toBe(REFUSED);
  }
  rows.push([
    where,
    list.map((c) => c.split(' ').slice(0, 2).join(' ').replace(pageUrl, '<url>')).join(', '),
    'refused, each with one reply',
  ]);
}

describe('a non-admin', () => {
  it('is refused every admin command in a private chat, and an upload', async () => {
    const chat = s.h.privateChat(5001);
    await expectRefusals('non-admin, private chat', chat, commands());
    await chat.sendDocument({ fileName: 'notes.txt', bytes: new TextEncoder().encode('The harbour reopened.') });
    const [reply] = await chat.waitForReplies(1);
    expect(reply!.text).toMatch(UPLOAD_REFUSED);
    rows.push(['non-admin, private chat', 'document upload', 'refused, nothing downloaded']);
    expectLibraryUntouched();
  });

  it('is refused in a group, whether the command is bare or addressed to the bot, and an upload addressed to the bot', async () => {
    const group = s.h.groupChat(-100_600_001, 5002);
    await expectRefusals('non-admin, group (bare command)', group, commands());
    await expectRefusals(
      'non-admin, group (/cmd@bot)',
      group,
      ['/reindex', '/stats'].map((c) => c.replace(/^\/(\w+)/, `/$1@${BOT.username}`)),
    );
    await group.sendDocument({
      fileName: 'notes.txt',
      bytes: new TextEncoder().encode('The harbour reopened.'),
      caption: `@${BOT.username} add this`,
    });
    const [reply] = await group.waitForReplies(1);
    expect(reply!.text).toMatch(UPLOAD_REFUSED);
    // A document nobody addressed to the bot is group chatter: ignored, not downloaded.
    await group.sendDocument({ fileName: 'minutes.txt', bytes: new TextEncoder().encode('Minutes of the meeting.') });
    await group.expectNoReplies(300);
    rows.push(['non-admin, group', 'document upload (addressed / not addressed)', 'refused / ignored, nothing downloaded']);
    expectLibraryUntouched();
  });

  it('cannot pass as the admin by name, nor as an anonymous group admin', async () => {
    const impostor = s.h.privateChat(5003, 'Admin');
    for (const cmd of ['/reindex full', '/remove chess']) {
      await postRaw(s.h, impostor, {
        from: { id: 5003, is_bot: false, first_name: 'Admin', username: 'admin' },
        text: cmd,
        entities: [{ type: 'bot_command', offset: 0, length: cmd.split(' ')[0]!.length }],
      });
      const [reply] = await impostor.waitForReplies(1);
      expect(reply!.text).toBe(REFUSED);
    }
    const group = s.h.groupChat(-100_600_002, 5004, 'Council watchers');
    await postRaw(s.h, group, {
      from: { id: 1087968824, is_bot: true, first_name: 'Group', username: 'GroupAnonymousBot' },
      sender_chat: group.chat,
      text: '/reindex full',
      entities: [{ type: 'bot_command', offset: 0, length: 8 }],
    });
    const [reply] = await group.waitForReplies(1);
    expect(reply!.text).toBe(REFUSED);
    rows.push(['impostor with the admin’s name; anonymous group admin', '/reindex full, /remove', 'refused (ids are checked, not names)']);
    expectLibraryUntouched();
  });

  it('gets nothing done through edited messages, in private chats or groups, even the admin’s own edits', async () => {
    const now = Math.floor(Date.now() / 1000);
    const edited = (chat: Record<string, unknown>, from: number, text: string) => ({
      edited_message: {
        message_id: 10,
        date: now - 30,
        edit_date: now,
        chat,
        from: { id: from, is_bot: false, first_name: `User${from}` },
        text,
        entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }],
      },
    });
    const priv = { id: 5005, type: 'private', first_name: 'User5005' };
    const group = { id: -100_600_003, type: 'supergroup', title: 'G' };
    const updates = [
      ...commands().map((c) => edited(priv, 5005, c)),
      ...commands().map((c) => edited(group, 5005, c)),
      edited({ id: ADMIN, type: 'private', first_name: 'Admin' }, ADMIN, '/remove chess'),
      {
        edited_message: {
          message_id: 11,
          date: now - 30,
          edit_date: now,
          chat: priv,
          from: { id: 5005, is_bot: false, first_name: 'User5005' },
          document: { file_id: 'file-x', file_unique_id: 'u-x', file_name: 'x.txt', file_size: 10 },
        },
      },
    ];
    const ids = injectUpdates(s.h, updates);
    for (const id of ids) await waitIgnored(s.h, id);
    expect(s.h.callsOf('sendMessage').filter((c) => c.payload.chat_id === 5005 || c.payload.chat_id === group.id)).toEqual([]);
    rows.push([
      'non-admin (and admin) via edited messages, private and group',
      'all five commands, a document',
      'ignored (edits are never acted on)',
    ]);
    expectLibraryUntouched();
  });
});

describe('the admin', () => {
  it('can use the same commands (so the refusals above are about rights, not broken commands)', async () => {
    const group = s.h.groupChat(-100_600_004, ADMIN);
    await group.send('/stats');
    const [stats] = await group.waitForReplies(1);
    expect(textOf(stats!)).toMatch(/^Stats\nArticles: 5/);
    await group.send(`/add ${pageUrl}`);
    const [added] = await group.waitForReplies(1, 20_000);
    expect(textOf(added!)).toMatch(/^Added Harbour reopens/);
    expect(pageHits).toBe(1);
    expect(s.app.library.stats().articles).toBe(before.articles + 1);
    expect(unexpectedErrors(s.h)).toEqual([]);
  });
});

describe('allowlist mode', () => {
  it('serves listed users, listed chats and admins, and refuses everyone else once, politely, without reaching the LLM', async () => {
    const allowedGroup = -100_700_001;
    await s.h.restartBot({ config: { adminUserIds: [ADMIN], allowedUserIds: [6001], allowedChatIds: [allowedGroup] } });
    const question = 'Who won the national chess championship?';
    const answered = async (chat: ChatHandle, text = question) => {
      await chat.send(text);
      const [reply] = await chat.waitForReplies(1, 20_000);
      expect(textOf(reply!)).toMatch(/Sources/);
    };
    await answered(s.h.privateChat(6001));
    await answered(s.h.groupChat(allowedGroup, 6002), `@${BOT.username} ${question}`);
    await answered(s.h.privateChat(ADMIN));

    const llmBefore = s.fake.chatRequests().length;
    const refusal = 'Sorry, this bot is private. Please ask its owner for access.';
    const stranger = s.h.privateChat(6003);
    await stranger.send(question);
    const [first] = await stranger.waitForReplies(1);
    expect(first!.text).toBe(refusal);
    await stranger.send('/start');
    await stranger.send('/reindex');
    await stranger.send(question);
    const otherGroup = s.h.groupChat(-100_700_002, 6003);
    await otherGroup.send(`@${BOT.username} ${question}`);
    const [groupRefusal] = await otherGroup.waitForReplies(1);
    expect(groupRefusal!.text).toBe(refusal);
    await otherGroup.send(`@${BOT.username} ${question}`);
    // A listed chat does not make its members allowed elsewhere.
    const member = s.h.privateChat(6002);
    await member.send(question);
    const [memberRefusal] = await member.waitForReplies(1);
    expect(memberRefusal!.text).toBe(refusal);
    await stranger.expectNoReplies(300);
    await otherGroup.expectNoReplies(0);
    expect(s.fake.chatRequests().length).toBe(llmBefore);
    rows.push([
      'stranger under ALLOWED_USER_IDS + ALLOWED_CHAT_IDS',
      'questions, /start, /reindex, private and another group',
      'one polite refusal per chat, then silence; LLM never called',
    ]);
    expect(unexpectedErrors(s.h)).toEqual([]);
  });
});
