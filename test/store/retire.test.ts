/**
 * A reader a search still holds survives the reindex that replaces it, and closes when that
 * search lets go: the retain / release / retire count both stores share.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Retirable } from '../../src/store/retirable.js';
import { CORPUS } from '../support/corpus.js';
import { mdArticle, tempDir, testApp, writeFiles } from '../support/stack.js';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

class Counted extends Retirable {
  closed = 0;
  close(): void {
    this.closed++;
  }
}

describe('Retirable', () => {
  it('closes a retired reader only after its last user releases it, and an unused one at once', () => {
    const held = new Counted();
    held.retain();
    held.retain();
    held.retire();
    expect(held.closed).toBe(0);
    held.release();
    expect(held.closed).toBe(0);
    held.release();
    expect(held.closed).toBe(1);

    const idle = new Counted();
    idle.retire();
    expect(idle.closed).toBe(1);

    // Not retired: releasing the last user keeps it open for the next search.
    const serving = new Counted();
    serving.retain();
    serving.release();
    expect(serving.closed).toBe(0);
  });
});

describe('a reindex under a running search', () => {
  it('keeps the old index open for the search that holds it, then closes it', async () => {
    const root = tempDir();
    roots.push(root);
    writeFiles(path.join(root, 'articles'), CORPUS);
    const app = await testApp(root, { EMBEDDING_PROVIDER: 'none' });
    try {
      await app.library.reindex({});
      const old = app.library.searchIndex();
      if (!old) throw new Error('no index');
      old.retain();
      writeFiles(path.join(root, 'articles'), {
        'otters.md': mdArticle('Otters return to the Elm river', '2024-06-29', 'Otters were seen again.'),
      });
      await app.library.reindex({});
      expect(app.library.searchIndex()).not.toBe(old);
      // Still searchable by the search that held it across the swap.
      expect((await old.lexical('"chess"', 5)).length).toBeGreaterThan(0);
      old.release();
      await expect(Promise.resolve().then(() => old.lexical('"chess"', 5))).rejects.toThrow();
    } finally {
      app.close();
    }
  });
});
