/**
 * Inline mode over the real stack (fixture model, real index and retriever) and the emulator,
 * through the harness proxy (the emulator has no inline queries): `@bot words` lists matching
 * articles with title, date and a one-line snippet; the message a result posts carries the title,
 * the link and the snippet; the allowlist holds; no LLM is asked.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { createArticleSearch } from '../../src/search/index.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { mdArticle, tempDir, testApp, writeFiles } from '../support/stack.js';
import { TelegramHarness } from '../support/telegram.js';
import { checkTelegramHtml, visibleText } from '../support/telegram-html.js';

type Result = {
  id: string;
  title: string;
  description: string;
  url?: string;
  input_message_content: { message_text: string; parse_mode: string };
};

let root: string;
let app: App;
let fake: FakeOpenAI;
let h: TelegramHarness;

beforeAll(async () => {
  root = tempDir();
  const files: Record<string, string> = {
    'pandas.md': mdArticle(
      'Zoo welcomes twin panda cubs',
      '2024-07-05',
      'The city zoo announced the birth of twin panda cubs named Bao and Mei on Friday. Keepers said both cubs are healthy.',
      'https://news.example/pandas',
    ),
    'tram.md': mdArticle(
      'Council approves tram line',
      '2024-07-01',
      'The council approved a new tram line to the airport costing 400 million euros.',
    ),
  };
  // Enough articles about pandas that the list has to stop at ten.
  for (let i = 1; i <= 14; i++) {
    files[`panda-${i}.md`] = mdArticle(
      `Panda report number ${i}`,
      `2024-06-${String(i).padStart(2, '0')}`,
      `Panda keepers filed report ${i} about the bamboo supply for the panda enclosure.`,
    );
  }
  writeFiles(path.join(root, 'articles'), files);
  fake = await startFakeOpenAI();
  app = await testApp(root, { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'sk-test-inline-123456' });
  await app.library.ensure();
  h = await TelegramHarness.start({
    answerer: app.answerer,
    library: app.library,
    search: createArticleSearch(app.retriever),
    config: { allowedUserIds: [700, 701] },
  });
});

afterAll(async () => {
  await h?.stop();
  await fake?.close();
  app?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('inline search', () => {
  it('lists the matching article first with its title, date and a one-line snippet, and posts title, link and snippet', async () => {
    const answer = await h.inlineQuery(700, 'twin panda cubs Bao Mei');
    const results = answer.results as Result[];
    expect(results[0]).toMatchObject({
      title: 'Zoo welcomes twin panda cubs',
      url: 'https://news.example/pandas',
      description: expect.stringMatching(
        /^2024-07-05 · The city zoo announced the birth of twin panda cubs named Bao and Mei on Friday\.$/,
      ),
    });
    const message = results[0]!.input_message_content;
    expect(message.parse_mode).toBe('HTML');
    expect(checkTelegramHtml(message.message_text)).toMatchObject({ ok: true });
    expect(visibleText(message.message_text, 'HTML')).toBe(
      'Zoo welcomes twin panda cubs (2024-07-05)\nhttps://news.example/pandas\n“The city zoo announced the birth of twin panda cubs named Bao and Mei on Friday.”',
    );
    expect(answer.cache_time).toBe(60);
  });

  it('lists at most ten articles, each once', async () => {
    const results = (await h.inlineQuery(700, 'panda')).results as Result[];
    expect(results).toHaveLength(10);
    expect(new Set(results.map((r) => r.id)).size).toBe(10);
    for (const r of results) expect(r.description.length).toBeLessThanOrEqual(14 + 140);
  });

  it('answers an empty query with no results, and never asks the LLM', async () => {
    expect((await h.inlineQuery(701, '')).results).toEqual([]);
    expect(fake.chatRequests()).toHaveLength(0);
  });

  it('gives users outside the allowlist no results, and marks answers personal so Telegram does not share them', async () => {
    const stranger = await h.inlineQuery(999, 'twin panda cubs');
    expect(stranger).toMatchObject({ results: [], is_personal: true });
    expect((await h.inlineQuery(700, 'tram line')).is_personal).toBe(true);
  });
});
