/**
 * Bad and odd messages through the bot over the real stack. Each one gets a clear reply or is
 * ignored on purpose (and the bot says so in its log), the bot keeps answering afterwards, and the
 * index and the articles folder are untouched. The outcomes are printed as a table.
 *
 * Edited messages and channel posts: the bot asks Telegram only for `message` and
 * `callback_query` updates, so Telegram does not send them; if one arrives anyway it is ignored
 * (an edited question is not re-answered: the user sends it again). Forwarded text is a question
 * like any other. Commands ignore arguments they do not take (/sources abc lists the sources).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textOf, type ChatHandle } from '../support/telegram.js';
import { badPayloads, injectUpdates, markdownTable, postRaw, startStack, unexpectedErrors, waitIgnored, type Stack } from './support.js';

const ADMIN = 7;
let s: Stack;
let nextUser = 30_000;
const rows: (string | number)[][] = [];
let articlesBefore = 0;
let filesBefore: string[] = [];

beforeAll(async () => {
  s = await startStack({ harness: { config: { adminUserIds: [ADMIN] } } });
  articlesBefore = s.app.library.stats().articles;
  filesBefore = s.articleFiles();
});

afterAll(async () => {
  console.log(`\nBad messages over the real stack:\n${markdownTable(['input', 'outcome', 'LLM calls'], rows)}\n`);
  await s?.stop();
});

/** Sends `act` from a fresh chat (or `chat`) and returns the bot's one reply, recording the outcome. */
async function replyTo(name: string, act: (chat: ChatHandle) => Promise<unknown>, chat = s.h.privateChat(++nextUser)): Promise<string> {
  const llmBefore = s.fake.chatRequests().length;
  chat.skipSeen();
  await act(chat);
  const [reply] = await chat.waitForReplies(1, 20_000);
  const text = textOf(reply!);
  rows.push([name, `reply: ${text.split('\n')[0]!.slice(0, 80)}`, s.fake.chatRequests().length - llmBefore]);
  return text;
}

const privateChat = (id: number, first = `User${id}`) => ({ id, type: 'private', first_name: first });
const user = (id: number) => ({ id, is_bot: false, first_name: `User${id}` });

describe('text a user can send', () => {
  it('empty and whitespace-only text get a hint on how to ask', async () => {
    for (const [name, text] of [
      ['empty text', ''],
      ['whitespace only', '  \n\t  '],
    ] as const) {
      const reply = await replyTo(name, (c) => c.send(text));
      expect(reply).toBe('Please type a question, for example: What happened this week?');
    }
  });

  it('emoji only gets a "not covered" answer without asking the LLM', async () => {
    const llmBefore = s.fake.chatRequests().length;
    const reply = await replyTo('only emoji', (c) => c.send('😀🎉🔥👍🏽'));
    expect(reply).toMatch(/^The articles I have don't cover this/);
    expect(s.fake.chatRequests().length).toBe(llmBefore);
  });

  it('100 000 characters are refused by length, before any retrieval or LLM call', async () => {
    const llmBefore = s.fake.chatRequests().length;
    const reply = await replyTo('100 000 characters', (c) => c.send('Why? '.repeat(20_000)));
    expect(reply).toBe('That message is too long (99999 characters). Please keep questions under 1000 characters.');
    expect(s.fake.chatRequests().length).toBe(llmBefore);
  });

  it('control characters and unpaired surrogates are answered, and nothing invalid goes back to Telegram', async () => {
    const control = await replyTo('control characters', (c) =>
      c.send('Who\u0000 won\u0007 the national\u001b[31m chess\u0008 championship?\u007f'),
    );
    expect(control).toMatch(/chess championship/i);
    const surrogates = await replyTo('unpaired surrogates', (c) => c.send('Who won the \uD800 national chess championship? \uDFFF'));
    expect(surrogates).toMatch(/chess championship/i);
    expect(badPayloads(s.h)).toEqual([]);
  });

  it('text that looks like HTML or Telegram markup is a question like any other, and shows literally', async () => {
    const mild = await replyTo('question with a few HTML tags', (c) =>
      c.send('Who won the <b>national</b> chess championship? <i>&amp;</i>'),
    );
    expect(mild).toMatch(/chess championship/i);
    expect(mild).toMatch(/Sources/);
    // Mostly markup: too few of its words are in any article, so the answer says so rather than guess.
    const html = await replyTo('mostly HTML (script, javascript: link, stray </pre>)', (c) =>
      c.send('<b>What</b> did the <a href="javascript:alert(1)">council</a> ban &amp; </pre><script>x</script> on the high street?'),
    );
    expect(html).toMatch(/^The articles I have don't cover this/);
    const markdown = await replyTo('Markdown/MarkdownV2-looking text', (c) =>
      c.send('*Who* _won_ the `national` chess [championship](http://x.y)? ||spoiler|| \\_'),
    );
    expect(markdown).toMatch(/^The articles I have don't cover this/);
    expect(badPayloads(s.h)).toEqual([]);
  });

  it('a forwarded message is answered as the question it contains', async () => {
    const reply = await replyTo('forwarded text', async (c) =>
      postRaw(s.h, c, {
        text: 'Who won the national chess championship?',
        forward_origin: { type: 'user', sender_user: user(99), date: Math.floor(Date.now() / 1000) - 60 },
        forward_date: Math.floor(Date.now() / 1000) - 60,
      }),
    );
    expect(reply).toMatch(/chess championship/i);
    expect(reply).toMatch(/Sources/);
  });
});

describe('commands with missing or malformed arguments', () => {
  const adminChat = () => s.h.privateChat(ADMIN);

  it('/add without a URL and /add with something that is not one get the usage line', async () => {
    expect(await replyTo('/add (no URL, admin)', (c) => c.send('/add'), adminChat())).toBe('Usage: /add https://example.com/some-article');
    const notUrl = 'That does not look like a web address. Usage: /add https://example.com/some-article';
    expect(await replyTo('/add not-a-url (admin)', (c) => c.send('/add not-a-url'), adminChat())).toBe(notUrl);
    expect(await replyTo('/add ftp://host/file (admin)', (c) => c.send('/add ftp://host/file'), adminChat())).toBe(notUrl);
    expect(await replyTo('/add javascript:… (admin)', (c) => c.send('/add javascript:alert(1)'), adminChat())).toBe(notUrl);
  });

  it('/remove without an id, or with an unknown one, says what to do', async () => {
    expect(await replyTo('/remove (no id, admin)', (c) => c.send('/remove'), adminChat())).toBe(
      'Usage: /remove <article id> (ids are listed by /sources).',
    );
    expect(await replyTo('/remove ../../etc/passwd (admin)', (c) => c.send('/remove ../../etc/passwd'), adminChat())).toBe(
      'No article with id "../../etc/passwd". Use /sources to see the ids.',
    );
  });

  it('/reindex with an unknown argument gets the usage line and starts nothing', async () => {
    expect(await replyTo('/reindex now (admin)', (c) => c.send('/reindex now'), adminChat())).toBe(
      'Usage: /reindex (changed articles only) or /reindex full (rebuild everything).',
    );
  });

  it('/sources abc ignores the argument and lists the first page', async () => {
    expect(await replyTo('/sources abc', (c) => c.send('/sources abc'))).toMatch(/^Articles 1–\d+ of \d+/);
  });

  it('an unknown command gets a hint, even a very long or strange one', async () => {
    expect(await replyTo('/frobnicate', (c) => c.send('/frobnicate now'))).toBe("I don't know /frobnicate. Try /help.");
    const long = await replyTo('/ + 5000 letters', (c) => c.send(`/${'x'.repeat(5000)}`));
    expect(long).toBe("I don't know that command. Try /help.");
    const odd = await replyTo('/ + lone surrogate and markup', (c) => c.send('/\uD800<b>'));
    expect(odd).toBe("I don't know that command. Try /help.");
    expect(badPayloads(s.h)).toEqual([]);
  });
});

describe('messages that are not text', () => {
  it('photos, stickers, voice (with no transcription set up) and files from non-admins each get a clear reply', async () => {
    const readsText = 'I can only read text messages. Please type your question.';
    const photo = [{ file_id: 'p1', file_unique_id: 'up1', width: 90, height: 90, file_size: 1000 }];
    expect(await replyTo('photo', (c) => postRaw(s.h, c, { photo }))).toBe(readsText);
    expect(
      await replyTo('photo with a question as caption', (c) => postRaw(s.h, c, { photo, caption: 'Who won the chess championship?' })),
    ).toBe(readsText);
    expect(await replyTo('sticker', (c) => c.sendSticker())).toBe(readsText);
    expect(
      await replyTo('voice', (c) =>
        postRaw(s.h, c, { voice: { file_id: 'v1', file_unique_id: 'uv1', duration: 3, mime_type: 'audio/ogg' } }),
      ),
    ).toMatch(/^Voice questions need a speech-to-text service, and none is set up\. An admin turns it on with TRANSCRIBE_MODEL/);
    expect(
      await replyTo('document (non-admin)', (c) => c.sendDocument({ fileName: 'notes.txt', bytes: new TextEncoder().encode('hello') })),
    ).toMatch(/^Only the bot’s admins can add articles/);
  });
});

describe('updates the bot does not ask for', () => {
  it('asks Telegram only for messages, button presses and inline queries', async () => {
    const polls = s.h.callsOf('getUpdates');
    expect(polls.length).toBeGreaterThan(0);
    for (const p of polls) expect(p.payload.allowed_updates).toEqual(['message', 'callback_query', 'inline_query']);
  });

  it('ignores edited messages (an edited question is not re-answered; an edited admin command from a non-admin does not run)', async () => {
    const asker = 30_900;
    const now = Math.floor(Date.now() / 1000);
    const llmBefore = s.fake.chatRequests().length;
    const reindexesBefore = s.h.logEvents().filter((e) => e.event === 'bot.reindexed').length;
    const ids = injectUpdates(s.h, [
      {
        edited_message: {
          message_id: 1,
          date: now - 10,
          edit_date: now,
          chat: privateChat(asker),
          from: user(asker),
          text: 'Who won the national chess championship?',
        },
      },
      {
        edited_message: {
          message_id: 2,
          date: now - 10,
          edit_date: now,
          chat: privateChat(asker),
          from: user(asker),
          text: '/reindex full',
          entities: [{ type: 'bot_command', offset: 0, length: 8 }],
        },
      },
      {
        edited_message: {
          message_id: 3,
          date: now - 10,
          edit_date: now,
          chat: { id: -100_777, type: 'supergroup', title: 'G' },
          from: user(asker),
          text: '/remove chess',
          entities: [{ type: 'bot_command', offset: 0, length: 7 }],
        },
      },
    ]);
    for (const id of ids) await waitIgnored(s.h, id);
    const chat = s.h.privateChat(asker);
    await chat.expectNoReplies(300);
    expect(s.fake.chatRequests().length).toBe(llmBefore);
    expect(s.h.logEvents().filter((e) => e.event === 'bot.reindexed').length).toBe(reindexesBefore);
    expect(s.h.logEvents().filter((e) => e.event === 'bot.admin_refused' || e.event === 'bot.article_removed')).toEqual([]);
    rows.push(
      ['edited question', 'ignored (logged update_ignored)', 0],
      ['edited /reindex full, /remove (non-admin)', 'ignored (logged update_ignored)', 0],
    );
  });

  it('ignores channel posts, commands included', async () => {
    const now = Math.floor(Date.now() / 1000);
    const channel = { id: -100_555, type: 'channel', title: 'News channel' };
    const ids = injectUpdates(s.h, [
      { channel_post: { message_id: 1, date: now, chat: channel, sender_chat: channel, text: 'Who won the national chess championship?' } },
      {
        channel_post: {
          message_id: 2,
          date: now,
          chat: channel,
          sender_chat: channel,
          text: '/reindex',
          entities: [{ type: 'bot_command', offset: 0, length: 8 }],
        },
      },
      { edited_channel_post: { message_id: 1, date: now, edit_date: now, chat: channel, sender_chat: channel, text: 'edited' } },
    ]);
    for (const id of ids) await waitIgnored(s.h, id);
    expect(s.h.callsOf('sendMessage').filter((c) => c.payload.chat_id === channel.id)).toEqual([]);
    rows.push(['channel post (question, /reindex, edit)', 'ignored (logged update_ignored)', 0]);
  });
});

describe('afterwards', () => {
  it('the bot still answers, nothing failed, and the index and articles folder are unchanged', async () => {
    const reply = await replyTo('normal question afterwards', (c) => c.send('Who won the national chess championship?'));
    expect(reply).toMatch(/Sources/);
    expect(s.app.library.stats().articles).toBe(articlesBefore);
    expect(s.articleFiles()).toEqual(filesBefore);
    expect(unexpectedErrors(s.h)).toEqual([]);
    expect(badPayloads(s.h)).toEqual([]);
  });
});
