/**
 * Extractive replies in Telegram, over the real stack with no answer model (lexical retrieval):
 * the first line is the answering sentence, a follow-up does not quote again what the reply
 * before it quoted, and the "no AI summary" label is shown once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CORPUS } from '../support/corpus.js';
import { tempDir, testApp, writeFiles } from '../support/stack.js';
import { TelegramHarness, textOf } from '../support/telegram.js';

let root: string;
let app: App;
let h: TelegramHarness;
let user = 300;

beforeAll(async () => {
  root = tempDir();
  writeFiles(path.join(root, 'articles'), {
    ...CORPUS,
    'seed.txt': fs.readFileSync('seeds/000_cc2b64a9889106ac.txt'),
    'lake-varna-bridge.md': fs.readFileSync('test/fixtures/extractive/lake-varna-bridge.md'),
    'ferry-merger.md': fs.readFileSync('test/fixtures/extractive/ferry-merger.md'),
    'eastport-mayor.md': fs.readFileSync('test/fixtures/extractive/eastport-mayor.md'),
  });
  // Chunks of the default size, as served: the test default (96 tokens) splits the seed article
  // into passages retrieval returns one of, so the request would not be among them at all.
  app = await testApp(root, { EMBEDDING_PROVIDER: 'none', CHUNK_MAX_TOKENS: '256' });
  await app.library.ensure();
  h = await TelegramHarness.start({ answerer: app.answerer, library: app.library, historyTurns: 6 });
});

afterAll(async () => {
  await h?.stop();
  app?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

/** Asks in `chat` and returns the finished reply's text (the one with a Sources block). */
async function ask(chat: ReturnType<TelegramHarness['privateChat']>, question: string): Promise<string> {
  await chat.send(question);
  return textOf(await chat.waitForNew((m) => /Sources/.test(textOf(m)), 15_000, `an answer to "${question}"`));
}

const firstLine = (text: string) => text.split('\n')[0] ?? '';

describe('extractive replies in Telegram', () => {
  it('answers the follow-up "What did he ask the UN for?" with the request first, without the meeting sentence again', async () => {
    const chat = h.privateChat(++user);
    const meeting = await ask(chat, 'Who will Kolokoltsev hold bilateral meetings with?');
    expect(firstLine(meeting)).toMatch(/bilateral meetings with UN Under-Secretary-General .* Jean-Pierre Lacroix\.” \[1\]$/);
    const request = await ask(chat, 'What did he ask the UN for?');
    expect(firstLine(request)).toMatch(/asked for a UN assessment\.” \[\d\]$/);
    expect(request).not.toMatch(/bilateral meetings/);
    // Said once, after the quotes.
    expect(request.match(/no AI summary/g)).toHaveLength(1);
    expect(request).toMatch(/\[\d\]\n\nExtracted from the articles \(no AI summary\): no answer model is configured/);
  });

  it('leads with the cost and with the reason for the delay', async () => {
    const chat = h.privateChat(++user);
    const cost = await ask(chat, 'How much did the Lake Varna bridge cost?');
    expect(firstLine(cost)).toMatch(/^“The bridge cost 410 million euros/);
    const why = await ask(chat, 'Why was it delayed?');
    expect(firstLine(why)).toMatch(/^“Work was delayed because engineers found unstable clay/);
  });

  it('leads with what a question asks, not with the story it describes around it', async () => {
    // Readers name the story first ("X is buying Y, announced this week"), then ask.
    const name = await ask(
      h.privateChat(++user),
      "harbour lines is buying its ferry rival coastway, a deal worth billions - what's the merged company going to be called?",
    );
    expect(firstLine(name)).toMatch(/^“The merged company, which is to be called Northsea Link/);
  });

  it('quotes a short sentence when it is the answer', async () => {
    const age = await ask(h.privateChat(++user), 'How old was Anna Berg, the former Eastport mayor who died at the weekend?');
    expect(firstLine(age)).toMatch(/^“Berg was 88\.” \[1\]$/);
  });
});
