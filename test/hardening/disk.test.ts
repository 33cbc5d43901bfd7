/**
 * Disk faults during a reindex: a full disk and a read-only index folder. The previous index must
 * keep serving and the admin must get a clear error. Real faults need a real filesystem, so the
 * index folder is a tiny tmpfs mounted for the test (the suite runs as root here and in CI).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { IndexReader } from '../../src/store/reader.js';
import { UserError } from '../../src/util/errors.js';
import { CORPUS } from '../support/corpus.js';
import { mdArticle, tempDir, testApp, writeFiles } from '../support/stack.js';

function tryMount(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const probe = tempDir();
const canMount = tryMount(probe, '64k');
if (canMount) execFileSync('umount', [probe]);
fs.rmSync(probe, { recursive: true, force: true });

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

async function setup(size: string): Promise<{ app: App; articles: string; indexDir: string }> {
  const root = tempDir();
  const indexDir = path.join(root, 'index-data');
  fs.mkdirSync(indexDir);
  expect(tryMount(indexDir, size)).toBe(true);
  cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
  cleanups.push(() => execFileSync('umount', ['-l', indexDir]));
  writeFiles(path.join(root, 'articles'), CORPUS);
  const app = await testApp(root);
  cleanups.push(() => app.close());
  await app.library.reindex({});
  return { app, articles: path.join(root, 'articles'), indexDir };
}

// Mounting needs root (true for this project's machines and CI); elsewhere these cannot run.
describe('disk faults during reindex', () => {
  beforeEach((ctx) => {
    if (!canMount) ctx.skip('needs to mount a small tmpfs (root, outside a locked-down container); mount failed here');
  });
  it('a full disk fails the reindex with a clear message and the old index keeps serving', async () => {
    const { app, articles, indexDir } = await setup('4m');
    const before = app.library.stats();
    // Fill the disk with a ballast file, leaving room for the lock file but not for the next
    // generation (a copy of the current database).
    const db = path.join(indexDir, fs.readFileSync(path.join(indexDir, 'CURRENT'), 'utf8').trim(), 'meta.sqlite');
    const leave = Math.floor(fs.statSync(db).size / 2);
    const { bavail, bsize } = fs.statfsSync(indexDir);
    fs.writeFileSync(path.join(indexDir, 'ballast'), Buffer.alloc(Math.max(0, bavail * bsize - leave)));
    writeFiles(articles, {
      'port.md': mdArticle('Port expansion', '2024-09-01', 'The port authority approved new cargo cranes for the harbour.'),
    });
    const err = await app.library.reindex({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/disk is full.*previous index is still in use/);
    expect(app.library.stats()).toEqual(before);
    expect((await app.retriever.retrieve('chess championship')).passages[0]?.articleId).toBe('chess');
    const reopened = IndexReader.open(indexDir);
    expect(reopened).toBeInstanceOf(IndexReader);
    (reopened as IndexReader).close();
    expect(fs.readdirSync(indexDir).filter((e) => e.includes('.tmp'))).toEqual([]);
  });

  it('a read-only index folder fails the reindex with a clear message and the old index keeps serving', async () => {
    const { app, articles, indexDir } = await setup('4m');
    execFileSync('mount', ['-o', 'remount,ro', indexDir]);
    writeFiles(articles, {
      'new.md': mdArticle(
        'Library reopens',
        '2024-09-02',
        'The town library reopened after a two-year renovation with a new reading room.',
      ),
    });
    const err = await app.library.reindex({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/cannot write to .*index-data.*EROFS/);
    expect((await app.retriever.retrieve('volcano eruption island')).passages[0]?.articleId).toBe('volcano');
    execFileSync('mount', ['-o', 'remount,rw', indexDir]);
    const s = await app.library.reindex({});
    expect(s.added).toBe(1);
  });
});
