/**
 * `npm run try-bot`, scripted: the emulator and the real bot start, questions piped on stdin get
 * the bot's replies printed with their buttons, `:tap N` presses one, and end of input stops
 * everything. This is the README's "try the Telegram bot without Telegram" recipe.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/stack.js';
import { cliEnv } from './support.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SCRIPT = path.resolve('scripts/try-bot.ts');
let root: string;

beforeEach(() => {
  root = tempDir('newsbot-try-bot-');
  fs.mkdirSync(path.join(root, 'articles'));
  fs.mkdirSync(path.join(root, 'tmp'));
  fs.copyFileSync('seeds/000_cc2b64a9889106ac.txt', path.join(root, 'articles', '000_cc2b64a9889106ac.txt'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function tryBot(input: string): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, SCRIPT, '--log', path.join(root, 'try-bot.log')], {
      cwd: root,
      // Its temporary folders (the bot's state, the emulator's) go inside this test's folder.
      env: cliEnv(root, { TMPDIR: path.join(root, 'tmp') }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code }));
    child.stdin.end(input);
  });
}

describe('npm run try-bot', () => {
  it('answers a piped question with citations through the emulator, shows and taps its button, then stops cleanly', async () => {
    const { stdout, stderr, code } = await tryBot('Who is Kolokoltsev meeting at the UN?\n:tap 1\n/start\n');
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('Ready. You are user 1001 (an admin) in a private chat with @TestNameBot.');
    const [, answer, quotes, start] = stdout.split(/^you> /m);
    expect(answer).toMatch(/^Who is Kolokoltsev meeting at the UN\?\nbot> /);
    expect(answer).toContain('Jean-Pierre Lacroix');
    expect(answer).toMatch(/” \[1\]/);
    expect(answer).toMatch(/Sources\n\[1\] A Kolokoltsev’s arrival .* · 2024-06-27/);
    expect(answer).toMatch(/^ +\[1\] Show quotes {2}\[2\] 👍 {2}\[3\] 👎$/m);
    // The tap reaches the bot as a callback query: the quotes behind the citation come back.
    expect(quotes).toMatch(/^:tap 1\nbot> Quotes\n/);
    // What it shows is a sentence of the cited article that the answer quoted.
    const shown = (quotes ?? '')
      .split('\n')
      .slice(3)
      .find((l) => l.trim() !== '');
    expect(shown).toMatch(/Kolokoltsev/);
    expect(answer).toContain(shown);
    expect(start).toMatch(/^\/start\nbot> Hi! I answer questions about 1 news article, published 2024-06-27/);
    // The bot ran against the emulator and was stopped at the end of input; its state folder is gone.
    const events = fs
      .readFileSync(path.join(root, 'try-bot.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { event: string }).event);
    expect(events).toEqual(expect.arrayContaining(['bot.started', 'bot.answered', 'bot.stopped']));
    // (tsx keeps its compile cache there too.)
    expect(fs.readdirSync(path.join(root, 'tmp')).filter((f) => !f.startsWith('tsx-'))).toEqual([]);
  }, 180_000);
});
