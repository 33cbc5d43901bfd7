/**
 * Feeds in the running bot, over the real stack (fixture model, real index, real retriever and
 * extractive answers) and the Telegram emulator: admins manage feeds from the chat, the bot polls
 * them on its own schedule, new items are answered with citations, and a broken feed is reported
 * to the admins once while the other feeds keep updating.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { FeedPoller, SqliteFeedStore } from '../../src/feeds/index.js';
import { FeedSite, type StoryItem, storyText } from '../support/feed-server.js';
import { eventually, mdArticle, tempDir, testApp, writeFiles } from '../support/stack.js';
import { TelegramHarness, textOf } from '../support/telegram.js';

const ADMIN = 7;
let root: string;
let app: App;
let site: FeedSite;
let h: TelegramHarness;
let poller: FeedPoller;
const items: StoryItem[] = [];

beforeAll(async () => {
  root = tempDir();
  writeFiles(path.join(root, 'articles'), {
    'bridge.md': mdArticle('Harbour bridge reopens after repairs', '2024-06-01', storyText('The harbour bridge reopened on Monday.')),
  });
  app = await testApp(root, { ALLOW_PRIVATE_URLS: 'true' });
  await app.library.ensure();
  site = await FeedSite.start();
  items.push({
    guid: 'a-1',
    title: 'Volunteers plant 5,000 oak trees along the river',
    date: '2024-07-01T08:00:00Z',
    path: '/a-1',
    content: storyText('Volunteers planted 5,000 oak trees along the Marrow river on Saturday to reduce flooding.'),
  });
  site.rss('/news.xml', 'River Times', items);
  site.route('/broken.xml', (_req, res) =>
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html><body>Moved</body></html>'),
  );
  const stateDir = path.join(root, 'state');
  // Polled often (every 300 ms, looked at every 100 ms) so the schedule shows within the test.
  poller = new FeedPoller({
    store: SqliteFeedStore.open(stateDir, []),
    library: app.library,
    fetch: { timeoutMs: 3000, allowPrivate: true },
    intervalMs: 300,
    tickMs: 100,
  });
  h = await TelegramHarness.start({
    answerer: app.answerer,
    library: app.library,
    config: { adminUserIds: [ADMIN] },
    feeds: poller,
    stateDir,
  });
});

afterAll(async () => {
  await h?.stop();
  await poller?.store.close();
  await site?.stop();
  app?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('feeds in the bot', () => {
  it('refuses /feeds and /feed to non-admins', async () => {
    const chat = h.privateChat(500);
    await chat.send(`/feed add ${site.url('/news.xml')}`);
    const [reply] = await chat.waitForReplies(1);
    expect(textOf(reply!)).toMatch(/only the bot’s admins/);
    expect(await poller.store.list()).toHaveLength(0);
  });

  it('lets an admin add a feed: its items are indexed at once and answered with a citation', async () => {
    const admin = h.privateChat(ADMIN);
    await admin.send(`/feed add ${site.url('/news.xml')}`);
    const added = await admin.waitForNew((m) => /Added the feed/.test(textOf(m)), 20_000);
    expect(textOf(added)).toContain('1 new article indexed');
    const reader = h.privateChat(501);
    await reader.send('How many oak trees did the volunteers plant along the Marrow river?');
    const answer = await reader.waitForNew((m) => /Sources/.test(textOf(m)), 15_000);
    expect(textOf(answer)).toMatch(/5,000 oak trees/);
    expect(answer.text).toContain(`href="${site.url('/a-1')}"`);
  });

  it('polls on its own: an item published later is answered without any command', async () => {
    items.unshift({
      guid: 'a-2',
      title: 'Night trains return to the northern line',
      date: '2024-07-02T08:00:00Z',
      path: '/a-2',
      content: storyText('The rail operator restored night trains on the northern line, with departures every hour after midnight.'),
    });
    const reader = h.privateChat(502);
    await h.waitUntil(
      () => app.library.listArticles(0, 100).items.some((a) => a.title.startsWith('Night trains')),
      15_000,
      'the new item indexed',
    );
    await reader.send('When do the night trains on the northern line depart?');
    const answer = await reader.waitForNew((m) => /Sources/.test(textOf(m)), 15_000);
    expect(textOf(answer)).toMatch(/Night trains return to the northern line/);
  });

  it('says at once when an added feed is broken, and shows its error in /feeds', async () => {
    const admin = h.privateChat(ADMIN);
    admin.skipSeen();
    await admin.send(`/feed add ${site.url('/broken.xml')}`);
    const reply = await admin.waitForNew((m) => /Added the feed/.test(textOf(m)), 20_000);
    expect(textOf(reply)).toMatch(/does not work yet: The address returned an HTML page, not a feed/);
    await eventually(async () => ((await poller.store.get(site.url('/broken.xml')))?.failures ?? 0) >= 3, 15_000, 'three failed polls');
    // The reply was the report: the scheduled failures that followed sent nothing more.
    expect(admin.messages.filter((m) => /is failing/.test(textOf(m)))).toHaveLength(0);
    admin.skipSeen();
    await admin.send('/feeds');
    const list = await admin.waitForNew((m) => /Feeds/.test(textOf(m)));
    expect(textOf(list)).toMatch(/1\. .*news\.xml — River Times\n\s+ok, checked .* ago; 2 articles added/);
    expect(textOf(list)).toMatch(/2\. .*broken\.xml\n\s+⚠️ failing \(\d+ in a row\): The address returned an HTML page/);
  });

  it('reports a feed that starts failing to the admin once, and the other feed keeps updating', async () => {
    let healthy = true;
    const flaky: StoryItem[] = [
      {
        guid: 'f-1',
        title: 'Marathon route changes',
        date: '2024-07-01T08:00:00Z',
        path: '/f-1',
        content: storyText('The marathon will avoid the old town this year because of roadworks on the main square.'),
      },
    ];
    site.rss('/flaky-ok.xml', 'Flaky Sports', flaky);
    site.route('/flaky.xml', (req, res) => {
      if (!healthy) return void res.writeHead(200, { 'content-type': 'application/xml' }).end('<rss><channel><item>');
      req.url = '/flaky-ok.xml';
      site.serveAt('/flaky-ok.xml', req, res);
    });
    const admin = h.privateChat(ADMIN);
    admin.skipSeen();
    await admin.send(`/feed add ${site.url('/flaky.xml')}`);
    await admin.waitForNew((m) => /Added the feed .*1 new article/.test(textOf(m)), 20_000, 'the flaky feed added');
    healthy = false;
    items.unshift({
      guid: 'a-3',
      title: 'City library extends opening hours',
      date: '2024-07-03T08:00:00Z',
      path: '/a-3',
      content: storyText('The city library will open until 10 pm on weekdays from August, the council said on Wednesday.'),
    });
    await h.waitUntil(
      () => app.library.listArticles(0, 100).items.some((a) => a.title.startsWith('City library')),
      15_000,
      'the good feed updated',
    );
    await eventually(async () => ((await poller.store.get(site.url('/flaky.xml')))?.failures ?? 0) >= 3, 15_000, 'three failed polls');
    const reports = admin.messages.filter((m) => /is failing/.test(textOf(m)));
    expect(reports).toHaveLength(1);
    expect(textOf(reports[0]!)).toMatch(/The feed .*flaky\.xml is failing: The feed could not be parsed/);
  });

  it('removes a chat feed by its number in /feeds, and the removal is stored', async () => {
    const admin = h.privateChat(ADMIN);
    admin.skipSeen();
    await admin.send('/feed remove 2');
    const done = await admin.waitForNew((m) => /Removed the feed/.test(textOf(m)));
    expect(textOf(done)).toContain(site.url('/broken.xml'));
    const reopened = SqliteFeedStore.open(path.join(root, 'state'), []);
    expect((await reopened.list()).map((f) => f.url)).toEqual([site.url('/news.xml'), site.url('/flaky.xml')]);
    await reopened.close();
  });
});
