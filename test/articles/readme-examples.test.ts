/**
 * The README's "Your own articles" shows one article in every text format: each example, written
 * to a file as shown, must load as that article (same title, same date), so the README cannot
 * drift from the loader.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadArticles } from '../../src/articles/index.js';
import { tempDir, writeFiles } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

/** `{file: content}` from the README's example block: `name:   line`, continued by indented lines. */
function readmeExamples(): Record<string, string> {
  const readme = fs.readFileSync('README.md', 'utf8');
  const block = /## Your own articles[\s\S]*?```text\n([\s\S]*?)\n```/.exec(readme)?.[1];
  if (!block) throw new Error('no example block under "Your own articles" in README.md');
  const files: Record<string, string[]> = {};
  let current: string[] | undefined;
  for (const line of block.split('\n')) {
    const start = /^(\S+):(\s+)(.*)$/.exec(line);
    if (start) {
      current = files[start[1]!] = [start[3]!];
      continue;
    }
    // Continuation lines are indented to the content column; an empty line stays empty.
    current?.push(line.replace(/^ {15}/, ''));
  }
  return Object.fromEntries(Object.entries(files).map(([name, lines]) => [name, `${lines.join('\n')}\n`]));
}

describe("the README's article examples", () => {
  it('show every text format, and each loads as the same article', async () => {
    const examples = readmeExamples();
    expect(Object.keys(examples).sort()).toEqual(['floods.html', 'floods.json', 'floods.jsonl', 'floods.md', 'floods.txt']);
    for (const [name, content] of Object.entries(examples)) {
      const sub = join(dir, name.replace('.', '-'));
      await writeFiles(sub, { [name]: content });
      const { articles, skipped, warnings } = await loadArticles(sub);
      expect({ name, skipped, warnings }).toEqual({ name, skipped: [], warnings: [] });
      expect(articles, name).toHaveLength(1);
      expect(articles[0], name).toMatchObject({ title: 'River floods the old town', date: '2024-06-27' });
      expect(articles[0]!.text, name).toMatch(/^The river rose two metres/);
    }
    expect((await loadArticles(join(dir, 'floods-md'))).articles[0]!.url).toBe('https://news.example/floods');
  });
});
