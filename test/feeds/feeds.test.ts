/**
 * Feeds over the real library (fixture model, real index) and a news site on 127.0.0.1:
 * RSS, Atom and JSON Feed items become articles, conditional requests, dedupe across restarts
 * and against the folder, and broken feeds that are recorded, reported once and stop nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { FeedPoller, type FeedRecord, parseFeedDocument, SqliteFeedStore } from '../../src/feeds/index.js';
import { FeedSite, type StoryItem, storyText } from '../support/feed-server.js';
import { mdArticle, tempDir, testApp, writeFiles } from '../support/stack.js';

let root: string;
let app: App;
let site: FeedSite;
const rssItems: StoryItem[] = [];
const atomItems: StoryItem[] = [];
const jsonItems: StoryItem[] = [];

function poller(stateDir: string, urls: string[], problems: FeedRecord[] = []): FeedPoller {
  return new FeedPoller({
    store: SqliteFeedStore.open(stateDir, urls),
    library: app.library,
    fetch: { timeoutMs: 3000, allowPrivate: true },
    intervalMs: 15 * 60_000,
    onProblem: (f) => problems.push(f),
  });
}

const indexedTitles = () => app.library.listArticles(0, 1000).items.map((a) => a.title);

beforeAll(async () => {
  root = tempDir();
  writeFiles(path.join(root, 'articles'), {
    'seed.md': mdArticle('Harbour bridge reopens after repairs', '2024-06-01', storyText('The harbour bridge reopened on Monday.')),
  });
  app = await testApp(root, { ALLOW_PRIVATE_URLS: 'true' });
  await app.library.ensure();
  site = await FeedSite.start();
  rssItems.push({
    guid: 'rss-1',
    title: 'Council approves new tram line to the airport',
    date: '2024-07-01T09:00:00Z',
    path: '/news/tram',
    content: storyText('The city council approved a new tram line linking the centre with the airport, costing 400 million euros.'),
  });
  atomItems.push({
    guid: 'urn:atom:1',
    title: 'Orchestra names Lena Varga as chief conductor',
    date: '2024-07-02T10:00:00Z',
    path: '/culture/varga',
    content: storyText('The national orchestra named the Hungarian conductor Lena Varga as its new chief conductor from 2025.'),
  });
  // A teaser-only JSON Feed item: its page must be fetched.
  jsonItems.push({ guid: 'json-1', title: 'Glacier lake flood warning lifted', date: '2024-07-03T08:00:00Z', path: '/env/glacier' });
  site.page(
    '/env/glacier',
    'Glacier lake flood warning lifted',
    '2024-07-03',
    storyText('Authorities lifted the flood warning for the valley below the Rhône glacier lake after water levels fell by two metres.'),
  );
  site.rss('/rss.xml', 'City News', rssItems);
  site.atom('/atom.xml', 'Culture Desk', atomItems);
  site.json('/feed.json', 'Environment Desk', jsonItems);
});

afterAll(async () => {
  await site?.stop();
  app?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('feed parsing', () => {
  it('refuses HTML, garbage and broken JSON with one line each', () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    expect(() => parseFeedDocument(bytes('<!doctype html><html><body>Hi</body></html>'), 'http://x/')).toThrow(/HTML page, not a feed/);
    expect(() => parseFeedDocument(bytes('%PDF-1.4 garbage'), 'http://x/')).toThrow(/not an RSS, Atom or JSON feed/);
    expect(() => parseFeedDocument(bytes('{"version": '), 'http://x/')).toThrow(/broken JSON/);
    expect(() => parseFeedDocument(bytes(''), 'http://x/')).toThrow(/empty/);
  });
});

describe('feed polling', () => {
  const stateDir = () => path.join(root, 'state');
  const urls = () => [site.url('/rss.xml'), site.url('/atom.xml'), site.url('/feed.json')];

  it('turns RSS, Atom and JSON Feed items into indexed articles with their title, date and link', async () => {
    const p = poller(stateDir(), urls());
    try {
      const report = await p.pollAll();
      expect(report.feeds.map((f) => [f.ok, f.added])).toEqual([
        [true, 1],
        [true, 1],
        [true, 1],
      ]);
      expect(report.added).toHaveLength(3);
      const byTitle = new Map(app.library.listArticles(0, 100).items.map((a) => [a.title, a]));
      expect(byTitle.get('Council approves new tram line to the airport')).toMatchObject({
        date: '2024-07-01',
        url: site.url('/news/tram'),
      });
      expect(byTitle.get('Orchestra names Lena Varga as chief conductor')).toMatchObject({
        date: '2024-07-02',
        url: site.url('/culture/varga'),
      });
      expect(byTitle.get('Glacier lake flood warning lifted')).toMatchObject({ date: '2024-07-03', url: site.url('/env/glacier') });
      // The teaser-only item's text came from its page; the full-content items' pages were never fetched.
      expect(site.requestsTo('/env/glacier')).toHaveLength(1);
      expect(site.requestsTo('/news/tram')).toHaveLength(0);
      const glacier = report.added.find((a) => a.article?.title === 'Glacier lake flood warning lifted')!;
      // Stored as a feed source, not in the articles folder a sync mirrors.
      expect(fs.readFileSync(app.library.articleLocation(glacier.article!.id)!, 'utf8')).toMatch(/Rhône glacier lake/);
      expect(glacier.path.startsWith('feeds/')).toBe(true);
      expect(fs.existsSync(path.join(root, 'articles', glacier.path))).toBe(false);
      expect((await app.state.sources.list()).find((s) => s.path === glacier.path)).toMatchObject({ origin: 'feed' });
    } finally {
      await p.store.close();
    }
  });

  it('asks again with ETag / If-Modified-Since, and a 304 adds nothing', async () => {
    const p = poller(stateDir(), urls());
    try {
      const before = site.requestsTo('/rss.xml').length;
      const report = await p.pollAll();
      const req = site.requestsTo('/rss.xml')[before]!;
      expect(req.headers['if-none-match']).toMatch(/^"[0-9a-f]+"$/);
      expect(req.headers['if-modified-since']).toBe('Mon, 01 Jul 2024 10:00:00 GMT');
      expect(req.status).toBe(304);
      expect(report.feeds.every((f) => f.ok && f.notModified && f.added === 0)).toBe(true);
      expect(report.summary).toBeNull();
    } finally {
      await p.store.close();
    }
  });

  it('adds only the new item when a feed grows, after a restart (guids remembered in the state folder)', async () => {
    const count = app.library.stats().articles;
    rssItems.unshift({
      guid: 'rss-2',
      title: 'Ferry strike called off after pay deal',
      date: '2024-07-04T07:00:00Z',
      path: '/news/ferry',
      content: storyText('Ferry workers called off a planned strike after unions accepted a pay rise of six percent.'),
    });
    const p = poller(stateDir(), urls());
    try {
      const report = await p.pollAll();
      expect(report.feeds.find((f) => f.url === site.url('/rss.xml'))).toMatchObject({ ok: true, notModified: false, added: 1 });
      expect(app.library.stats().articles).toBe(count + 1);
      expect(indexedTitles().filter((t) => t === 'Council approves new tram line to the airport')).toHaveLength(1);
    } finally {
      await p.store.close();
    }
  });

  it('skips an item whose link is already an article in the folder, even with a fresh state folder', async () => {
    const tram = app.library.listArticles(0, 100).items.find((a) => a.title.startsWith('Council approves'))!;
    const count = app.library.stats().articles;
    const p = poller(path.join(root, 'state-fresh'), [site.url('/rss.xml')]);
    try {
      const report = await p.pollAll();
      expect(report.feeds[0]).toMatchObject({ ok: true, added: 0 });
      expect(app.library.stats().articles).toBe(count);
      expect(tram.url).toBe(site.url('/news/tram'));
    } finally {
      await p.store.close();
    }
  });

  it('records a broken feed with its error, reports it once, backs off, and still updates the good feeds', async () => {
    site.route('/garbage.xml', (_req, res) => res.writeHead(200, { 'content-type': 'application/xml' }).end('\u0000\u0001 not xml at all'));
    site.route('/html.xml', (_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html><body>Login</body></html>'),
    );
    site.route('/huge.xml', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/rss+xml' });
      const block = Buffer.alloc(1024 * 1024, 'a');
      for (let i = 0; i < 10; i++) res.write(block);
      res.end();
    });
    site.route('/loop.xml', (_req, res) => res.writeHead(302, { location: '/loop.xml' }).end());
    const broken = ['/garbage.xml', '/html.xml', '/huge.xml', '/loop.xml'].map((p) => site.url(p));
    const problems: FeedRecord[] = [];
    atomItems.unshift({
      guid: 'urn:atom:2',
      title: 'Museum returns bronze statues to Benin',
      date: '2024-07-05T12:00:00Z',
      path: '/culture/bronzes',
      content: storyText('The city museum returned twelve bronze statues to Nigeria in a ceremony attended by the Oba of Benin.'),
    });
    const p = poller(path.join(root, 'state-broken'), [...broken, site.url('/atom.xml')], problems);
    try {
      const started = Date.now();
      const first = await p.pollAll();
      const errors = Object.fromEntries(first.feeds.map((f) => [new URL(f.url).pathname, f.error ?? 'ok']));
      expect(errors['/garbage.xml']).toMatch(/not an RSS, Atom or JSON feed/);
      expect(errors['/html.xml']).toMatch(/HTML page, not a feed/);
      expect(errors['/huge.xml']).toMatch(/too large/);
      expect(errors['/loop.xml']).toMatch(/Too many redirects/);
      expect(errors['/atom.xml']).toBe('ok');
      expect(indexedTitles()).toContain('Museum returns bronze statues to Benin');
      expect(problems.map((f) => new URL(f.url).pathname).sort()).toEqual(['/garbage.xml', '/html.xml', '/huge.xml', '/loop.xml']);
      const stored = (await p.store.get(site.url('/html.xml')))!;
      expect(stored).toMatchObject({ failures: 1, lastError: expect.stringMatching(/HTML page/) });
      // Backed off: at least twice the interval (minus jitter) before the next try.
      expect(stored.nextPollAt - started).toBeGreaterThan(1.8 * 15 * 60_000);
      expect((await p.store.get(site.url('/atom.xml')))!.lastError).toBeNull();

      await p.pollAll();
      expect(problems).toHaveLength(4);
      expect((await p.store.get(site.url('/html.xml')))!.failures).toBe(2);
      // Polling only what is due leaves the backed-off feeds alone.
      const due = await p.pollDue();
      expect(due.feeds.map((f) => f.url)).toEqual([]);
    } finally {
      await p.store.close();
    }
  });

  it('imports an item once when two processes poll the same feed at the same time (the bot and a cron run)', async () => {
    site.json('/race.json', 'Race Desk', [
      {
        guid: 'race-1',
        title: 'Cyclists race across the salt flats',
        date: '2024-07-06T08:00:00Z',
        path: '/race/1',
        content: storyText('Two hundred cyclists raced across the salt flats in the first desert stage of the tour.'),
      },
      {
        guid: 'race-2',
        title: 'Sailors cross the bay in record time',
        date: '2024-07-06T09:00:00Z',
        path: '/race/2',
        content: storyText('A crew of four sailors crossed the bay in a record time of three hours and ten minutes.'),
      },
    ]);
    const dir = path.join(root, 'state-race');
    const a = poller(dir, [site.url('/race.json')]);
    const b = poller(dir, [site.url('/race.json')]);
    try {
      const [ra, rb] = await Promise.all([a.pollAll(), b.pollAll()]);
      expect(ra.added.length + rb.added.length).toBe(2);
      const files = (await app.state.sources.list()).map((s) => s.path).filter((f) => /cyclists|sailors/.test(f));
      expect(files.sort()).toEqual(['feeds/cyclists-race-across-the-salt-flats.md', 'feeds/sailors-cross-the-bay-in-record-time.md']);
      expect(indexedTitles().filter((t) => /Cyclists race|Sailors cross/.test(t))).toHaveLength(2);
    } finally {
      await a.store.close();
      await b.store.close();
    }
  });
});
