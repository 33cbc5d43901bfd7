/**
 * A running front end follows the index: a generation published by another process (`index` in
 * a second terminal while `start` serves) is picked up within a few seconds, without a restart,
 * and a search in flight across the switch finishes on the old generation, which is then closed.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { mdArticle, tempDir, testApp, writeFiles } from '../support/stack.js';
import { FAKE_TOKEN, TelegramHarness, textOf } from '../support/telegram.js';
import { FakeAnswerer, FakeLibrary } from '../support/telegram-fakes.js';
import { cliEnv } from './support.js';

const exec = promisify(execFile);
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const MAIN = path.resolve('src/cli/main.ts');

const CHESS = mdArticle(
  'Ingrid Solberg wins the Tromsø chess open',
  '2024-07-02',
  'Ingrid Solberg won the Tromsø chess open on Sunday, beating the defending champion in the final round. ' +
    'The tournament drew 140 players from 22 countries to the Arctic city.',
);
const QUESTION = 'Who won the Tromsø chess open?';

let root: string | undefined;
let child: ChildProcessWithoutNullStreams | undefined;
let app: App | undefined;
let harness: TelegramHarness | undefined;
afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  await harness?.stop();
  harness = undefined;
  app?.close();
  app = undefined;
  if (root) fs.rmSync(root, { recursive: true, force: true });
  root = undefined;
});

/** The CLI's environment: temp folders, the fixture model (the same settings as `testApp`), no network. */
const env = (dir: string): NodeJS.ProcessEnv => cliEnv(dir, { CHUNK_MAX_TOKENS: '96' });

/** Runs `index` in its own process, as a second terminal would. */
async function indexInAnotherProcess(dir: string): Promise<string> {
  const { stdout } = await exec(process.execPath, ['--import', TSX, MAIN, 'index'], { env: env(dir), cwd: dir });
  return stdout;
}

function newRoot(): string {
  const dir = tempDir('follow-');
  writeFiles(path.join(dir, 'articles'), { 'seed.txt': fs.readFileSync('seeds/000_cc2b64a9889106ac.txt') });
  return dir;
}

describe('a running front end follows the index', () => {
  it('answers from an article indexed by another process, within a few seconds and without a restart', async () => {
    const dir = newRoot();
    root = dir;
    await indexInAnotherProcess(dir);
    // `npm start` without a token: the terminal chat, fed line by line through a pipe.
    const c = spawn(process.execPath, ['--import', TSX, MAIN, 'start'], { env: env(dir), cwd: dir });
    child = c;
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    let asked = 0;
    // Each question is followed by an unknown command: its reply marks the end of the answer.
    const ask = async (q: string): Promise<string> => {
      const marker = `/end${++asked}`;
      const from = out.length;
      c.stdin.write(`${q}\n${marker}\n`);
      const deadline = Date.now() + 60_000;
      while (!out.includes(`Unknown command: ${marker}.`, from)) {
        if (Date.now() > deadline || c.exitCode !== null) throw new Error(`No answer to "${q}". Output so far:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return out.slice(from, out.indexOf(`Unknown command: ${marker}.`, from));
    };

    const before = await ask(QUESTION);
    expect(before).not.toContain('Ingrid Solberg');

    writeFiles(path.join(dir, 'articles'), { 'chess.md': CHESS });
    expect(await indexInAnotherProcess(dir)).toMatch(/1 added/);
    const published = Date.now();
    let after = '';
    // The bot polls once a second; a few seconds is the promise, 15 s leaves room for a loaded machine.
    while (Date.now() - published < 15_000) {
      after = await ask(QUESTION);
      if (after.includes('Ingrid Solberg')) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    console.log(`Picked up the new generation ${Date.now() - published} ms after the other process published it.`);
    expect(after).toContain('Ingrid Solberg');
    expect(after).toMatch(/Sources:\n\[1\] Ingrid Solberg wins the Tromsø chess open \(2024-07-02\)/);
    expect(c.exitCode).toBeNull();
  });

  it('the Telegram bot (npm start with a token) answers from an article indexed by another process', async () => {
    const dir = newRoot();
    root = dir;
    await indexInAnotherProcess(dir);
    // The emulator and its proxy, without the harness's own bot: the bot is the CLI's `start`, in a child process.
    const h = await TelegramHarness.start({ answerer: new FakeAnswerer(), library: new FakeLibrary() });
    harness = h;
    await h.handle.stop();
    const botEnv = { ...env(dir), TELEGRAM_BOT_TOKEN: FAKE_TOKEN, TELEGRAM_API_ROOT: h.apiRoot, RATE_LIMIT_PER_MINUTE: '100' };
    const c = spawn(process.execPath, ['--import', TSX, MAIN, 'start'], { env: botEnv, cwd: dir });
    child = c;
    let log = '';
    c.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const chat = h.privateChat(9001);
    const ask = async (): Promise<string> => {
      await chat.send(QUESTION);
      const [reply] = await chat.waitForReplies(1, 60_000).catch((err: Error) => {
        throw new Error(`${err.message}\nBot log:\n${log}`);
      });
      return textOf(reply!);
    };

    expect(await ask()).not.toContain('Ingrid Solberg');
    writeFiles(path.join(dir, 'articles'), { 'chess.md': CHESS });
    await indexInAnotherProcess(dir);
    const published = Date.now();
    let answer = '';
    while (Date.now() - published < 15_000) {
      answer = await ask();
      if (answer.includes('Ingrid Solberg')) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(answer).toContain('Ingrid Solberg');
    expect(answer).toMatch(/Sources\n\[1\] Ingrid Solberg wins the Tromsø chess open/);
    expect(log).toContain('"event":"index.followed"');
    expect(c.exitCode).toBeNull();
  });

  it('finishes a search in flight across the switch on the old index, then closes the old one', async () => {
    const dir = newRoot();
    root = dir;
    const a = await testApp(dir);
    app = a;
    await a.library.ensure();
    const old = a.library.reader()!;
    writeFiles(path.join(dir, 'articles'), { 'chess.md': CHESS });
    await indexInAnotherProcess(dir);

    // The retriever takes the reader as the search starts (before its first await, the query embedding).
    const inFlight = a.retriever.retrieve('Who is Kolokoltsev meeting at the UN?');
    expect(await a.library.refresh()).toBe(true);
    expect(a.library.reader()).not.toBe(old);
    const result = await inFlight;
    expect(result.passages[0]?.title).toMatch(/Kolokoltsev/);
    // The last search using the old generation has finished: its database handle is closed.
    expect(() => old.listArticles(0, 1)).toThrow(/not open/);

    expect(await a.library.refresh()).toBe(false);
    expect(a.library.stats().articles).toBe(2);
    const answer = await a.answerer.ask(QUESTION, []);
    expect(answer.citations[0]?.title).toBe('Ingrid Solberg wins the Tromsø chess open');
  });
});
