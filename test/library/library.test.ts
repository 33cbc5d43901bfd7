import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { UserError } from '../../src/util/errors.js';
import { CORPUS } from '../support/corpus.js';
import { tempDir, testApp, writeFiles } from '../support/stack.js';

const roots: string[] = [];
const apps: App[] = [];
let server: http.Server;
let base: string;

const PAGE = `<!doctype html><html><head><title>Site | Otters return</title>
<meta property="og:title" content="Otters return to the Elm river">
<meta property="article:published_time" content="2024-07-03T09:00:00Z"></head>
<body><nav>Home | World | Sport</nav><article><h1>Otters return to the Elm river</h1>
<p>Otters have returned to the Elm river for the first time in forty years, wildlife officers said on Wednesday.</p>
<p>Volunteers counted six animals near the old mill, and the council plans a viewing platform.</p></article>
<footer>Copyright 2024 Example News. All rights reserved.</footer></body></html>`;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/otters') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(PAGE);
    }
    if (req.url === '/image') {
      res.writeHead(200, { 'content-type': 'image/png' });
      return res.end(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
afterEach(() => {
  for (const a of apps.splice(0)) a.close();
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

async function setup(env: Record<string, string> = {}) {
  const root = tempDir();
  roots.push(root);
  writeFiles(path.join(root, 'articles'), CORPUS);
  const app = await testApp(root, { ALLOW_PRIVATE_URLS: 'true', ...env });
  apps.push(app);
  await app.library.reindex({});
  return { app, articles: path.join(root, 'articles') };
}

describe('library', () => {
  it('adds an uploaded file, indexes it, and answers from it', async () => {
    const { app, articles } = await setup();
    const body =
      'date 2024-07-10\nA new lighthouse opened on Cape Morrow on Wednesday, guiding ships past the reef.\n\nThe keeper said the lamp is visible for thirty kilometres.';
    const { article, summary } = await app.library.addFile('lighthouse.txt', new TextEncoder().encode(body));
    expect(article).toMatchObject({ id: 'lighthouse', date: '2024-07-10' });
    expect(article.title).toMatch(/lighthouse/i);
    expect(summary.added).toBe(1);
    // Kept as a chat source, outside the folder a sync mirrors.
    expect(fs.existsSync(path.join(articles, 'lighthouse.txt'))).toBe(false);
    expect(fs.readFileSync(app.library.articleLocation('lighthouse')!, 'utf8')).toBe(body);
    expect((await app.state.sources.list()).map((s) => [s.path, s.origin])).toEqual([['lighthouse.txt', 'chat']]);
    const answer = await app.answerer.ask('How far is the Cape Morrow lighthouse lamp visible?', []);
    expect(answer.citations[0]?.articleId).toBe('lighthouse');
  });

  it('never writes outside the articles folder, whatever the file name', async () => {
    const { app, articles } = await setup();
    const bytes = new TextEncoder().encode(
      'date 2024-07-11\nHarbour pilots held a two-day strike over night-shift pay in the northern port.',
    );
    for (const name of ['../../escape.txt', '/etc/cron.d/evil.txt', '..\\..\\win.txt']) {
      const { article } = await app.library.addFile(name, bytes).catch(() => ({ article: null }));
      if (article) await app.library.remove(article.id);
    }
    const outside = fs.readdirSync(path.dirname(articles));
    expect(outside.sort()).toEqual(['articles', 'cache', 'index-data', 'state'].filter((e) => outside.includes(e)).sort());
    expect(fs.readdirSync(path.dirname(app.config.stateDir)).sort()).toEqual(outside.sort());
    const sources = path.join(app.config.stateDir, 'sources');
    for (const s of await app.state.sources.list()) expect(path.resolve(sources, s.path).startsWith(sources + path.sep)).toBe(true);
    expect(fs.existsSync('/etc/cron.d/evil.txt')).toBe(false);
  });

  it('rejects a bad upload with a clear reason and saves nothing', async () => {
    const { app, articles } = await setup();
    const before = fs.readdirSync(articles).sort();
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty.txt', new Uint8Array(), /empty/],
      ['binary.txt', Uint8Array.from({ length: 2000 }, (_, i) => (i * 7) % 256), /binary|UTF-8/],
      ['zip.txt', Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0x14, 0, 0, 0]), /binary|UTF-8/],
      ['broken.pdf', new TextEncoder().encode('%PDF-1.7\nthis is not really a pdf'), /PDF/],
      ['notes.docx', new TextEncoder().encode('hello'), /unsupported/],
      ['dup.md', new TextEncoder().encode(CORPUS['chess.md']!), /duplicate/],
    ];
    for (const [name, bytes, re] of cases) {
      const err = await app.library.addFile(name, bytes).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(UserError);
      expect((err as Error).message, name).toMatch(re);
    }
    expect(fs.readdirSync(articles).sort()).toEqual(before);
    expect(await app.state.sources.list()).toEqual([]);
    expect(app.library.stats().articles).toBe(5);
  });

  it('adds a web page by URL with title, date and main text (boilerplate dropped)', async () => {
    const { app, articles } = await setup();
    const { article } = await app.library.addUrl(`${base}/otters`);
    expect(article.title).toBe('Otters return to the Elm river');
    expect(article.date).toBe('2024-07-03');
    expect(article.url).toBe(`${base}/otters`);
    expect(fs.existsSync(path.join(articles, `${article.id}.md`))).toBe(false);
    const saved = fs.readFileSync(app.library.articleLocation(article.id)!, 'utf8');
    expect(saved).toContain('six animals');
    expect(saved).not.toContain('All rights reserved');
    const answer = await app.answerer.ask('How many otters were counted near the old mill?', []);
    expect(answer.citations.map((c) => c.articleId)).toContain(article.id);
  });

  it('refuses URLs that are not articles, and loopback when private URLs are not allowed', async () => {
    const { app } = await setup();
    await expect(app.library.addUrl(`${base}/image`)).rejects.toThrow(/not an article/);
    await expect(app.library.addUrl(`${base}/nothing`)).rejects.toThrow(/404/);
    const strict = await setup({ ALLOW_PRIVATE_URLS: 'false' });
    await expect(strict.app.library.addUrl(`${base}/otters`)).rejects.toThrow(/private or local/);
  });

  it('gives an upload a fresh id instead of taking an existing article’s (budget.md beside budget.txt)', async () => {
    const { app, articles } = await setup();
    const enc = (t: string) => new TextEncoder().encode(t);
    await app.library.addFile(
      'budget.txt',
      enc('date 2024-07-01\nThe city budget for next year grows by four percent, mostly for schools.'),
    );
    const { article, summary } = await app.library.addFile(
      'budget.md',
      enc('---\ntitle: Port budget\ndate: 2024-07-02\n---\n\nThe port authority cut its budget for dredging by a third.'),
    );
    expect(article.id).not.toBe('budget');
    expect(summary).toMatchObject({ added: 1, changed: 0 });
    expect(app.library.reader()!.article('budget')!.path).toBe('budget.txt');
    expect((await app.state.sources.list()).map((s) => s.path).sort()).toEqual(['budget-2.md', 'budget.txt']);
    expect(fs.readdirSync(articles)).not.toContain('budget.txt');
  });

  it('takes an uploaded file back out when its reindex fails', async () => {
    const { app, articles } = await setup();
    const before = fs.readdirSync(articles).sort();
    // Another process holds the index lock: the reindex behind the add cannot run.
    const lock = path.join(app.config.indexDir, 'index.lock');
    fs.writeFileSync(lock, String(process.ppid));
    try {
      const err = await app.library
        .addFile('late.txt', new TextEncoder().encode('date 2024-07-03\nA late train delayed commuters for an hour on Monday morning.'))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(/already in progress/);
    } finally {
      fs.rmSync(lock, { force: true });
    }
    expect(fs.readdirSync(articles).sort()).toEqual(before);
    expect(await app.state.sources.list()).toEqual([]);
  });

  it('refuses to reindex (or add, or remove) while the configured model is unavailable, instead of dropping every vector', async () => {
    const { app } = await setup();
    const root = path.dirname(app.config.articlesDir);
    const offline = await testApp(root, { LOCAL_MODEL_DIR: path.join(root, 'nowhere'), ALLOW_PRIVATE_URLS: 'true' });
    apps.push(offline);
    expect(offline.embedder).toBeNull();
    await offline.library.ensure();
    await expect(offline.library.reindex({})).rejects.toThrow(/embedding model is not loaded/);
    await expect(
      offline.library.addFile('x.txt', new TextEncoder().encode('date 2024-07-04\nA new bakery opened on the corner of Elm Street.')),
    ).rejects.toThrow(/not loaded/);
    await expect(offline.library.remove('chess')).rejects.toThrow(/not loaded/);
    expect(fs.existsSync(path.join(app.config.articlesDir, 'chess.md'))).toBe(true);
    expect(fs.existsSync(path.join(app.config.articlesDir, 'x.txt'))).toBe(false);
    expect(await offline.state.sources.list()).toEqual([]);
    expect(offline.library.reader()!.dense).toBe(true);
    const lexicalOnPurpose = await testApp(root, { EMBEDDING_PROVIDER: 'none' });
    apps.push(lexicalOnPurpose);
    await expect(lexicalOnPurpose.library.reindex({})).resolves.toMatchObject({ dense: false });
  });

  it('removes an article by id from the folder and both halves of the index', async () => {
    const { app, articles } = await setup();
    await app.library.remove('volcano');
    expect(fs.existsSync(path.join(articles, 'volcano.md'))).toBe(false);
    expect(app.library.stats().articles).toBe(4);
    expect(app.library.reader()!.lexical('"volcano"', 5)).toEqual([]);
    await expect(app.library.remove('no-such-article')).rejects.toThrow(/No article with id/);
  });

  it('keeps chat additions through a folder sync, which adds, changes and removes only the folder’s articles', async () => {
    const { app, articles } = await setup();
    const enc = (t: string) => new TextEncoder().encode(t);
    await app.library.addFile(
      'ferry.txt',
      enc('date 2024-07-05\nThe island ferry added a late sailing on Fridays for the summer.'),
      '@ed (7)',
    );
    // The folder is replaced by a copy that never had the upload (another machine's, a fresh export)
    // and lacks one of its own articles.
    fs.rmSync(articles, { recursive: true });
    writeFiles(articles, Object.fromEntries(Object.entries(CORPUS).filter(([name]) => name !== 'volcano.md')));
    const sync = await app.library.sync();
    expect(sync.summary).toMatchObject({ added: 0, removed: 1 });
    expect(app.library.reader()!.article('ferry')).toBeDefined();
    expect(app.library.reader()!.article('volcano')).toBeUndefined();
    expect((await app.state.sources.list())[0]).toMatchObject({ path: 'ferry.txt', origin: 'chat', addedBy: '@ed (7)' });
    // A fresh process (npm run index) sees the same.
    const again = await testApp(path.dirname(articles), { ALLOW_PRIVATE_URLS: 'true' });
    apps.push(again);
    expect((await again.library.sync()).summary).toMatchObject({ added: 0, changed: 0, removed: 0 });
    expect(again.library.reader()!.article('ferry')).toBeDefined();
  });

  it('removes a chat addition from the store together with its reindex; a failed run leaves both', async () => {
    const { app } = await setup();
    const enc = (t: string) => new TextEncoder().encode(t);
    await app.library.addFile('kiosk.txt', enc('date 2024-07-06\nA new newspaper kiosk opened at the central station on Monday.'));
    const lock = path.join(app.config.indexDir, 'index.lock');
    fs.writeFileSync(lock, String(process.ppid));
    try {
      await expect(app.library.remove('kiosk')).rejects.toThrow(/already in progress/);
    } finally {
      fs.rmSync(lock, { force: true });
    }
    expect(app.library.reader()!.article('kiosk')).toBeDefined();
    expect((await app.state.sources.list()).map((s) => s.path)).toEqual(['kiosk.txt']);
    await app.library.remove('kiosk');
    expect(app.library.reader()!.article('kiosk')).toBeUndefined();
    expect(await app.state.sources.list()).toEqual([]);
    expect((await app.library.sync()).summary).toMatchObject({ added: 0, removed: 0 });
  });
});
