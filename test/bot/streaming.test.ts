/**
 * Streaming: drafts in private chats, an edited preview message where drafts
 * fail or in groups, the "typing" indicator, and surviving the methods the
 * emulator refuses (sendChatAction, setMyCommands, sendMessageDraft).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Answer, AnswerStream, QuestionAnswerer } from '../../src/types.js';
import { BOT, TelegramHarness, textOf } from '../support/telegram.js';
import { FAKE_ARTICLES, FakeAnswerer, FakeLibrary, citationOf, makeAnswer } from '../support/telegram-fakes.js';

const LONG_TEXT =
  'Mayor Alice Park asked the city council for twelve million dollars to build flood barriers along the river, ' +
  'saying the spring floods had damaged homes on both banks and that the council should vote before April [1].';
const longAnswer = (): Answer => makeAnswer({ text: LONG_TEXT, citations: [citationOf(1, FAKE_ARTICLES[0]!)] });

describe('with drafts available', () => {
  let h: TelegramHarness;
  const answerer = new FakeAnswerer();
  let nextUser = 2000;

  beforeAll(async () => {
    h = await TelegramHarness.start({
      answerer,
      library: new FakeLibrary(),
      config: { adminUserIds: [42, 43] },
      tuning: { typingIntervalMs: 100 },
    });
  });
  afterAll(async () => h?.stop());
  beforeEach(() => {
    answerer.respond = longAnswer;
    answerer.deltaDelayMs = 0;
  });

  it('streams a growing draft in a private chat, then sends the final message once', async () => {
    const chat = h.privateChat(++nextUser);
    answerer.deltaDelayMs = 50;
    await chat.send('What did the mayor ask for?');
    const [final] = await chat.waitForReplies(1);
    const drafts = h.drafts.filter((d) => d.chat_id === chat.chat.id);
    expect(drafts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(drafts.map((d) => d.draft_id)).size).toBe(1);
    let previous = 0;
    for (const d of drafts) {
      const partial = d.text.replace(/ …$/, '');
      expect(LONG_TEXT.startsWith(partial)).toBe(true);
      expect(partial.length).toBeGreaterThan(previous);
      previous = partial.length;
    }
    expect(textOf(final!)).toContain('Sources');
    expect(final!.versions).toHaveLength(1);
    const forChat = h.calls.filter((c) => c.payload.chat_id === chat.chat.id);
    expect(forChat.filter((c) => c.method === 'sendMessage')).toHaveLength(1);
    expect(forChat.map((c) => c.method).lastIndexOf('sendMessageDraft')).toBeLessThan(forChat.map((c) => c.method).indexOf('sendMessage'));
  });

  it('repeats "typing" while working and carries on although every sendChatAction fails', async () => {
    const chat = h.privateChat(++nextUser);
    answerer.deltaDelayMs = 20;
    await chat.send('What did the mayor ask for?');
    const [final] = await chat.waitForReplies(1);
    const typing = h.callsOf('sendChatAction').filter((c) => c.payload.chat_id === chat.chat.id);
    expect(typing.length).toBeGreaterThanOrEqual(4);
    expect(typing.every((c) => !c.ok && c.payload.action === 'typing')).toBe(true);
    expect(textOf(final!)).toContain('Mayor Alice Park');
  });

  it('publishes the command menu in every shipped language (admin commands per admin chat) and survives setMyCommands failing', async () => {
    const all = h.callsOf('setMyCommands');
    const scopeOf = (c: (typeof all)[number]) => (c.payload.scope as { chat_id?: number } | undefined)?.chat_id ?? 'everyone';
    // Each scope gets the menu once per shipped language; English is the default (no language_code).
    expect(all.map((c) => `${scopeOf(c)}:${c.payload.language_code ?? 'default'}`)).toEqual(
      ['everyone', 42, 43].flatMap((s) => ['default', 'ru', 'es', 'de', 'uk', 'fr'].map((l) => `${s}:${l}`)),
    );
    const menus = all.filter((c) => c.payload.language_code === undefined);
    const names = (i: number) => (menus[i]!.payload.commands as { command: string }[]).map((c) => c.command);
    expect(names(0)).toEqual(['start', 'help', 'sources', 'reset', 'forgetme', 'follow', 'following', 'unfollow', 'language']);
    expect(names(1)).toEqual([
      'start',
      'help',
      'sources',
      'reset',
      'forgetme',
      'follow',
      'following',
      'unfollow',
      'language',
      'reindex',
      'add',
      'remove',
      'stats',
      'feeds',
      'feed',
      'audit',
      'gaps',
    ]);
    expect((menus[0]!.payload.commands as { description: string }[])[1]!.description).toBe('How to use this bot');
    expect(all.every((c) => !c.ok)).toBe(true);
    // One warning per scope, however many languages failed in it.
    expect(h.logEvents().filter((e) => e.event === 'bot.set_commands_failed')).toHaveLength(3);
    const chat = h.privateChat(++nextUser);
    await chat.send('/start');
    await chat.waitForReplies(1);
  });

  it('still delivers the final answer when the text stream breaks midway', async () => {
    const broken: QuestionAnswerer = {
      ask: async () => longAnswer(),
      askStream: (): AnswerStream => ({
        text: (async function* () {
          yield 'Mayor Alice ';
          throw new Error('connection reset while streaming');
        })(),
        result: Promise.resolve(longAnswer()),
      }),
    };
    const chat = h.privateChat(++nextUser);
    await h.restartBot({ answerer: broken });
    try {
      await chat.send('What did the mayor ask for?');
      const [final] = await chat.waitForReplies(1);
      expect(textOf(final!)).toContain(LONG_TEXT);
      expect(h.logEvents().some((e) => e.event === 'bot.answer_stream_broken')).toBe(true);
    } finally {
      await h.restartBot({ answerer });
    }
  });
});

describe('without drafts (the emulator refuses sendMessageDraft)', () => {
  let h: TelegramHarness;
  const answerer = new FakeAnswerer();

  beforeAll(async () => {
    h = await TelegramHarness.start({ answerer, library: new FakeLibrary(), unsupported: ['sendMessageDraft'] });
  });
  afterAll(async () => h?.stop());
  beforeEach(() => {
    answerer.respond = longAnswer;
    answerer.deltaDelayMs = 80;
  });

  it('falls back to one preview message edited at most about once a second, which becomes the answer', async () => {
    const chat = h.privateChat(3001);
    await chat.send('What did the mayor ask for?');
    const final = await chat.waitFor((m) => m.text.includes('<b>Sources</b>'), 15_000, 'the finished answer');
    expect(chat.messages).toEqual([final]);
    const drafts = h.callsOf('sendMessageDraft').filter((c) => c.payload.chat_id === chat.chat.id);
    expect(drafts).toHaveLength(1);
    expect(drafts[0]!.ok).toBe(false);
    expect(final.versions.length).toBeGreaterThanOrEqual(3);
    expect(final.versions[0]).toMatch(/ …$/);
    expect(final.parse_mode).toBe('HTML');
    expect(final.reply_markup?.inline_keyboard.flat().map((b) => b.text)).toEqual(['Show quotes']);
    const previewEdits = h
      .callsOf('editMessageText')
      .filter((c) => c.payload.chat_id === chat.chat.id && c.payload.parse_mode === undefined);
    expect(previewEdits.length).toBeGreaterThanOrEqual(1);
    const sent = h.callsOf('sendMessage').find((c) => c.payload.chat_id === chat.chat.id)!;
    const times = [sent.at, ...previewEdits.map((c) => c.at)];
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(950);
  });

  it('previews by editing in groups without trying drafts, replying to the question', async () => {
    const group = h.groupChat(-100_300, 3002);
    const questionId = await group.send(`@${BOT.username} what did the mayor ask for?`);
    const final = await group.waitFor((m) => m.text.includes('<b>Sources</b>'), 15_000, 'the finished answer');
    expect(final.reply_to).toBe(questionId);
    expect(final.versions.length).toBeGreaterThanOrEqual(2);
    expect(h.callsOf('sendMessageDraft').filter((c) => c.payload.chat_id === group.chat.id)).toHaveLength(0);
  });
});
