/**
 * Ctrl-C (SIGINT) and SIGTERM during `index`, through real child processes: one line says which
 * index is in use, the exit code is 128 + the signal (130, 143), the lock is released, nothing
 * half-built is left or served, and the next run completes.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexReader } from '../../src/store/reader.js';
import { CORPUS } from '../support/corpus.js';
import { mdArticle, tempDir, writeFiles } from '../support/stack.js';
import { runCli } from './support.js';

const run = promisify(execFile);
let root: string;
const indexDir = () => path.join(root, 'index-data');
const current = () => fs.readFileSync(path.join(indexDir(), 'CURRENT'), 'utf8').trim();
/** What a run may leave in the index folder besides the generations: nothing (no lock, no temp folders). */
const leftovers = () => fs.readdirSync(indexDir()).filter((e) => e === 'index.lock' || e.includes('.tmp'));
const articleCount = () => {
  const r = IndexReader.open(indexDir());
  if (!(r instanceof IndexReader)) throw new Error(r.message);
  const n = r.manifest.counts.articles;
  r.close();
  return n;
};

/** Enough articles that embedding them takes many batches, so a signal lands mid-run. */
function manyArticles(n: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    files[`bulk/report-${i}.md`] = mdArticle(
      `Harbour report ${i}`,
      '2024-07-01',
      `Dock workers at the harbour counted ${i} ships this week. The council said the bridge over the river stays open for trade number ${i}.`,
    );
  }
  return files;
}

/** Runs `index args…` and sends `signal` once embedding has started. */
function interruptIndex(args: string[], signal: NodeJS.Signals) {
  let sent = false;
  return runCli(root, ['index', ...args], {
    onStderr: (stderr, child) => {
      if (!sent && /^Embedding: \d+ chunks/m.test(stderr)) {
        sent = true;
        child.kill(signal);
      }
    },
  });
}

beforeAll(async () => {
  root = tempDir('newsbot-interrupt-');
  writeFiles(path.join(root, 'articles'), CORPUS);
  const first = await runCli(root, ['index']);
  expect(first.code, first.stderr).toBe(0);
  writeFiles(path.join(root, 'articles'), manyArticles(300));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('interrupting index', () => {
  it('SIGINT mid-run: one line, exit code 130, the previous index still served, no lock or half generation left', async () => {
    const before = current();
    const { stderr, code, signal } = await interruptIndex([], 'SIGINT');
    expect(signal).toBeNull();
    expect(code).toBe(130);
    const lines = stderr.trim().split('\n');
    expect(lines.at(-1)).toBe('Interrupted: the previous index (5 articles) is still in use');
    expect(stderr.match(/Interrupted/g)).toHaveLength(1);
    expect(current()).toBe(before);
    expect(articleCount()).toBe(5);
    expect(leftovers()).toEqual([]);
  });

  it('SIGTERM mid-run of a full rebuild: the same line, exit code 143', async () => {
    const before = current();
    const { stderr, code } = await interruptIndex(['--full'], 'SIGTERM');
    expect(code).toBe(143);
    expect(stderr.trim().split('\n').at(-1)).toBe('Interrupted: the previous index (5 articles) is still in use');
    expect(current()).toBe(before);
    expect(leftovers()).toEqual([]);
  });

  it('the next run after the interrupts completes', async () => {
    const { stdout, code } = await runCli(root, ['index']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Indexed 305 articles .*300 added/);
    expect(articleCount()).toBe(305);
    expect(leftovers()).toEqual([]);
  });

  it('an interrupt during the (synchronous) write reports that the run finished, with exit code 130', async () => {
    // The next generation differs from the current one by one article.
    writeFiles(path.join(root, 'articles'), { 'late.md': mdArticle('Late news', '2024-08-01', 'The harbour reopened late at night.') });
    const before = current();
    const done = await run(process.execPath, ['--import', 'tsx', 'test/support/interrupt-child.ts', root]).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(done.code).toBe(130);
    expect(done.stderr.trim()).toBe('Interrupted: finished just before the interrupt (306 articles)');
    expect(current()).not.toBe(before);
    expect(articleCount()).toBe(306);
    expect(leftovers()).toEqual([]);
  });
});
