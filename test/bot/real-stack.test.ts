/**
 * The bot over the real product stack: the fixture model, a real index of the seed article and
 * the test corpus, the real retriever and answerer talking to the fake OpenAI server, and the
 * Telegram emulator. Nothing here is a test double except the two external services.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CORPUS } from '../support/corpus.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { mdArticle, tempDir, testApp, writeFiles } from '../support/stack.js';
import { TelegramHarness, textOf } from '../support/telegram.js';
import { checkTelegramHtml } from '../support/telegram-html.js';

const ADMIN = 7;
let root: string;
let app: App;
let fake: FakeOpenAI;
let h: TelegramHarness;
let pages: http.Server;
let pagesUrl: string;
let user = 100;

type ChatRequest = { messages: { role: string; content: string }[] };
const lastUserMessage = (r: ChatRequest) => r.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
const isCondense = (r: ChatRequest) => /standalone/i.test(r.messages[0]?.content ?? '');

/** A stand-in LLM: condenses follow-ups about "he" using the history it was sent, and answers from source [1]. */
function llm(req: ChatRequest): string {
  if (isCondense(req)) {
    const all = req.messages.map((m) => m.content).join('\n');
    const q = lastUserMessage(req);
    return /Kolokoltsev/.test(all) && /\bhe\b/i.test(q) ? q.replace(/\bhe\b/i, 'Kolokoltsev') : q;
  }
  const prompt = lastUserMessage(req);
  // Nothing in the sources says how Lacroix answered: the model says so with its token.
  if (/Question: What did Lacroix reply/.test(prompt)) return 'NOT_COVERED';
  const first = /\[1\][^\n]*\n([^\n]+)/.exec(prompt)?.[1] ?? '';
  const sentence = first.split(/(?<=\.)\s/)[0] ?? first;
  return `${sentence} [1]`;
}

beforeAll(async () => {
  root = tempDir();
  writeFiles(path.join(root, 'articles'), CORPUS);
  writeFiles(path.join(root, 'articles'), {
    'seed.txt': fs.readFileSync('seeds/000_cc2b64a9889106ac.txt'),
    'markup.md': mdArticle(
      'Council bans <b>bold</b> signs & banners',
      '2024-06-22',
      'The council banned <b>bold</b> shop signs & banners on the high street, citing "visual clutter" <script>alert(1)</script>.',
    ),
  });
  fake = await startFakeOpenAI();
  fake.setHandler((req) => llm(req as ChatRequest));
  app = await testApp(root, { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'sk-test-secret-key-123456', ALLOW_PRIVATE_URLS: 'true' });
  await app.library.ensure();
  h = await TelegramHarness.start({
    answerer: app.answerer,
    library: app.library,
    config: { adminUserIds: [ADMIN] },
    historyTurns: 6,
  });
  pages = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<html><head><title>Zoo welcomes twin pandas</title><meta property="article:published_time" content="2024-07-05"></head>
      <body><nav>Menu</nav><article><h1>Zoo welcomes twin pandas</h1><p>The city zoo announced the birth of twin panda cubs named Bao and Mei on Friday.</p>
      <p>Keepers said both cubs are healthy and will be shown to visitors in the autumn.</p></article><footer>© Zoo News</footer></body></html>`);
  });
  await new Promise<void>((r) => pages.listen(0, '127.0.0.1', r));
  pagesUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await h?.stop();
  await fake?.close();
  await new Promise<void>((r) => pages.close(() => r()));
  app?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('bot over the real stack', () => {
  it('/start suggests questions about the newest articles, and asking one gets that article cited', async () => {
    const chat = h.privateChat(++user);
    await chat.send('/start');
    const start = await chat.waitForNew((m) => /Hi!/.test(textOf(m)), 15_000, 'the /start reply');
    expect(textOf(start)).toContain('news articles, published 2023-11-05 to 2024-06-27');
    const examples = [...textOf(start).matchAll(/What do the articles say about “([^”]+)”\?/g)].map((m) => m[1]);
    // The seed (2024-06-27; its long title cut at a word) and the rocket launch (2024-06-25).
    expect(examples).toHaveLength(2);
    expect(examples[0]).toMatch(/^A Kolokoltsev’s arrival .*…$/);
    expect(examples[0]!.length).toBeLessThanOrEqual(60);
    expect(examples[1]).toBe('Private rocket reaches orbit on first attempt');
    await chat.send(`What do the articles say about “${examples[1]}”?`);
    const answer = await chat.waitForNew((m) => /Sources/.test(textOf(m)), 15_000, 'an answer with sources');
    expect(textOf(answer)).toMatch(/Sources\n\[1\] Private rocket reaches orbit on first attempt · 2024-06-25/);
  });

  it('answers a question with a citation and a Sources block pointing at the seed article', async () => {
    const chat = h.privateChat(++user);
    await chat.send('Who is Kolokoltsev meeting at the UN?');
    const reply = await chat.waitForNew((m) => /Sources/.test(textOf(m)), 15_000, 'an answer with sources');
    expect(reply.parse_mode).toBe('HTML');
    expect(textOf(reply)).toMatch(/\[1\]/);
    expect(textOf(reply)).toMatch(/A Kolokoltsev’s arrival.*2024-06-27/s);
    const prompt = JSON.stringify(fake.chatRequests().at(-1));
    expect(prompt).toContain('Jean-Pierre Lacroix');
  });

  it("replies 'not covered' with the closest articles when the model finds no answer in the sources", async () => {
    const chat = h.privateChat(++user);
    const asked = fake.chatRequests().length;
    await chat.send('What did Lacroix reply to Kolokoltsev about Russophobia?');
    const reply = await chat.waitForNew((m) => /don’t cover|don't cover/.test(textOf(m)), 15_000, 'a not-covered reply');
    expect(textOf(reply)).toMatch(/closest articles/);
    expect(textOf(reply)).toMatch(/Kolokoltsev.*\(2024-06-27\)/s);
    expect(textOf(reply)).not.toMatch(/Sources/);
    // Retrieval found the article; it was the model that found no answer in it.
    expect(JSON.stringify(fake.chatRequests().slice(asked))).toContain('Question: What did Lacroix reply');
    // The model's token never reaches the chat, not even in a streamed draft.
    const shown = [
      ...h.messagesIn(chat.chat.id).flatMap((m) => m.versions),
      ...h.drafts.filter((d) => d.chat_id === chat.chat.id).map((d) => d.text),
    ];
    expect(shown.join('\n')).not.toMatch(/NOT_COVERED/);
  });

  it('resolves a follow-up ("what did he ask for?") against this chat’s history', async () => {
    const chat = h.privateChat(++user);
    await chat.send('Who is Kolokoltsev meeting at the UN?');
    await chat.waitForNew((m) => /Sources/.test(textOf(m)), 15_000);
    const other = h.privateChat(++user);
    await other.send('Who won the national chess championship?');
    await other.waitForNew((m) => /Sources/.test(textOf(m)), 15_000);
    fake.reset();
    await chat.send('What did he ask for?');
    const reply = await chat.waitForNew((m) => /Sources/.test(textOf(m)), 15_000);
    const condense = fake.chatRequests().find((r) => isCondense(r as ChatRequest));
    expect(JSON.stringify(condense)).toContain('Who is Kolokoltsev meeting at the UN?');
    expect(JSON.stringify(condense)).not.toContain('chess');
    expect(textOf(reply)).toMatch(/Kolokoltsev/);
  });

  it('escapes article text that contains <b> and & in the answer and the sources', async () => {
    const chat = h.privateChat(++user);
    await chat.send('What did the council ban on the high street signs and banners?');
    const reply = await chat.waitForNew((m) => /Sources/.test(textOf(m)), 15_000);
    expect(checkTelegramHtml(reply.text)).toMatchObject({ ok: true });
    expect(reply.text).toContain('&lt;b&gt;bold&lt;/b&gt;');
    expect(reply.text).toContain('&amp;');
    expect(reply.text).not.toContain('<script>');
  });

  it('ignores a group message that does not mention the bot', async () => {
    const group = h.groupChat(-4242, ++user);
    await group.send('Who won the national chess championship?');
    await group.expectNoReplies(1500);
  });

  it('lets an admin add an article by URL, and the next answer cites it', async () => {
    const chat = h.privateChat(ADMIN);
    chat.skipSeen();
    await chat.send(`/add ${pagesUrl}/pandas`);
    const done = await chat.waitForNew((m) => /Zoo welcomes twin pandas/.test(textOf(m)), 20_000, 'the add confirmation');
    expect(textOf(done)).toMatch(/Zoo welcomes twin pandas/);
    const asker = h.privateChat(++user);
    await asker.send('What are the names of the twin panda cubs?');
    const reply = await asker.waitForNew((m) => /Sources/.test(textOf(m)), 15_000);
    expect(textOf(reply)).toMatch(/Bao and Mei/);
    expect(textOf(reply)).toMatch(/Zoo welcomes twin pandas/);
  });

  it('lets an admin upload a document, and the next answer cites it', async () => {
    const chat = h.privateChat(ADMIN);
    chat.skipSeen();
    const body =
      'date 2024-07-09\nThe ferry company Blue Wake ordered three electric ferries for the lake crossing, to be delivered in 2026.';
    await chat.sendDocument({ fileName: 'ferries.txt', bytes: new TextEncoder().encode(body), mimeType: 'text/plain' });
    await chat.waitForNew((m) => /ferries/i.test(textOf(m)) && /add/i.test(textOf(m)), 20_000, 'the upload confirmation');
    const asker = h.privateChat(++user);
    await asker.send('How many electric ferries did Blue Wake order?');
    const reply = await asker.waitForNew((m) => /Sources/.test(textOf(m)), 15_000);
    expect(textOf(reply)).toMatch(/three electric ferries/);
  });

  it('splits an answer longer than 4096 characters into valid messages', async () => {
    fake.setHandler((req) =>
      isCondense(req as ChatRequest)
        ? lastUserMessage(req as ChatRequest)
        : Array.from({ length: 60 }, (_, i) => `Paragraph ${i}: the volcano on Tamuna erupted & lava reached the coast [1].`).join('\n\n'),
    );
    try {
      const chat = h.privateChat(++user);
      await chat.send('Tell me everything about the volcano eruption on Tamuna');
      const last = await chat.waitForNew((m) => /Sources/.test(textOf(m)), 20_000);
      const mine = h.messagesIn(last.chat_id).filter((m) => !m.deleted && /Paragraph|Sources/.test(m.text));
      expect(mine.length).toBeGreaterThanOrEqual(2);
      for (const m of mine) {
        expect(m.text.length).toBeLessThanOrEqual(4096);
        expect(checkTelegramHtml(m.text)).toMatchObject({ ok: true });
      }
      expect(mine.map((m) => m.text).join('\n')).toContain('Paragraph 59');
    } finally {
      fake.setHandler((req) => llm(req as ChatRequest));
    }
  });

  it('never shows the API key or the bot token in any message or log line', async () => {
    const everything =
      JSON.stringify(h.callsOf('sendMessage')) + JSON.stringify(h.callsOf('editMessageText')) + JSON.stringify(h.logEvents());
    expect(everything).not.toContain('sk-test-secret-key-123456');
    expect(everything).not.toContain(h.token);
  });
});
