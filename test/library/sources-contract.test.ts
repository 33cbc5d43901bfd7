/**
 * Article sources behind `ArticleSources`, one suite for every implementation (a folder under
 * STATE_DIR, PostgreSQL): chat and feed additions are stored with their bytes and who added them,
 * get names whose ids nobody has, and a removal takes effect only with the publish it belongs to.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../../src/db/pool.js';
import { FileSources } from '../../src/library/file-sources.js';
import { PgSources } from '../../src/library/pg-sources.js';
import type { ArticleSources, PublishStep } from '../../src/library/sources.js';
import { migratedDatabase } from '../support/postgres.js';
import { tempDir } from '../support/stack.js';

const database = migratedDatabase();
const newPool = () => database.pool();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Backend {
  name: string;
  /** Two processes' views of one fresh, empty store. */
  open(): Promise<[ArticleSources, ArticleSources]>;
  /** Publishes a generation with `step` as the index does; `fail` makes the publish fail after the step ran inside it. */
  publish(step: PublishStep, fail: boolean): Promise<void>;
}

const backends: Backend[] = [
  {
    name: 'files',
    open: async () => {
      const dir = path.join(tempDir('sources-contract-'), 'sources');
      dirs.push(path.dirname(dir));
      return [new FileSources(dir), new FileSources(dir)];
    },
    // The embedded publish is a rename: the step runs after it, so a failed publish never reaches it.
    publish: async (step, fail) => {
      if (fail) throw new Error('publish failed');
      await step(null);
    },
  },
  {
    name: 'PostgreSQL',
    open: async () => {
      await newPool().query('TRUNCATE article_sources');
      return [new PgSources(newPool()), new PgSources(newPool())];
    },
    publish: async (step, fail) => {
      await withTransaction(newPool(), async (c) => {
        await step({ query: async (sql, params) => c.query(sql, params as unknown[]) as never });
        if (fail) throw new Error('publish failed');
      });
    },
  },
];

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const nobody = () => false;

describe.each(backends)('ArticleSources on $name', (backend) => {
  it('stores the bytes, the origin and who added it, for every process to list', async () => {
    const [a, b] = await backend.open();
    const before = Date.now();
    const chat = await a.add(
      'budget.txt',
      '',
      bytes('Council passes budget\n\nThe council passed it.'),
      { origin: 'chat', addedBy: '@ed (7)' },
      nobody,
    );
    const feed = await a.add(
      'tram.md',
      'feeds',
      bytes('# Tram line opens'),
      { origin: 'feed', addedBy: 'https://news.example/tram' },
      nobody,
    );
    expect([chat, feed]).toEqual(['budget.txt', 'feeds/tram.md']);
    const listed = await b.list();
    expect(listed.map((s) => [s.path, s.origin, s.addedBy])).toEqual([
      ['budget.txt', 'chat', '@ed (7)'],
      ['feeds/tram.md', 'feed', 'https://news.example/tram'],
    ]);
    expect(text(listed[0]!.bytes)).toBe('Council passes budget\n\nThe council passed it.');
    expect(listed[0]!.addedAt).toBeGreaterThanOrEqual(before);
  });

  it('names a new source so that its id is nobody else’s (stored, in the folder, in the index)', async () => {
    const [a, b] = await backend.open();
    expect(await a.add('budget.txt', '', bytes('one'), { origin: 'chat', addedBy: null }, nobody)).toBe('budget.txt');
    // budget.md would have the id "budget" too.
    expect(await b.add('budget.md', '', bytes('two'), { origin: 'chat', addedBy: null }, nobody)).toBe('budget-2.md');
    const folderIds = new Set(['budget-3', 'budget-4']);
    expect(await a.add('budget.txt', '', bytes('three'), { origin: 'chat', addedBy: null }, (id) => folderIds.has(id))).toBe(
      'budget-5.txt',
    );
    expect((await b.list()).map((s) => s.path).sort()).toEqual(['budget-2.md', 'budget-5.txt', 'budget.txt']);
  });

  it('deletes a source at once, or with a publish: a failed publish leaves it', async () => {
    const [a, b] = await backend.open();
    const gone = await a.add('gone.txt', '', bytes('gone'), { origin: 'chat', addedBy: null }, nobody);
    const kept = await a.add('kept.txt', '', bytes('kept'), { origin: 'chat', addedBy: null }, nobody);
    await b.delete(gone);
    expect((await a.list()).map((s) => s.path)).toEqual([kept]);
    await expect(backend.publish(b.deleteOnPublish(kept), true)).rejects.toThrow('publish failed');
    expect((await a.list()).map((s) => s.path)).toEqual([kept]);
    await backend.publish(b.deleteOnPublish(kept), false);
    expect(await a.list()).toEqual([]);
  });
});

describe('FileSources', () => {
  it('keeps a file the manifest does not know (written before a crash) as a chat source, and drops abandoned temp files', async () => {
    const dir = path.join(tempDir('sources-crash-'), 'sources');
    dirs.push(path.dirname(dir));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'orphan.txt'), 'Orphan story\n\nIt was written, then the process died.');
    fs.writeFileSync(path.join(dir, '.half.txt.tmp-999999999'), 'half');
    const sources = new FileSources(dir);
    expect((await sources.list()).map((s) => [s.path, s.origin])).toEqual([['orphan.txt', 'chat']]);
    expect(fs.existsSync(path.join(dir, '.half.txt.tmp-999999999'))).toBe(false);
  });
});
