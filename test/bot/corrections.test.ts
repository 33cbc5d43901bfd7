/**
 * Corrections reach readers, end to end: the real stack (fixture model, real index and answerer),
 * the alerts' outbox and sender, and the Telegram emulator. After an article an answer cited is
 * edited and reindexed, that reader gets exactly one notice and a reader of another article none;
 * a second reindex without changes sends nothing; a removed article's notice says it was withdrawn.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopicMatcher, SqliteAlertStore, TopicAlerts } from '../../src/alerts/index.js';
import type { App } from '../../src/app.js';
import { type CorrectionNotices, openCorrectionNotices } from '../../src/desk/index.js';
import { storyText } from '../support/feed-server.js';
import { mdArticle, tempDir, testApp, writeFiles } from '../support/stack.js';
import { type BotMessage, TelegramHarness, textOf } from '../support/telegram.js';

let root: string;
let app: App;
let h: TelegramHarness;
let alerts: TopicAlerts;
let corrections: CorrectionNotices;

const isNotice = (m: BotMessage) => textOf(m).startsWith('✏️');
const noticesIn = (chatId: number) => h.messagesIn(chatId).filter(isNotice);
const articles = () => path.join(root, 'articles');

beforeAll(async () => {
  root = tempDir();
  writeFiles(articles(), {
    'bridge.md': mdArticle(
      'Harbour bridge reopens after repairs',
      '2024-06-01',
      storyText('The harbour bridge reopened on Monday after repairs.'),
    ),
    'budget.md': mdArticle(
      'Council passes budget',
      '2024-06-02',
      storyText('The council passed its budget for next year with a small surplus.'),
    ),
    'zoo.md': mdArticle('Zoo welcomes twin pandas', '2024-06-03', storyText('The city zoo welcomed twin panda cubs born in the spring.')),
    'tram.md': mdArticle(
      'Tram line extended to the airport',
      '2024-06-04',
      storyText('The tram line now runs to the airport every ten minutes.'),
    ),
  });
  app = await testApp(root, { CORRECTIONS_NOTICE: 'true' });
  await app.library.ensure();
  const stateDir = path.join(root, 'state');
  alerts = new TopicAlerts({
    store: SqliteAlertStore.open(stateDir),
    matcher: createTopicMatcher({ retriever: app.retriever, getReader: () => app.library.reader() }),
    library: app.library,
  });
  corrections = openCorrectionNotices(app.state.receipts(), app.library, alerts.store, app.config.desk.correctionsDays);
  corrections.start(app.library);
  h = await TelegramHarness.start({
    answerer: app.answerer,
    library: app.library,
    alerts,
    stateDir,
    tuning: { alertPerChatMs: 50 },
    desk: { questions: app.desk, embedder: null, corrections },
  });
});

afterAll(async () => {
  await h?.stop();
  await corrections?.stop();
  alerts?.store.close();
  app?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

/** Asks and returns the answer's text. */
async function ask(chat: ReturnType<TelegramHarness['privateChat']>, question: string): Promise<string> {
  await chat.send(question);
  const [answer] = await chat.waitForReplies(1);
  return textOf(answer!);
}

/** Reindexes and waits until the notices it caused are queued. */
async function reindex(): Promise<void> {
  await app.library.reindex({});
  await corrections.check();
}

describe('correction notices', () => {
  it('tells the reader whose answer cited an edited article, once, and nobody else; an unchanged reindex sends none', async () => {
    const bridgeReader = h.privateChat(7101);
    const budgetReader = h.privateChat(7102);
    expect(await ask(bridgeReader, 'When did the harbour bridge reopen?')).toContain('Harbour bridge reopens after repairs');
    expect(await ask(budgetReader, 'Did the council pass its budget?')).toContain('Council passes budget');

    writeFiles(articles(), {
      'bridge.md': mdArticle(
        'Harbour bridge reopens after repairs',
        '2024-06-01',
        storyText('The harbour bridge reopened on Tuesday after repairs, a day later than planned.'),
      ),
    });
    await reindex();
    const [notice] = await h.waitUntil(() => (noticesIn(7101).length > 0 ? noticesIn(7101) : undefined), 10_000, 'the notice');
    expect(textOf(notice!)).toMatch(/Harbour bridge reopens after repairs.*cited in an answer to you, has been updated/);
    expect(notice!.reply_markup?.inline_keyboard.flat().map((b) => b.text)).toEqual(['Ask again']);

    await reindex();
    // The sender polls the outbox every second: give it time to send anything it would.
    await new Promise((r) => setTimeout(r, 1500));
    expect(noticesIn(7101)).toHaveLength(1);
    expect(noticesIn(7102)).toHaveLength(0);
  });

  it('says a removed article was withdrawn', async () => {
    const reader = h.privateChat(7103);
    expect(await ask(reader, 'What did the zoo welcome?')).toContain('Zoo welcomes twin pandas');
    fs.rmSync(path.join(articles(), 'zoo.md'));
    await reindex();
    const [notice] = await h.waitUntil(() => (noticesIn(7103).length > 0 ? noticesIn(7103) : undefined), 10_000, 'the notice');
    expect(textOf(notice!)).toMatch(/Zoo welcomes twin pandas.*has been withdrawn/);
    expect(notice!.reply_markup).toBeUndefined();
  });

  it('sends nothing for answers given before the reader’s /forgetme', async () => {
    const reader = h.privateChat(7104);
    expect(await ask(reader, 'Where does the tram line run now?')).toContain('Tram line extended to the airport');
    await reader.send('/forgetme');
    await reader.waitForReplies(1);
    writeFiles(articles(), {
      'tram.md': mdArticle(
        'Tram line extended to the airport',
        '2024-06-04',
        storyText('The tram line now runs to the airport every five minutes.'),
      ),
    });
    await reindex();
    await new Promise((r) => setTimeout(r, 1200));
    expect(noticesIn(7104)).toHaveLength(0);
  });
});
