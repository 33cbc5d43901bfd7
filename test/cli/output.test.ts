/**
 * What the terminal commands print, seen as a user sees it: progress that ends (a live line on a
 * terminal, a few plain lines in a pipe), real durations, the missing-model note as one short
 * line once, and no JSON log lines (those go to the log file).
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS } from '../support/corpus.js';
import { tempDir, writeFiles } from '../support/stack.js';
import { cliEnv } from './support.js';

const exec = promisify(execFile);
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const MAIN = path.resolve('src/cli/main.ts');
let root: string;

/** The CLI's environment: temp folders, the fixture model, no network, no developer settings. */
function env(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  // Small batches, so embedding reports progress many times (the plain output must not).
  return cliEnv(dir, { EMBEDDING_BATCH_SIZE: '2', ...extra }) as Record<string, string>;
}

async function cli(dir: string, args: string[], extra: Record<string, string> = {}) {
  return exec(process.execPath, ['--import', TSX, MAIN, ...args], { env: env(dir, extra), cwd: dir });
}

/** A fresh folder with the seed article and the test corpus. */
function folder(): string {
  const dir = path.join(root, `run-${fs.readdirSync(root).length}`);
  writeFiles(path.join(dir, 'articles'), { ...CORPUS, 'seed.txt': fs.readFileSync('seeds/000_cc2b64a9889106ac.txt') });
  return dir;
}

/** The duration an index summary reports, in seconds. */
function summarySeconds(text: string): number {
  const m = /Indexed \d+ articles? \(\d+ chunks\) in (?:(\d+) ms|(\d+\.\d) s)/.exec(text);
  if (!m) throw new Error(`No summary in:\n${text}`);
  return m[1] !== undefined ? Number(m[1]) / 1000 : Number(m[2]);
}

const jsonLines = (text: string) => text.split('\n').filter((l) => l.trim().startsWith('{'));

beforeAll(() => {
  root = tempDir('cli-output-');
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('index in a pipe', () => {
  it('prints a few plain progress lines that end with the write step, and real durations', async () => {
    const dir = folder();
    const first = await cli(dir, ['index']);
    const lines = first.stderr.trim().split('\n');
    // One line per step (read, chunk, embed, write) plus at most three quarter-way lines: not one per batch.
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(lines.length).toBeLessThanOrEqual(7);
    expect(lines[0]).toBe('Reading the articles…');
    expect(lines).toContain('Chunking: 6 articles…');
    expect(lines.at(-1)).toMatch(/^Writing the index: \d+ chunks…$/);
    expect(first.stderr).not.toMatch(/ 0\/\d+ \(0%\)/);
    expect(jsonLines(first.stderr)).toEqual([]);

    // Nothing changed: one line.
    const again = await cli(dir, ['index']);
    expect(again.stdout).toMatch(/0 added, 0 changed, 0 removed, 6 unchanged/);
    expect(again.stderr.trim()).toBe('Reading the articles…');
  });

  it('summaries show the real duration, reading the folder included (not "in 0.0 s")', async () => {
    // Lexical-only, as on a machine without the model: a no-change sync then takes a few ms after loading.
    const dir = folder();
    const lexical = { EMBEDDING_PROVIDER: 'none' };
    const first = await cli(dir, ['index'], lexical);
    expect(summarySeconds(first.stdout)).toBeGreaterThan(0);
    const again = await cli(dir, ['index'], lexical);
    expect(again.stdout).toMatch(/0 added, 0 changed, 0 removed, 6 unchanged/);
    expect(summarySeconds(again.stdout)).toBeGreaterThan(0);
    // Under a second is shown in ms rather than rounded to tenths.
    expect(again.stdout).toMatch(/ in [1-9]\d* ms:/);
  });
});

describe('notes and logs', () => {
  it('reports a settings change once, in words; its JSON log line goes to the log file only', async () => {
    const dir = folder();
    await cli(dir, ['index']);
    const { stdout, stderr } = await cli(dir, ['ask', 'Who is Kolokoltsev meeting at the UN?'], { CHUNK_MAX_TOKENS: '200' });
    expect(stdout).toContain('Jean-Pierre Lacroix');
    expect(jsonLines(stderr)).toEqual([]);
    expect(jsonLines(stdout)).toEqual([]);
    expect(stderr.split('\n').filter((l) => l.includes('does not match the current settings'))).toHaveLength(1);
    const log = fs.readFileSync(path.join(dir, 'state', 'newsdesk.log'), 'utf8');
    const events = log
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { event: string }).event);
    expect(events).toContain('index.rebuild');
    expect(events).toContain('index.built');
  });

  it('says a missing embedding model in one short line, once; --help has the long explanation', async () => {
    const dir = folder();
    const { stdout, stderr } = await cli(dir, ['ask', 'Who is Kolokoltsev meeting at the UN?'], {
      EMBEDDING_MODEL: 'nobody/missing-model',
    });
    expect(stdout).toContain('Jean-Pierre Lacroix');
    const notes = stderr.split('\n').filter((l) => l.includes('missing-model'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^Note: lexical-only search: nobody\/missing-model not loaded \(.+\)\. See --help\.$/);
    expect(notes[0]!.length).toBeLessThanOrEqual(160);
    expect(jsonLines(stderr)).toEqual([]);

    const help = await cli(dir, ['ask', '--help']);
    expect(help.stdout).toMatch(/LOCAL_MODEL_DIR\/<model id>\//);
    expect(help.stdout).toMatch(/lexical-only search/);
    expect(help.stdout).toMatch(/MODEL_CACHE_DIR/);
  });
});

/** True when util-linux `script` can give a child a pseudo-terminal here. */
function hasScript(): boolean {
  try {
    execFileSync('script', ['-qec', 'true', '/dev/null'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('index on a terminal', () => {
  it('draws one live line with a bar and counts, redrawn in place, and clears it before the summary', async (ctx) => {
    if (!hasScript()) ctx.skip('needs util-linux `script` to give the command a pseudo-terminal; not usable here');
    const dir = folder();
    const vars = Object.entries(env(dir)).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    const command = ['env', '-i', ...vars, JSON.stringify(process.execPath), '--import', TSX, JSON.stringify(MAIN), 'index'].join(' ');
    // `script` runs the command on a pseudo-terminal, so stderr.isTTY is true, as in a real terminal.
    const { stdout } = await exec('script', ['-qec', command, '/dev/null'], { cwd: dir });
    const frames = stdout.split('\r\x1b[K').slice(1);
    expect(frames.length).toBeGreaterThanOrEqual(3);
    expect(frames.some((f) => /^Embedding \[#*\.*\] \d+\/\d+ chunks \d+%/.test(f))).toBe(true);
    expect(frames.some((f) => /^Chunking \[#+\] 6\/6 articles 100%/.test(f))).toBe(true);
    // No newline inside the live line: every frame is drawn over the previous one.
    for (const f of frames.slice(0, -1)) expect(f).not.toContain('\n');
    // The last frame is the summary, on a cleared line.
    expect(frames.at(-1)).toMatch(/^Indexed 6 articles \(\d+ chunks\) in /);
    expect(stdout).not.toMatch(/ 0\/\d+ \(0%\)/);
  });
});
