/**
 * Topic alerts end to end: the real stack (fixture model, real index and retriever), a feed on
 * 127.0.0.1 polled by the bot, and the Telegram emulator. A follower gets exactly one alert for a
 * new matching item, "Ask about this" leads to a cited answer about it, a restart mid-delivery sends
 * nothing twice, and a user who blocked the bot gets nothing more.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Transformer } from 'grammy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopicMatcher, SqliteAlertStore, TopicAlerts } from '../../src/alerts/index.js';
import type { App } from '../../src/app.js';
import { FeedPoller, SqliteFeedStore } from '../../src/feeds/index.js';
import { FeedSite, type StoryItem, storyText } from '../support/feed-server.js';
import { eventually, mdArticle, tempDir, testApp, writeFiles } from '../support/stack.js';
import { type BotMessage, TelegramHarness, textOf } from '../support/telegram.js';

let root: string;
let app: App;
let site: FeedSite;
let h: TelegramHarness;
let poller: FeedPoller;
let alerts: TopicAlerts;
const items: StoryItem[] = [];
/** Alert sends are slowed down while this is set, so a restart can land in the middle of a delivery. */
let slowAlertsMs = 0;

const slowAlerts: Transformer = async (prev, method, payload, signal) => {
  const text = (payload as { text?: string }).text ?? '';
  if (method === 'sendMessage' && text.startsWith('🔔') && slowAlertsMs > 0) await new Promise((r) => setTimeout(r, slowAlertsMs));
  return prev(method, payload, signal);
};

const isAlert = (m: BotMessage) => textOf(m).startsWith('🔔');
const alertsIn = (chatId: number) => h.messagesIn(chatId).filter(isAlert);

function publish(item: Omit<StoryItem, 'date'>): void {
  items.unshift({ ...item, date: '2024-07-10T08:00:00Z' });
}

beforeAll(async () => {
  root = tempDir();
  writeFiles(path.join(root, 'articles'), {
    'bridge.md': mdArticle('Harbour bridge reopens after repairs', '2024-06-01', storyText('The harbour bridge reopened on Monday.')),
    'budget.md': mdArticle(
      'Council passes budget',
      '2024-06-02',
      storyText('The council passed its budget for next year with a small surplus.'),
    ),
  });
  app = await testApp(root, { ALLOW_PRIVATE_URLS: 'true' });
  await app.library.ensure();
  site = await FeedSite.start();
  site.rss('/news.xml', 'River Times', items);
  const stateDir = path.join(root, 'state');
  poller = new FeedPoller({
    store: SqliteFeedStore.open(stateDir, [site.url('/news.xml')]),
    library: app.library,
    fetch: { timeoutMs: 3000, allowPrivate: true },
    intervalMs: 200,
    tickMs: 100,
  });
  alerts = new TopicAlerts({
    store: SqliteAlertStore.open(stateDir),
    matcher: createTopicMatcher({ retriever: app.retriever, getReader: () => app.library.searchIndex() }),
    library: app.library,
  });
  h = await TelegramHarness.start({
    answerer: app.answerer,
    library: app.library,
    feeds: poller,
    alerts,
    stateDir,
    transformers: [slowAlerts],
  });
});

afterAll(async () => {
  await h?.stop();
  await poller?.store.close();
  await alerts?.store.close();
  await site?.stop();
  app?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('topic alerts', () => {
  it('sends a follower exactly one alert when a feed gains a matching item, and nothing to other topics', async () => {
    const follower = h.privateChat(301);
    const other = h.privateChat(302);
    await follower.send('/follow Marrow river flooding');
    expect(textOf((await follower.waitForReplies(1))[0]!)).toMatch(/Following “Marrow river flooding”/);
    await other.send('/follow ferry strike');
    await other.waitForReplies(1);
    publish({
      guid: 'oak',
      title: 'Volunteers plant 5,000 oak trees to curb Marrow river flooding',
      path: '/oak',
      content: storyText('Volunteers planted 5,000 oak trees along the Marrow river on Saturday to reduce flooding in the valley.'),
    });
    const alert = await follower.waitForNew(isAlert, 15_000, 'the alert');
    expect(alert.text).toContain(`href="${site.url('/oak')}"`);
    expect(textOf(alert)).toMatch(/Volunteers plant 5,000 oak trees to curb Marrow river flooding \(2024-07-10\)/);
    expect(textOf(alert)).toMatch(/“[^”]*Marrow river[^”]*” \[1\]/);
    expect(alert.reply_markup?.inline_keyboard.flat().map((b) => b.text)).toEqual(['Ask about this']);
    // Several more polls and scans happen; still one alert, and none for the other topic.
    await new Promise((r) => setTimeout(r, 1500));
    expect(alertsIn(301)).toHaveLength(1);
    expect(alertsIn(302)).toHaveLength(0);
  });

  it('"Ask about this" starts a conversation about the article, and the next question is answered with a citation', async () => {
    const follower = h.privateChat(301);
    const alert = alertsIn(301)[0]!;
    follower.skipSeen();
    await follower.tap(alert, 'Ask about this');
    const prompt = await follower.waitForNew((m) => /Let’s talk about/.test(textOf(m)));
    expect(textOf(prompt)).toContain('Volunteers plant 5,000 oak trees');
    await follower.send('How many oak trees did the volunteers plant?');
    const answer = await follower.waitForNew((m) => /Sources/.test(textOf(m)), 15_000, 'the answer');
    expect(textOf(answer)).toMatch(/5,000 oak trees/);
    expect(textOf(answer)).toMatch(/\[1\] Volunteers plant 5,000 oak trees to curb Marrow river flooding/);
  });

  it('lists and stops follows, choosing which one with a button', async () => {
    const chat = h.privateChat(303);
    await chat.send('/follow Hong Kong protests');
    await chat.send('/follow tram line');
    await chat.waitForReplies(2);
    await chat.send('/following');
    expect(textOf((await chat.waitForReplies(1))[0]!)).toMatch(/1\. Hong Kong protests\n2\. tram line/);
    await chat.send('/unfollow');
    const picker = (await chat.waitForReplies(1))[0]!;
    await chat.tap(picker, 'Stop “tram line”');
    await chat.waitFor((m) => m.message_id === picker.message_id && /Stopped following “tram line”/.test(textOf(m)));
    expect((await alerts.store.following(303)).map((f) => f.topic)).toEqual(['Hong Kong protests']);
  });

  it('survives a restart in the middle of a delivery without sending anything twice', async () => {
    const readers = [401, 402, 403, 404, 405].map((id) => h.privateChat(id));
    for (const r of readers) await r.send('/follow night trains northern line');
    for (const r of readers) await r.waitForReplies(1);
    slowAlertsMs = 400;
    publish({
      guid: 'trains',
      title: 'Night trains return to the northern line',
      path: '/trains',
      content: storyText('The rail operator restored night trains on the northern line, with departures every hour after midnight.'),
    });
    await h.waitUntil(() => readers.some((r) => alertsIn(r.chat.id).length > 0), 15_000, 'the first alert');
    await h.restartBot();
    // The restart came mid-delivery: some readers were still waiting for theirs.
    expect(readers.filter((r) => alertsIn(r.chat.id).length > 0).length).toBeLessThan(5);
    slowAlertsMs = 0;
    await h.waitUntil(() => readers.every((r) => alertsIn(r.chat.id).length > 0), 15_000, 'every reader alerted');
    await new Promise((r) => setTimeout(r, 1500));
    expect(readers.map((r) => alertsIn(r.chat.id).length)).toEqual([1, 1, 1, 1, 1]);
    expect(await alerts.store.outboxCounts()).not.toHaveProperty('unknown');
  });

  it('alerts on articles that arrive any other way too (an upload or /add goes through the library)', async () => {
    const chat = h.privateChat(311);
    await chat.send('/follow beekeepers honey harvest');
    await chat.waitForReplies(1);
    await app.library.addFile(
      'honey.md',
      new TextEncoder().encode(
        mdArticle(
          'Beekeepers report record honey harvest',
          '2024-07-11',
          storyText('Local beekeepers reported a record honey harvest after a warm and dry spring.'),
        ),
      ),
    );
    const alert = await chat.waitForNew(isAlert, 15_000, 'the alert for the uploaded article');
    expect(textOf(alert)).toMatch(/Beekeepers report record honey harvest \(2024-07-11\)/);
  });

  it('writes the alert in the language the chat chose with /language', async () => {
    const chat = h.privateChat(312, 'Ирина', 'ru');
    await chat.send('/language ru');
    await chat.waitForReplies(1);
    await chat.send('/follow lighthouse restoration');
    expect(textOf((await chat.waitForReplies(1))[0]!)).toBe(
      'Слежу за темой «lighthouse restoration». Когда выйдет новая статья на эту тему, я пришлю её заголовок, дату, ссылку и цитату. Отписаться — /unfollow.',
    );
    await app.library.addFile(
      'lighthouse.md',
      new TextEncoder().encode(
        mdArticle(
          'Lighthouse restoration finished',
          '2024-07-12',
          storyText('The restoration of the old lighthouse on the cape was finished this week.'),
        ),
      ),
    );
    const alert = await chat.waitForNew(isAlert, 15_000, 'the alert in Russian');
    expect(textOf(alert)).toContain('Вы следите за темой «lighthouse restoration» · /unfollow');
    expect(alert.reply_markup?.inline_keyboard.flat().map((b) => b.text)).toEqual(['Спросить об этом']);
  });

  it('paces alerts to one chat at one a second', async () => {
    const chat = h.privateChat(601);
    await chat.send('/follow harbour seals');
    await chat.send('/follow lighthouse restoration');
    await chat.waitForReplies(2);
    publish({
      guid: 'seals',
      title: 'Harbour seals return to the estuary',
      path: '/seals',
      content: storyText('Harbour seals have returned to the estuary for the first time in twenty years, wardens said.'),
    });
    publish({
      guid: 'lighthouse',
      title: 'Lighthouse restoration completed',
      path: '/lighthouse',
      content: storyText('The restoration of the old lighthouse on the headland was completed after two years of work.'),
    });
    await h.waitUntil(() => alertsIn(601).length === 2, 15_000, 'two alerts');
    const sends = h.calls.filter(
      (c) => c.method === 'sendMessage' && Number(c.payload.chat_id) === 601 && String(c.payload.text).startsWith('🔔'),
    );
    expect(sends[1]!.at - sends[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('stops for a user who blocked the bot (403): no further alerts are even attempted', async () => {
    const blocked = h.privateChat(501);
    await blocked.send('/follow glacier lake');
    await blocked.waitForReplies(1);
    h.faults.push((method, payload) =>
      method === 'sendMessage' && Number(payload.chat_id) === 501
        ? { status: 403, body: { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' } }
        : undefined,
    );
    const attempts = () => h.calls.filter((c) => c.method === 'sendMessage' && Number(c.payload.chat_id) === 501).length;
    const before = attempts();
    publish({
      guid: 'glacier-1',
      title: 'Glacier lake flood warning lifted',
      path: '/glacier-1',
      content: storyText(
        'Authorities lifted the flood warning for the valley below the glacier lake after water levels fell by two metres.',
      ),
    });
    await h.waitUntil(() => attempts() > before, 15_000, 'the alert attempt');
    await eventually(async () => (await alerts.store.following(501)).length === 0, 5000, 'the follow dropped');
    publish({
      guid: 'glacier-2',
      title: 'Glacier lake monitoring station installed',
      path: '/glacier-2',
      content: storyText('Engineers installed a monitoring station at the glacier lake to warn of sudden floods in the valley.'),
    });
    await h.waitUntil(() => app.library.listArticles(0, 100).items.some((a) => a.title.includes('monitoring station')), 15_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(attempts()).toBe(before + 1);
  });
});

describe('alert outbox', () => {
  it('never resends an alert a crashed process may have sent', async () => {
    const dir = path.join(root, 'outbox-crash');
    const store = SqliteAlertStore.open(dir);
    await store.unseen([]);
    const payload = { articleId: 'a', title: 'A', date: null, url: null, sentence: 'A sentence about it.', topic: 't' };
    await store.commit(
      ['a'],
      [
        { chatId: 1, payload },
        { chatId: 2, payload },
      ],
    );
    const claimed = await store.claimNext(Date.now(), { perChatMs: 0, globalMs: 0 });
    expect(claimed).toMatchObject({ row: { chatId: 1 } });
    // The process dies here, before Telegram answered; a new one opens the outbox.
    await store.close();
    const reopened = SqliteAlertStore.open(dir);
    expect((await reopened.due()).map((r) => r.chatId)).toEqual([2]);
    expect(await reopened.outboxCounts()).toEqual({ unknown: 1, pending: 1 });
    // The same article queued again for the same chat is ignored.
    expect(await reopened.commit([], [{ chatId: 1, payload }])).toBe(0);
    await reopened.close();
  });
});
