/**
 * An index built in the degraded mode (no model yet) and the same folder indexed once the model
 * has arrived: the passages a reader is shown keep their boundaries, and the index gains vectors.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CORPUS } from '../support/corpus.js';
import { mdArticle, tempDir, testApp, writeFiles } from '../support/stack.js';

let root: string;
const opened: App[] = [];

/** Every article's chunk spans, in order. */
async function spans(app: App): Promise<Map<string, [number, number][]>> {
  const reader = app.library.searchIndex();
  if (!reader) throw new Error('no index');
  const out = new Map<string, [number, number][]>();
  for (const a of app.library.listArticles(0, 1000).items) {
    out.set(
      a.id,
      (await reader.chunksOf(a.id)).map((c) => [c.start, c.end] as [number, number]),
    );
  }
  return out;
}

async function open(env: Record<string, string> = {}): Promise<App> {
  const app = await testApp(root, env);
  opened.push(app);
  return app;
}

beforeAll(() => {
  root = tempDir();
  writeFiles(path.join(root, 'articles'), CORPUS);
  writeFiles(path.join(root, 'articles'), {
    'seed.txt': fs.readFileSync('seeds/000_cc2b64a9889106ac.txt'),
    // Long enough for many chunks, in words the fixture model's tokenizer splits differently from the estimate.
    'long.md': mdArticle(
      'Council reviews the Elm river bridge budget',
      '2024-06-21',
      Array.from(
        { length: 40 },
        (_, i) =>
          `Item ${i + 1}: the councillors questioned subcontractors about reinforcement, waterproofing and scaffolding costs, ` +
          `which rose by ${i + 3} per cent after inflation-adjusted renegotiations.`,
      ).join('\n\n'),
    ),
  });
});

afterAll(() => {
  for (const app of opened) app.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('when the embedding model arrives after the index was built', () => {
  it('keeps every chunk boundary and only gains vectors', async () => {
    const before = await open({ EMBEDDING_PROVIDER: 'none' });
    await before.library.reindex({});
    expect(before.library.stats().dense).toBe(false);
    const lexical = await spans(before);
    expect(lexical.get('long')?.length).toBeGreaterThan(3);
    expect(lexical.get('seed')?.length).toBeGreaterThan(1);
    before.close();

    const after = await open();
    expect(after.embedder).not.toBeNull();
    await after.library.reindex({});
    expect(after.library.stats().dense).toBe(true);
    expect(await spans(after)).toEqual(lexical);
    const r = await after.retriever.retrieveDetailed('Who won the national chess championship?');
    expect(r.mode).toBe('hybrid');
    expect(r.passages[0]?.articleId).toBe('chess');
  });

  it("re-chunks an article whose chunks the model's own tokenizer finds too long, so nothing is cut off", async () => {
    // One unbroken run of CJK characters: the estimate sees one word, BERT's tokenizer one token per character.
    writeFiles(path.join(root, 'articles'), { 'cjk.md': mdArticle('Long CJK paragraph', '2024-06-22', '漢'.repeat(1500)) });
    const app = await open();
    await app.library.reindex({});
    const embedder = app.embedder!;
    const chunks = await app.library.searchIndex()!.chunksOf('cjk');
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks) expect(embedder.tokenizer.count(c.text)).toBeLessThanOrEqual(embedder.maxTokens);
  });
});
