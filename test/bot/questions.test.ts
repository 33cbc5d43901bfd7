/**
 * Conversations end to end: the bot runs with long polling against the Bot API
 * emulator; tests talk to it as users and read what it sent.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BOT, TelegramHarness, textOf, type BotMessage } from '../support/telegram.js';
import { EXTRACTIVE_LABEL, NOTE_NO_LLM } from '../../src/answering/extractive.js';
import { checkTelegramHtml } from '../support/telegram-html.js';
import { FAKE_ARTICLES, FakeAnswerer, FakeLibrary, citationOf, makeAnswer } from '../support/telegram-fakes.js';

let h: TelegramHarness;
const answerer = new FakeAnswerer();
const library = new FakeLibrary();
let nextUser = 1000;
const newChat = () => h.privateChat(++nextUser);
const hasButton = (m: BotMessage, text: string) => m.reply_markup?.inline_keyboard.flat().some((b) => b.text === text) ?? false;

beforeAll(async () => {
  h = await TelegramHarness.start({ answerer, library, tuning: { sourcesPageSize: 2 } });
});
afterAll(async () => h?.stop());
beforeEach(() => {
  answerer.respond = undefined;
  answerer.deltaDelayMs = 0;
});

describe('questions in a private chat', () => {
  it('asks the answerer as of the message’s date, so "this week" counts from when the reader asked', async () => {
    const chat = newChat();
    const before = Math.floor(Date.now() / 1000) * 1000;
    await chat.send('What did the mayor ask the council for this week?');
    await chat.waitForReplies(1);
    const now = answerer.asked.at(-1);
    expect(now).toBeInstanceOf(Date);
    // Telegram dates are whole seconds: a whole-second instant around the send is the message's date, not the clock.
    expect(now!.getTime() % 1000).toBe(0);
    expect(now!.getTime()).toBeGreaterThanOrEqual(before - 5000);
    expect(now!.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('answers with the [n] markers and a Sources block listing title, date and link', async () => {
    const chat = newChat();
    await chat.send('What did the mayor ask the council for?');
    const [reply] = await chat.waitForReplies(1);
    expect(reply!.parse_mode).toBe('HTML');
    expect(reply!.text).toContain(
      '<a href="https://news.example/flood-barriers">Mayor Alice Park asks council for flood barriers</a> · 2024-03-02',
    );
    expect(textOf(reply!)).toMatch(
      /12 million dollars .*\[1\]\n\nSources\n\[1\] Mayor Alice Park asks council for flood barriers · 2024-03-02$/s,
    );
    expect(hasButton(reply!, 'Show quotes')).toBe(true);
    expect(answerer.calls.at(-1)).toEqual({ question: 'What did the mayor ask the council for?', history: [] });
    // "typing" was attempted although the emulator refuses it; the answer still came.
    expect(h.callsOf('sendChatAction').some((c) => c.payload.chat_id === chat.chat.id && !c.ok)).toBe(true);
  });

  it('passes the previous turns as history, so a follow-up is answered about the right person', async () => {
    const chat = newChat();
    await chat.send('What did coach Ben Ortiz want?');
    const [first] = await chat.waitForReplies(1);
    await chat.send('What did he want?');
    const [second] = await chat.waitForReplies(1);
    expect(answerer.calls.at(-1)!.history).toEqual([
      { role: 'user', content: 'What did coach Ben Ortiz want?' },
      { role: 'assistant', content: expect.stringContaining('Coach Ben Ortiz asked the school board') },
    ]);
    expect(textOf(second!)).toContain('Coach Ben Ortiz wants new stadium lights');
    expect(first!.message_id).toBeLessThan(second!.message_id);
  });

  it('continues from an older answer when the user replies to it', async () => {
    const chat = newChat();
    await chat.send('What did coach Ben Ortiz want?');
    const [coachAnswer] = await chat.waitForReplies(1);
    await chat.send('What did the mayor ask the council for?');
    await chat.waitForReplies(1);
    await chat.send('What did he want?', { replyTo: coachAnswer });
    const [reply] = await chat.waitForReplies(1);
    expect(answerer.calls.at(-1)!.history).toEqual([
      { role: 'user', content: 'What did coach Ben Ortiz want?' },
      { role: 'assistant', content: expect.stringContaining('Coach Ben Ortiz asked the school board') },
    ]);
    expect(textOf(reply!)).toContain('Coach Ben Ortiz');
    // The next message without a reply continues along the branch the user picked.
    await chat.send('And when did they decide?');
    await chat.waitForReplies(1);
    expect(
      answerer.calls
        .at(-1)!
        .history.filter((t) => t.role === 'user')
        .map((t) => t.content),
    ).toEqual(['What did coach Ben Ortiz want?', 'What did he want?']);
  });

  it('/reset forgets the conversation', async () => {
    const chat = newChat();
    await chat.send('What did coach Ben Ortiz want?');
    await chat.waitForReplies(1);
    await chat.send('/reset');
    const [done] = await chat.waitForReplies(1);
    expect(done!.text).toMatch(/forgotten our conversation/);
    await chat.send('What did he want?');
    const [reply] = await chat.waitForReplies(1);
    expect(answerer.calls.at(-1)!.history).toEqual([]);
    // Without the history the follow-up cannot be resolved: a plain not-covered reply, no Sources.
    expect(reply!.text).toBe('The articles do not cover that.');
  });

  it('shows where a cited article without a URL lives in the Sources block', async () => {
    const chat = newChat();
    answerer.respond = () =>
      makeAnswer({
        text: 'Mayor Alice Park asked for 12 million dollars [1].',
        citations: [{ ...citationOf(1, FAKE_ARTICLES[0]!), url: null }],
      });
    await chat.send('What did the mayor ask for?');
    const [reply] = await chat.waitForReplies(1);
    expect(reply!.text).toContain(
      '[1] Mayor Alice Park asks council for flood barriers · 2024-03-02 · <code>articles/city/flood-barriers.md</code>',
    );
  });

  it('opens extractive answers with the answer, labels them once after it, and keeps not-covered answers plain', async () => {
    const chat = newChat();
    answerer.respond = () =>
      makeAnswer({
        text: '\u201CMayor Alice Park asked for 12 million dollars.\u201D [1]',
        mode: 'extractive',
        note: NOTE_NO_LLM,
        citations: [citationOf(1, FAKE_ARTICLES[0]!)],
      });
    await chat.send('What did the mayor ask for?');
    const [extractive] = await chat.waitForReplies(1);
    expect(textOf(extractive!).startsWith(`\u201CMayor Alice Park asked for 12 million dollars.\u201D [1]\n\n${NOTE_NO_LLM}\n\n`)).toBe(
      true,
    );
    expect(textOf(extractive!).split(EXTRACTIVE_LABEL)).toHaveLength(2);
    answerer.respond = () => makeAnswer({ text: 'The articles do not cover the weather.', mode: 'not-covered' });
    await chat.send('Will it rain tomorrow?');
    const [plain] = await chat.waitForReplies(1);
    expect(plain!.text).toBe('The articles do not cover the weather.');
    expect(plain!.reply_markup).toBeUndefined();
  });

  it('splits a long answer into several valid messages on paragraph boundaries', async () => {
    const chat = newChat();
    const paragraphs = Array.from(
      { length: 24 },
      (_, i) => `Paragraph ${i + 1}: the council debated <item ${i}> & its cost [${(i % 2) + 1}]. ` + 'More detail. '.repeat(30),
    );
    answerer.respond = () =>
      makeAnswer({ text: paragraphs.join('\n\n'), citations: [citationOf(1, FAKE_ARTICLES[0]!), citationOf(2, FAKE_ARTICLES[2]!)] });
    await chat.send('Tell me everything about the council.');
    const last = await chat.waitFor((m) => m.text.includes('<b>Sources</b>'), 10_000, 'the last part with Sources');
    const parts = chat.messages;
    expect(parts.length).toBeGreaterThanOrEqual(3);
    expect(parts.at(-1)).toBe(last);
    for (const p of parts) {
      expect(p.text.length).toBeLessThanOrEqual(4096);
      expect(checkTelegramHtml(p.text).ok).toBe(true);
    }
    const shown = parts.map(textOf).join('\n\n');
    for (const para of paragraphs) expect(shown).toContain(para.trim());
    // Only the last part carries the button, and Telegram never had to refuse a part.
    expect(parts.filter((p) => hasButton(p, 'Show quotes'))).toEqual([last]);
    expect(h.callsOf('sendMessage').every((c) => c.ok)).toBe(true);
  });

  it('escapes <b> and & from articles; "Show quotes" reveals the escaped quotes', async () => {
    const chat = newChat();
    await chat.send('What is on the bistro menu?');
    const [reply] = await chat.waitForReplies(1);
    expect(reply!.text).toContain('Chef opens &lt;b&gt;Bold&lt;/b&gt; Bistro &amp; Bar');
    expect(reply!.text).toContain('href="https://news.example/bistro?a=1&amp;b=2"');
    expect(textOf(reply!)).toContain('The bistro menu lists <b>fish & chips</b>');
    await chat.tap(reply!, 'Show quotes');
    const [quotes] = await chat.waitForReplies(1);
    expect(quotes!.reply_to).toBe(reply!.message_id);
    expect(quotes!.text).toContain('<blockquote>The bistro menu lists &lt;b&gt;fish &amp; chips&lt;/b&gt;');
    expect(textOf(quotes!)).toMatch(/^Quotes\n\n\[1\] Chef opens <b>Bold<\/b> Bistro & Bar · 2024-05-09\n/);
    expect(h.callsOf('answerCallbackQuery').length).toBeGreaterThan(0);
  });

  it('answers an unknown or expired quotes button with an explanation instead of failing', async () => {
    const chat = newChat();
    await chat.send('What did the mayor ask the council for?');
    const [reply] = await chat.waitForReplies(1);
    const before = h.callsOf('answerCallbackQuery').length;
    await chat.tapData(reply!, 'q:doesnotexist');
    const call = await h.waitUntil(() => h.callsOf('answerCallbackQuery')[before]);
    expect(call.payload).toMatchObject({ text: expect.stringMatching(/expired/), show_alert: true });
    await chat.expectNoReplies(200);
  });

  it('refuses a message over the length limit clearly, without asking the answerer', async () => {
    const chat = newChat();
    const calls = answerer.calls.length;
    await chat.send('x'.repeat(1001));
    const [reply] = await chat.waitForReplies(1);
    expect(reply!.text).toBe('That message is too long (1001 characters). Please keep questions under 1000 characters.');
    expect(answerer.calls.length).toBe(calls);
  });

  it('explains that it reads text only when sent a sticker', async () => {
    const chat = newChat();
    await chat.sendSticker();
    const [reply] = await chat.waitForReplies(1);
    expect(reply!.text).toBe('I can only read text messages. Please type your question.');
  });

  it('remembers the conversation across a restart', async () => {
    const chat = newChat();
    await chat.send('What did coach Ben Ortiz want?');
    await chat.waitForReplies(1);
    await h.restartBot();
    await chat.send('What did he want?');
    const [reply] = await chat.waitForReplies(1);
    expect(answerer.calls.at(-1)!.history.map((t) => t.role)).toEqual(['user', 'assistant']);
    expect(textOf(reply!)).toContain('Coach Ben Ortiz');
  });
});

describe('commands', () => {
  it('/start tells what the bot knows (article count, date range) and suggests questions about the newest titles', async () => {
    const chat = newChat();
    await chat.send('/start');
    const [reply] = await chat.waitForReplies(1);
    expect(textOf(reply!)).toContain('Hi! I answer questions about 3 news articles, published 2024-03-02 to 2024-05-09');
    // The two newest articles (2024-05-09, 2024-04-18), titles escaped; the listing's own order does not matter.
    expect(textOf(reply!)).toContain(
      'Just type a question, for example: What do the articles say about “Chef opens <b>Bold</b> Bistro & Bar”? or What do the articles say about “Coach Ben Ortiz wants new stadium lights”?',
    );
    expect(reply!.text).toContain('<i>What do the articles say about “Chef opens &lt;b&gt;Bold&lt;/b&gt; Bistro &amp; Bar”?</i>');
    expect(checkTelegramHtml(reply!.text!).ok).toBe(true);
  });

  it('/start gives one date when every article shares it, and no example without articles', async () => {
    const saved = library.articles;
    try {
      library.articles = saved.map((a) => ({ ...a, date: '2024-06-27' }));
      const chat = newChat();
      await chat.send('/start');
      const [reply] = await chat.waitForReplies(1);
      expect(textOf(reply!)).toContain('Hi! I answer questions about 3 news articles, published 2024-06-27, and cite');
      library.articles = [];
      await chat.send('/start');
      const [empty] = await chat.waitForReplies(1);
      expect(textOf(empty!)).toContain('none are indexed yet');
      expect(textOf(empty!)).toContain('Just type a question.\n');
    } finally {
      library.articles = saved;
    }
  });

  it('/help explains how to ask and hides admin commands from non-admins', async () => {
    const chat = newChat();
    await chat.send('/help');
    const [reply] = await chat.waitForReplies(1);
    expect(textOf(reply!)).toContain('Show quotes');
    expect(textOf(reply!)).not.toContain('/reindex');
  });

  it('/sources lists articles in pages turned with inline buttons', async () => {
    const chat = newChat();
    await chat.send('/sources');
    const [list] = await chat.waitForReplies(1);
    expect(textOf(list!)).toMatch(/^Articles 1–2 of 3\n1\. Mayor Alice Park .* · city\/flood-barriers\.md\n2\. Coach Ben Ortiz/);
    await chat.tap(list!, 'Next ›');
    const turned = await chat.waitFor((m) => m.message_id === list!.message_id && m.versions.length === 2);
    expect(textOf(turned)).toMatch(/^Articles 3–3 of 3\n3\. Chef opens <b>Bold<\/b> Bistro & Bar/);
    expect(hasButton(turned, '‹ Previous')).toBe(true);
    expect(hasButton(turned, 'Next ›')).toBe(false);
  });

  it('answers an unknown command with a hint instead of treating it as a question', async () => {
    const chat = newChat();
    const calls = answerer.calls.length;
    await chat.send('/frobnicate now');
    const [reply] = await chat.waitForReplies(1);
    expect(reply!.text).toBe("I don't know /frobnicate. Try /help.");
    expect(answerer.calls.length).toBe(calls);
  });
});

describe('groups', () => {
  it('ignores messages not addressed to the bot and answers mentions, replies and commands', async () => {
    const group = h.groupChat(-100_200, 201);
    const calls = answerer.calls.length;
    await group.send('What did the mayor ask the council for?');
    const mentionId = await group.send(`@${BOT.username} what did the mayor ask the council for?`);
    const [answer] = await group.waitForReplies(1);
    // The unaddressed message came first; only the mention reached the answerer.
    expect(answerer.calls.slice(calls).map((c) => c.question)).toEqual(['what did the mayor ask the council for?']);
    expect(answer!.reply_to).toBe(mentionId);
    expect(textOf(answer!)).toContain('Mayor Alice Park');

    const other = h.groupChat(-100_200, 202);
    await other.send('What did she ask for?', { replyTo: answer });
    await group.waitForReplies(1);
    // Memory is per chat: another member's reply continues the group's conversation.
    expect(answerer.calls.at(-1)!.history.map((t) => t.role)).toEqual(['user', 'assistant']);

    await group.send(`/help@${BOT.username}`);
    const [help] = await group.waitForReplies(1);
    expect(textOf(help!)).toContain(`Mention me (@${BOT.username})`);
    await group.send('/help@SomeOtherBot');
    await group.send('/frobnicate');
    await group.expectNoReplies(300);
  });
});
