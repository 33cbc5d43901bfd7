import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexReader } from '../../src/store/reader.js';
import { CORPUS } from '../support/corpus.js';
import { tempDir, testApp, writeFiles } from '../support/stack.js';

const root = tempDir();
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const ARTICLE =
  'date 2024-07-12\nThe regional orchestra played its final concert in the old opera house before renovation work begins.\n\nTickets sold out in four minutes.';

/** Runs add-child and SIGKILLs it `delayMs` after it reports ready; resolves with its output. */
function addAndKill(src: string, delayMs: number): Promise<{ out: string; killed: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/add-child.ts', root, src], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready') && !child.killed) setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('exit', (_code, signal) => resolve({ out, killed: signal === 'SIGKILL' }));
  });
}

describe('SIGKILL during an add', () => {
  it('leaves the article either fully present or absent, the index complete, and the next reindex working', async () => {
    writeFiles(path.join(root, 'articles'), CORPUS);
    const src = path.join(root, 'orchestra.txt');
    fs.writeFileSync(src, ARTICLE);
    // An add is a chat source: stored under STATE_DIR/sources, not in the articles folder.
    const stored = path.join(root, 'state', 'sources');
    const outcomes = { killedBefore: 0, killedAfter: 0, completed: 0 };
    // Delays spread over the whole add: parse, write, rename, chunk, embed, index, switch.
    const delays = [0, 5, 15, 30, 50, 80, 120, 200, 400];
    const first = await testApp(root);
    await first.library.reindex({});
    first.close();
    for (const delay of delays) {
      const { out, killed } = await addAndKill(src, delay);
      const present = fs.existsSync(path.join(stored, 'orchestra.txt'));
      if (present) expect(fs.readFileSync(path.join(stored, 'orchestra.txt'), 'utf8'), `delay ${delay}`).toBe(ARTICLE);
      if (!killed) outcomes.completed++;
      else if (present) outcomes.killedAfter++;
      else outcomes.killedBefore++;
      if (!killed) expect(out).toContain('added orchestra');

      // After "restart": the current index is complete and consistent.
      const r = IndexReader.open(path.join(root, 'index-data'));
      expect(r, `delay ${delay}`).toBeInstanceOf(IndexReader);
      const reader = r as IndexReader;
      const indexed = reader.article('orchestra') !== undefined;
      expect(reader.listArticles(0, 100).items.length).toBe(reader.manifest.counts.articles);
      reader.close();
      if (indexed) expect(present).toBe(true);

      // The next reindex succeeds and reflects the folder and the stored sources exactly; no temp files are left behind.
      const again = await testApp(root);
      await again.library.ensure();
      const s = await again.library.reindex({});
      expect(s.articles).toBe(present ? 6 : 5);
      expect(again.library.reader()!.article('orchestra') !== undefined).toBe(present);
      // (A kill before the first add created the sources folder leaves none.)
      const left = fs.existsSync(stored) ? fs.readdirSync(stored) : [];
      expect(left.filter((f) => f.includes('.tmp'))).toEqual([]);
      // Back to the starting point for the next delay, with the app already open.
      fs.rmSync(path.join(stored, 'orchestra.txt'), { force: true });
      await again.library.reindex({});
      again.close();
    }
    // The delays must actually have hit the add at different stages.
    expect(outcomes.killedBefore + outcomes.killedAfter).toBeGreaterThan(0);
  }, 180_000);
});
