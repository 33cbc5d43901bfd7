/**
 * Crash safety of index builds: a build SIGKILLed at each step (in a child process) leaves the
 * previous generation serving and the next run completes; a reader in another process never sees
 * a half-written generation. Slow (two child processes per case), so it runs in the integration project.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IndexReader } from '../../src/store/reader.js';
import { CORPUS } from '../support/corpus.js';
import { mdArticle, writeFiles } from '../support/stack.js';
import { generation, setup, tsChild } from './helpers.js';

describe('crash safety', () => {
  const steps = ['copied', 'dropped', 'embedded-batch:1', 'inserted', 'vectors-written', 'manifest-written', 'renamed', 'switched'];

  it.each(steps)('a build SIGKILLed at "%s" leaves the previous index usable and the next run completes', async (step) => {
    const { root, app, articles, indexDir } = await setup();
    await app.library.reindex({});
    app.close();
    const genBefore = generation(indexDir);
    fs.writeFileSync(path.join(articles, 'chess.md'), CORPUS['chess.md']!.replace('240 players', '999 players'));
    writeFiles(articles, {
      'extra.md': mdArticle('Harbour strike ends', '2024-08-01', 'Dock workers ended a nine-day strike at the harbour after a pay deal.'),
    });

    const killed = await tsChild('test/support/index-child.ts', root, step).then(
      () => null,
      (e: { signal?: string; stdout?: string }) => e,
    );
    expect(killed?.signal).toBe('SIGKILL');

    // Whatever generation CURRENT names is complete and consistent.
    const r = IndexReader.open(indexDir);
    expect(r).toBeInstanceOf(IndexReader);
    const reader = r as IndexReader;
    const switched = generation(indexDir) !== genBefore;
    expect(reader.manifest.counts.articles).toBe(switched ? 6 : 5);
    expect(reader.lexical('"999"', 5).length).toBe(switched ? 1 : 0);
    reader.close();

    const { stdout } = await tsChild('test/support/index-child.ts', root, 'none');
    expect(stdout).toMatch(/^done /m);
    const after = IndexReader.open(indexDir) as IndexReader;
    expect(after.manifest.counts.articles).toBe(6);
    expect(after.lexical('"999"', 5)).toHaveLength(1);
    expect(after.lexical('"harbour"', 5)).toHaveLength(1);
    after.close();
    expect(fs.readdirSync(indexDir).filter((e) => e.includes('.tmp'))).toEqual([]);
  });

  it('a reader in another process never sees a half-written index during reindexing', async () => {
    const { app, articles, indexDir } = await setup();
    await app.library.reindex({});
    const reader = tsChild('test/support/query-child.ts', indexDir, '4000');
    for (let i = 0; i < 6; i++) {
      writeFiles(articles, {
        [`extra-${i}.md`]: mdArticle(
          `Market report ${i}`,
          '2024-08-0' + (i + 1),
          `Shares rose ${i} percent in a quiet session of trading number ${i}.`,
        ),
      });
      await app.library.reindex({ full: i % 2 === 0 });
    }
    const { stdout } = await reader;
    const res = JSON.parse(stdout) as { ok: number; failures: string[] };
    expect(res.failures).toEqual([]);
    expect(res.ok).toBeGreaterThan(10);
  });
});
