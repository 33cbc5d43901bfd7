import { existsSync } from 'node:fs';
import { chmod, open, symlink } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadArticles, parseArticleFile } from '../../src/articles/index.js';
import { UserError } from '../../src/util/errors.js';
import { body, makePdf, tempDir, writeFiles } from './helpers.js';

const execFileAsync = promisify(execFile);

const enc = (s: string) => new TextEncoder().encode(s);

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

describe('a folder full of bad input', () => {
  it('reports each bad file once with its reason and still loads every good article', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 1, 0]);
    await writeFiles(dir, {
      'good/one.txt': `One\n\n${body('one')}`,
      'good/two.md': `---\ntitle: "Two"\ndate: 2024-02-02\n---\n\n${body('two')}`,
      'good/three.html': `<html><body><article><p>${body('three')}</p></article></body></html>`,
      'good/four.pdf': makePdf(['Four', '', body('four')]),
      'good/five.jsonl': JSON.stringify({ title: 'Five', text: body('five') }),
      'empty.txt': '',
      'blank.md': '  \n\t\n\r\n',
      'binary.txt': png,
      'latin1.txt': new Uint8Array([...enc('Caf'), 0xe9, ...enc(' au lait, served every morning at the corner.')]),
      'control.txt': new Uint8Array(Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? 0x01 : 0x41))),
      'odd-date.md': `---\ntitle: "Odd date"\ndate: "sometime soon"\n---\n${body('odd date')}`,
      'corrupt.pdf': enc('%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage\n%%EOF'),
      'locked.pdf': makePdf([body('locked')], { encrypt: true }),
      'scanned.pdf': makePdf([]),
      'big.txt': 'word '.repeat(1240),
      'short.txt': 'Too short.',
      'broken.json': '{"title": "x", ',
      'z-copy.txt': `Another headline\n\n${body('one')}`,
      'notes.docx': 'PK not really a docx',
    });
    await symlink(join(dir, 'does-not-exist.txt'), join(dir, 'gone.txt'));

    const result = await loadArticles(dir, { maxFileBytes: 4000 });

    expect(result.articles.map((a) => a.id)).toEqual(['good/five/five', 'good/four', 'good/one', 'good/three', 'good/two', 'odd-date']);
    expect(result.articles.find((a) => a.id === 'odd-date')!.date).toBeNull();
    expect(result.warnings).toEqual([{ file: 'odd-date.md', reason: 'unparseable date "sometime soon"' }]);
    const reasons = Object.fromEntries(result.skipped.map((s) => [s.file, s.reason]));
    expect(reasons).toEqual({
      'big.txt': 'file too large (6.2 KB > 4 KB limit)',
      'binary.txt': 'binary content, not text',
      'blank.md': 'empty file',
      'broken.json': expect.stringMatching(/^invalid JSON: /),
      'control.txt': 'binary content, not text',
      'corrupt.pdf': 'could not read PDF: Invalid PDF structure',
      'empty.txt': 'empty file',
      'gone.txt': expect.stringMatching(/^could not read file: /),
      'latin1.txt': 'not valid UTF-8 text',
      'locked.pdf': 'could not read PDF: password-protected',
      'notes.docx': 'unsupported file type',
      'scanned.pdf': 'no text in PDF (scanned image?)',
      'short.txt': 'no article text',
      'z-copy.txt': 'duplicate of good/one.txt',
    });
    // One entry per bad file: none is reported twice.
    expect(result.skipped).toHaveLength(14);
  });

  it('rejects a 50 MB file from its size alone, with the default 20 MB limit', async () => {
    await writeFiles(dir, { 'ok.txt': body('ok') });
    // Sparse: the size is real but no data is written, so this costs nothing. Were the file
    // read, its NUL bytes would report "binary content" instead of the size.
    const handle = await open(join(dir, 'huge.txt'), 'w');
    await handle.truncate(50 * 1024 * 1024);
    await handle.close();
    const started = Date.now();
    const result = await loadArticles(dir);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result.skipped).toEqual([{ file: 'huge.txt', reason: 'file too large (52.4 MB > 20 MB limit)' }]);
    expect(result.articles.map((a) => a.id)).toEqual(['ok']);
  });

  // root reads anything: its capabilities override file modes. So as root the load runs in a
  // child process without them (setpriv drops them from the child's bounding and inheritable
  // sets), still as root: it reads what root owns and may read (this checkout, node_modules,
  // even under a mode-700 folder) and meets "permission denied" where the mode says no, as any
  // other user would. Nothing changes owner, and only this test's own files change mode.
  it('reports a file or folder it has no permission to read', async (ctx) => {
    const articles = join(dir, 'articles');
    await writeFiles(articles, { 'secret.txt': body('secret'), 'ok.txt': body('ok'), 'locked/x.txt': body('locked') });
    await chmod(join(articles, 'secret.txt'), 0o000);
    await chmod(join(articles, 'locked'), 0o000);
    let result: { skipped: unknown[]; ids: string[] };
    if (process.getuid?.() === 0) {
      const setpriv = findSetpriv();
      if (!setpriv) {
        await chmod(join(articles, 'locked'), 0o700);
        return ctx.skip('as root this needs setpriv (util-linux) to drop the capabilities that let root read anything; not found on PATH');
      }
      const caps = '-dac_override,-dac_read_search';
      const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
      const child = [process.execPath, '--import', tsx, resolve('test/support/load-child.ts'), articles];
      const { stdout } = await execFileAsync(setpriv, [`--inh-caps=${caps}`, `--bounding-set=${caps}`, ...child], {
        // tsx caches compiled files under TMPDIR: keep that in this test's folder.
        env: { ...process.env, TMPDIR: dir },
      });
      result = JSON.parse(stdout) as typeof result;
    } else {
      const loaded = await loadArticles(articles);
      result = { skipped: loaded.skipped, ids: loaded.articles.map((a) => a.id) };
    }
    await chmod(join(articles, 'locked'), 0o700);
    expect(result.skipped).toEqual([
      { file: 'locked', reason: 'could not read folder: permission denied' },
      { file: 'secret.txt', reason: 'could not read file: permission denied' },
    ]);
    expect(result.ids).toEqual(['ok']);
  });
});

describe('single files and edge cases', () => {
  it('rejects uploaded bytes over the limit', async () => {
    const r = await parseArticleFile('up.txt', enc('word '.repeat(20)), { maxFileBytes: 10 });
    expect(r).toEqual({ articles: [], skipped: [{ file: 'up.txt', reason: 'file too large (100 bytes > 10 bytes limit)' }], warnings: [] });
  });

  it('warns about an impossible seed-format date and still removes it from the text', async () => {
    const r = await parseArticleFile('s.txt', enc(`date 2024-13-45 ${body('dates')}`));
    expect(r.warnings).toEqual([{ file: 's.txt', reason: 'unparseable date "2024-13-45"' }]);
    expect(r.articles[0]).toMatchObject({ date: null, text: body('dates') });
  });

  it('names the JSONL line a bad date is on', async () => {
    const r = await parseArticleFile('w.jsonl', enc(`\n${JSON.stringify({ text: body('w'), date: 'next Tuesday' })}`));
    expect(r.warnings).toEqual([{ file: 'w.jsonl:2', reason: 'unparseable date "next Tuesday"' }]);
    expect(r.articles).toHaveLength(1);
  });

  it('skips a record whose text duplicates an earlier file, naming that file', async () => {
    await writeFiles(dir, {
      'a.txt': body('same'),
      'b.jsonl': [JSON.stringify({ title: 'Copy', text: body('same') }), JSON.stringify({ title: 'New', text: body('new') })].join('\n'),
    });
    const r = await loadArticles(dir);
    expect(r.articles.map((a) => a.id)).toEqual(['a', 'b/new']);
    expect(r.skipped).toEqual([{ file: 'b.jsonl:1', reason: 'duplicate of a.txt' }]);
  });

  it('keeps both articles when two files share a name but not an extension', async () => {
    await writeFiles(dir, { 'a.txt': body('text'), 'a.md': body('markdown') });
    const r = await loadArticles(dir);
    expect(r.articles.map((a) => [a.id, a.path])).toEqual([
      ['a', 'a.md'],
      ['a-2', 'a.txt'],
    ]);
    expect(r.warnings).toEqual([{ file: 'a.txt', reason: 'id "a" is already used by a.md; using "a-2"' }]);
  });

  it('decodes UTF-16 text with a byte-order mark instead of calling it binary', async () => {
    const utf16 = new Uint8Array([0xff, 0xfe, ...Buffer.from(body('utf16'), 'utf16le')]);
    const r = await parseArticleFile('u.txt', utf16);
    expect(r.articles[0]!.text).toBe(body('utf16'));
  });

  it('decodes an HTML page in its declared legacy charset', async () => {
    const html = Buffer.concat([
      Buffer.from('<html><head><meta charset="windows-1252"></head><body><p>'),
      Buffer.from(`Caf\xe9 ${body('charset')}`, 'latin1'),
      Buffer.from('</p></body></html>'),
    ]);
    const r = await parseArticleFile('legacy.html', new Uint8Array(html));
    expect(r.articles[0]!.text).toBe(`Café ${body('charset')}`);
  });

  it('refuses a missing articles folder with a message that says what to do', async () => {
    await expect(loadArticles(join(dir, 'nope'))).rejects.toThrow(UserError);
    await expect(loadArticles(join(dir, 'nope'))).rejects.toThrow(/ARTICLES_DIR/);
  });
});

/** setpriv's path on PATH (util-linux ships it), or null. */
function findSetpriv(): string | null {
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(d, 'setpriv');
    if (d && existsSync(p)) return p;
  }
  return null;
}
