/**
 * Admin commands end to end: refusals for everyone else, background reindex
 * with an edited progress message, adding articles by URL and by upload.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TelegramHarness, textOf } from '../support/telegram.js';
import { FakeAnswerer, FakeLibrary, summary } from '../support/telegram-fakes.js';

const ADMIN = 42;
let h: TelegramHarness;
let library: FakeLibrary;
let nextUser = 5000;

beforeAll(async () => {
  library = new FakeLibrary();
  h = await TelegramHarness.start({
    answerer: new FakeAnswerer(),
    library,
    config: { adminUserIds: [ADMIN] },
    intake: { maxUploadBytes: 1000 },
  });
});
afterAll(async () => h?.stop());
beforeEach(() => {
  library.progressDelayMs = 0;
  library.nextSummary = summary({ unchanged: 3, articles: 3, chunks: 9 });
});

/** A fresh private chat with the admin (the same user id, but new message cursor). */
const adminChat = () => {
  const chat = h.privateChat(ADMIN);
  chat.skipSeen();
  return chat;
};

describe('non-admins', () => {
  it('are refused every admin command, and nothing happens', async () => {
    const chat = h.privateChat(++nextUser);
    const before = library.calls.length;
    for (const cmd of ['/reindex', '/reindex full', '/add https://news.example/x', '/remove city/flood-barriers.md', '/stats']) {
      await chat.send(cmd);
      const [reply] = await chat.waitForReplies(1);
      expect(reply!.text).toBe('Sorry, only the bot’s admins can use that command.');
    }
    await chat.sendDocument({ fileName: 'notes.txt', bytes: new TextEncoder().encode('hello') });
    const [refusal] = await chat.waitForReplies(1);
    expect(refusal!.text).toMatch(/^Only the bot’s admins can add articles/);
    expect(library.calls.slice(before).filter((c) => c.method !== 'stats' && c.method !== 'listArticles')).toEqual([]);
    expect(h.callsOf('getFile')).toHaveLength(0);
  });

  it('are refused in groups too', async () => {
    const group = h.groupChat(-100_500, ++nextUser);
    const before = library.callsOf('reindex').length;
    await group.send('/reindex');
    const [reply] = await group.waitForReplies(1);
    expect(reply!.text).toMatch(/only the bot’s admins/);
    expect(library.callsOf('reindex')).toHaveLength(before);
  });
});

describe('reindexing', () => {
  it('shows a progress message edited while it runs, then the summary with skipped files and reasons', async () => {
    const chat = adminChat();
    library.progressDelayMs = 400;
    library.nextSummary = summary({
      added: 1,
      changed: 2,
      removed: 1,
      unchanged: 5,
      articles: 8,
      chunks: 30,
      skipped: [{ file: 'scan<1>.pdf', reason: 'encrypted & cannot be read' }],
    });
    await chat.send('/reindex');
    const [progress, done] = await chat.waitForReplies(2, 15_000);
    expect(library.callsOf('reindex').at(-1)!.args).toEqual([{ full: false }]);
    expect(progress!.versions[0]).toBe('Reindex started…');
    expect(progress!.versions.some((v) => /^Reindex: embedding \d+\/9…$/.test(v))).toBe(true);
    expect(progress!.text).toBe('Reindex finished.');
    expect(textOf(done!)).toMatch(
      /^Reindex done in (\d+ ms|\d+\.\d s)\nadded 1 · changed 2 · removed 1 · unchanged 5 · skipped 1\nIndex: 8 articles, 30 chunks/,
    );
    expect(textOf(done!)).toContain('Skipped\n• scan<1>.pdf: encrypted & cannot be read');
  });

  it('refuses a second /reindex while one runs with "already running"', async () => {
    const chat = adminChat();
    const release = library.holdReindex();
    const before = library.callsOf('reindex').length;
    await chat.send('/reindex full');
    const [progress] = await chat.waitForReplies(1);
    await chat.send('/reindex');
    const [busy] = await chat.waitForReplies(1);
    expect(busy!.text).toMatch(/^A reindex is already running \(started \d+s ago\)/);
    // Questions are still answered meanwhile.
    await chat.send('What did the mayor ask the council for?');
    const [answer] = await chat.waitForReplies(1);
    expect(textOf(answer!)).toContain('Mayor Alice Park');
    release();
    await chat.waitForReplies(1);
    expect(
      library
        .callsOf('reindex')
        .slice(before)
        .map((c) => c.args),
    ).toEqual([[{ full: true }]]);
    expect(progress!.text).toBe('Full reindex finished.');
  });

  it('shows the library’s BusyError as is when another process is reindexing', async () => {
    const chat = adminChat();
    library.lockedElsewhere = true;
    try {
      await chat.send('/reindex');
      const [progress] = await chat.waitForReplies(1);
      await chat.waitFor((m) => m.message_id === progress!.message_id && m.text === 'A reindex is already running.');
    } finally {
      library.lockedElsewhere = false;
    }
  });

  it('knows about a reindex the library started for something else (an upload, a removal)', async () => {
    const chat = adminChat();
    const release = library.holdReindex();
    const outside = library.reindex({});
    try {
      await chat.send('/reindex');
      const [busy] = await chat.waitForReplies(1);
      expect(busy!.text).toMatch(/^A reindex is already running \(started \d+s ago\)/);
    } finally {
      release();
      await outside;
    }
  });
});

describe('adding and removing articles', () => {
  it('/add <url> calls library.addUrl and confirms with the title', async () => {
    const chat = adminChat();
    library.pages.set('http://127.0.0.1:9/harbour', { title: 'Harbour <reopens> & expands', date: '2024-06-01' });
    await chat.send('/add http://127.0.0.1:9/harbour');
    const [reply] = await chat.waitForReplies(1);
    expect(library.callsOf('addUrl').at(-1)!.args).toEqual(['http://127.0.0.1:9/harbour']);
    expect(textOf(reply!)).toMatch(/^Added Harbour <reopens> & expands \(2024-06-01\) as web\/-harbour, 2 chunks\.\nIndex: 4 articles/);
  });

  it('/add shows usage without a URL and the library’s UserError as is', async () => {
    const chat = adminChat();
    await chat.send('/add');
    const [usage] = await chat.waitForReplies(1);
    expect(usage!.text).toBe('Usage: /add https://example.com/some-article');
    await chat.send('/add https://news.example/missing');
    const [error] = await chat.waitForReplies(1);
    expect(error!.text).toBe('Could not fetch https://news.example/missing: HTTP 404.');
  });

  it('an uploaded document is downloaded and handed to library.addFile', async () => {
    const chat = adminChat();
    const bytes = new TextEncoder().encode('# Port authority budget\n\nThe port authority approved a budget of 3 million.');
    await chat.sendDocument({ fileName: 'port-budget.md', bytes });
    const [reply] = await chat.waitForReplies(1);
    const call = library.callsOf('addFile').at(-1)!;
    expect(call.args[0]).toBe('port-budget.md');
    expect(Buffer.from(call.args[1] as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
    expect(textOf(reply!)).toMatch(/^Added Port authority budget as uploads\/port-budget\.md, 1 chunk\./);
    expect(h.downloads).toHaveLength(1);
  });

  it('refuses an oversized document from its reported size, before downloading anything', async () => {
    const chat = adminChat();
    const getFiles = h.callsOf('getFile').length;
    const downloads = h.downloads.length;
    const addFiles = library.callsOf('addFile').length;
    await chat.sendDocument({ fileName: 'big.pdf', bytes: new Uint8Array(5000), fileSize: 5000 });
    const [reply] = await chat.waitForReplies(1);
    expect(reply!.text).toBe('That file is 5 KB, over the upload limit of 1 KB. Please send a smaller file.');
    expect(h.callsOf('getFile')).toHaveLength(getFiles);
    expect(h.downloads).toHaveLength(downloads);
    expect(library.callsOf('addFile')).toHaveLength(addFiles);
  });

  it('stops a download that turns out larger than the limit (size unknown up front)', async () => {
    const chat = adminChat();
    const addFiles = library.callsOf('addFile').length;
    const downloads = h.downloads.length;
    await chat.sendDocument({ fileName: 'sneaky.txt', bytes: new Uint8Array(5000).fill(65), fileSize: 10 });
    const [reply] = await chat.waitForReplies(1);
    expect(reply!.text).toBe('That file is over the upload limit of 1 KB. Please send a smaller file.');
    expect(h.downloads).toHaveLength(downloads + 1);
    expect(library.callsOf('addFile')).toHaveLength(addFiles);
  });

  it('refuses file types it cannot index', async () => {
    const chat = adminChat();
    await chat.sendDocument({ fileName: 'archive.zip', bytes: new Uint8Array(10) });
    const [reply] = await chat.waitForReplies(1);
    expect(reply!.text).toBe('I can add .txt, .md, .html or .pdf files; “archive.zip” is none of those.');
  });

  it('/remove deletes by id, and shows an unknown id’s error as is', async () => {
    const chat = adminChat();
    await chat.send('/remove sport/stadium-lights.md');
    const [removed] = await chat.waitForReplies(1);
    expect(textOf(removed!)).toMatch(/^Removed sport\/stadium-lights\.md\. Index: \d+ articles/);
    await chat.send('/remove nope');
    const [error] = await chat.waitForReplies(1);
    expect(error!.text).toBe('No article with id "nope". /sources lists the ids.');
  });

  it('/stats shows articles, chunks, index size, model, uptime and questions answered', async () => {
    const chat = adminChat();
    await chat.send('/stats');
    const [reply] = await chat.waitForReplies(1);
    const text = textOf(reply!);
    expect(text).toMatch(/Articles: \d+ \(2024-03-02 to 2024-06-01\)/);
    expect(text).toMatch(/Chunks: \d+/);
    expect(text).toContain('Index size: 123.5 KB');
    expect(text).toContain('Embedding model: fixture:tiny-model');
    expect(text).toMatch(/Uptime: \d+s/);
    expect(text).toMatch(/Questions answered: [1-9]\d* \([1-9]\d* since start\)/);
  });

  it('/help lists the admin commands for admins', async () => {
    const chat = adminChat();
    await chat.send('/help');
    const [reply] = await chat.waitForReplies(1);
    expect(textOf(reply!)).toContain('/reindex — pick up changed articles');
  });
});
