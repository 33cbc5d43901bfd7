/**
 * The "done when", as a user runs it: with FEED_URLS pointing at a feed on 127.0.0.1 and
 * ALLOW_PRIVATE_URLS=true, `npm run index -- --feeds` then `npm run ask -- "…"` cites the item.
 * Both are real CLI processes (fixture model, no LLM, so the answer is extractive).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedSite, storyText } from '../support/feed-server.js';
import { tempDir } from '../support/stack.js';
import { cliEnv } from './support.js';

const exec = promisify(execFile);
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
let root: string;
let site: FeedSite;

function cli(args: string[], extra: Record<string, string> = {}) {
  return exec(process.execPath, ['--import', TSX, path.resolve('src/cli/main.ts'), ...args], { cwd: root, env: cliEnv(root, extra) });
}

beforeAll(async () => {
  root = tempDir();
  fs.mkdirSync(path.join(root, 'articles'));
  fs.copyFileSync('seeds/000_cc2b64a9889106ac.txt', path.join(root, 'articles', '000_cc2b64a9889106ac.txt'));
  site = await FeedSite.start();
  site.rss('/feed.xml', 'Lakeside Gazette', [
    {
      guid: 'gazette-77',
      title: 'Lakeside opens floating solar farm on the reservoir',
      date: '2024-07-08T06:00:00Z',
      path: '/2024/07/solar',
      content: storyText('Lakeside opened a floating solar farm of 12,000 panels on the Kelder reservoir, enough to power 4,000 homes.'),
    },
  ]);
});

afterAll(async () => {
  await site?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('index --feeds', () => {
  it('polls the feed, indexes the item, and ask cites it', async () => {
    const env = { FEED_URLS: site.url('/feed.xml'), ALLOW_PRIVATE_URLS: 'true' };
    const indexed = await cli(['index', '--feeds'], env);
    expect(indexed.stdout).toContain(`${site.url('/feed.xml')}: 1 new article`);
    expect(indexed.stdout).toMatch(/Indexed 2 articles/);
    const { stdout } = await cli(['ask', 'How many panels does the floating solar farm on the Kelder reservoir have?'], env);
    expect(stdout).toContain('12,000 panels');
    expect(stdout).toMatch(
      new RegExp(`\\[1\\] Lakeside opens floating solar farm on the reservoir \\(2024-07-08\\) ${site.url('/2024/07/solar')}`),
    );
    // A second poll finds nothing new (the server answers 304) and leaves the index as it was.
    const again = await cli(['index', '--feeds'], env);
    expect(again.stdout).toContain(`${site.url('/feed.xml')}: not modified`);
    expect(again.stdout).toMatch(/0 added, 0 changed, 0 removed, 2 unchanged/);
  });

  it('refuses private addresses unless ALLOW_PRIVATE_URLS is set, and says so per feed', async () => {
    const { stdout } = await cli(['index', '--feeds'], { FEED_URLS: site.url('/feed.xml'), STATE_DIR: path.join(root, 'state-2') });
    expect(stdout).toMatch(/FAILED: Refusing to fetch 127\.0\.0\.1:\d+: it is a private or local address/);
  });

  it('says what to do when no feed is configured', async () => {
    const err = await cli(['index', '--feeds'], { STATE_DIR: path.join(root, 'state-3') }).catch(
      (e: { stderr: string; code: number }) => e,
    );
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toMatch(/No feeds to poll: set FEED_URLS/);
  });
});
