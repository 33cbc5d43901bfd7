/**
 * Try the Telegram bot without Telegram: `npm run try-bot`.
 *
 * Starts the Bot API emulator the tests use (the devDependency `telegram-test-api`, behind the
 * test harness's proxy, which adds what the emulator lacks: long polling, drafts, edits), then
 * the real bot (`src/cli/main.ts start`, with your .env and ARTICLES_DIR) pointed at it, and lets
 * you chat with it from the terminal as a fake Telegram user who is also an admin. You type
 * messages and commands as in Telegram; the bot's replies are printed with their buttons.
 *
 *   :tap N      tap button N of the latest message that has buttons
 *   :reply TEXT reply to the bot's latest message (continues from it, like Telegram's reply)
 *   :help       this list        :quit   stop (also Ctrl-D)
 *
 * Reads stdin line by line, so it can be scripted: `printf 'Who is Kolokoltsev meeting?\n' | npm run try-bot`.
 * The bot's JSON log goes to state/try-bot.log (or `--log FILE`; `--reply-timeout SECONDS` is how long to
 * wait for a reply, default 90); its state lives in a temporary
 * folder removed at the end, so these conversations never reach your real state. The index is the
 * configured INDEX_DIR, synced with ARTICLES_DIR as `npm start` does. Dev-only: needs the
 * devDependencies (npm install without --omit=dev).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BOT, type BotMessage, FAKE_TOKEN, TelegramHarness, textOf } from '../test/support/telegram.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const { values: options } = parseArgs({
  options: {
    log: { type: 'string', default: path.join('state', 'try-bot.log') },
    // A local model or LLM can be slow to write the first reply.
    'reply-timeout': { type: 'string', default: '90' },
  },
});
const USER_ID = 1001;
/** Longest wait for the bot's first reply to a message (`--reply-timeout SECONDS`). */
const REPLY_TIMEOUT_MS = Math.max(1, Number(options['reply-timeout']) || 90) * 1000;
/** The reply is complete once the bot has been quiet this long (answers stream edits about once a second). */
const QUIET_MS = 2000;
const HELP = `Type a question or a command (/start, /help, /sources, /stats, ...) as in Telegram.
  :tap N       tap button N of the latest message that has buttons
  :reply TEXT  reply to the bot's latest message
  :help        this list
  :quit        stop (also Ctrl-D)`;

const note = (s: string) => process.stderr.write(`${s}\n`);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'newsdesk-try-bot-'));
const logFile = path.resolve(options.log!);
fs.mkdirSync(path.dirname(logFile), { recursive: true });
const log = fs.createWriteStream(logFile, { flags: 'w' });

note('Starting the Telegram emulator and the bot…');
const harness = await TelegramHarness.forProcesses();
// The bot runs in this folder, as `npm start` would: its .env and relative paths apply.
const bot = spawn(process.execPath, ['--import', TSX, path.join(ROOT, 'src', 'cli', 'main.ts'), 'start'], {
  env: {
    ...process.env,
    TELEGRAM_BOT_TOKEN: FAKE_TOKEN,
    TELEGRAM_API_ROOT: harness.apiRoot,
    // Long polling against the emulator, whatever .env says about webhooks.
    WEBHOOK_URL: '',
    WEBHOOK_SECRET: '',
    ADMIN_USER_IDS: String(USER_ID),
    ALLOWED_USER_IDS: '',
    ALLOWED_CHAT_IDS: '',
    STATE_DIR: path.join(work, 'state'),
    LOG_FILE: '-',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let started = false;
let exited: number | null = null;
const onStarted: (() => void)[] = [];
const botExit = new Promise<void>((resolve) =>
  bot.once('exit', (code) => {
    exited = code ?? 1;
    resolve();
  }),
);
// JSON lines are the bot's log (to the file); anything else (the serving banner, notes) is for you.
readline.createInterface({ input: bot.stderr }).on('line', (line) => {
  if (!line.startsWith('{')) return note(`bot: ${line}`);
  log.write(`${line}\n`);
  try {
    const record = JSON.parse(line) as { event?: string; msg?: string };
    if (!started && (record.event === 'bot.started' || record.msg === 'bot.started')) {
      started = true;
      for (const f of onStarted.splice(0)) f();
    }
  } catch {}
});
bot.stdout.on('data', (d: Buffer) => process.stderr.write(d));

let code = 0;
try {
  await Promise.race([
    new Promise<void>((resolve) => onStarted.push(resolve)),
    botExit.then(() => {
      throw new Error(`The bot stopped before it started (exit code ${exited}); its log: ${logFile}`);
    }),
  ]);
  note(`Ready. You are user ${USER_ID} (an admin) in a private chat with @${BOT.username}. Log: ${logFile}`);
  note(HELP);
  await converse();
} catch (err) {
  note((err as Error).message);
  code = 1;
} finally {
  if (exited === null) {
    bot.kill('SIGTERM');
    await botExit;
  }
  await harness.stop();
  log.end();
  fs.rmSync(work, { recursive: true, force: true });
}
process.exit(code);

/** The conversation: one line of input at a time, each followed by the bot's complete reply. */
async function converse(): Promise<void> {
  const chat = harness.privateChat(USER_ID, 'You');
  const interactive = process.stdin.isTTY === true;
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: interactive });
  const prompt = () => interactive && rl.prompt();
  rl.setPrompt('you> ');
  // Ctrl-C ends the conversation like Ctrl-D: the bot and the emulator are stopped on the way out.
  process.once('SIGINT', () => rl.close());
  prompt();
  for await (const raw of rl) {
    const line = raw.trim();
    if (exited !== null) throw new Error(`The bot stopped (exit code ${exited}); its log: ${logFile}`);
    if (line === ':quit' || line === ':exit') break;
    if (line === '') {
      prompt();
      continue;
    }
    if (!interactive) process.stdout.write(`you> ${line}\n`);
    const before = snapshot(chat.messages);
    const action = await act(chat, line);
    if (action === 'help') process.stdout.write(`${HELP}\n`);
    else if (action !== 'none') {
      const changed = await settle(chat, before);
      printReply(chat.messages, before, changed);
    }
    prompt();
  }
  rl.close();
}

/** Does what a line asks; 'sent' when the bot should react. */
async function act(chat: ReturnType<TelegramHarness['privateChat']>, line: string): Promise<'sent' | 'help' | 'none'> {
  if (line === ':help') return 'help';
  const tap = /^:tap\s+(\d+)$/.exec(line);
  if (tap) {
    const message = [...chat.messages].reverse().find((m) => buttons(m).length > 0);
    const button = message ? buttons(message)[Number(tap[1]) - 1] : undefined;
    if (!message || !button) {
      process.stdout.write(`(no button ${tap[1]}; the latest buttons are shown as [1] [2] …)\n\n`);
      return 'none';
    }
    await chat.tap(message, button);
    return 'sent';
  }
  const reply = /^:reply\s+(.+)$/.exec(line);
  if (reply) {
    const last = chat.messages.at(-1);
    await chat.send(reply[1]!, last ? { replyTo: last } : {});
    return 'sent';
  }
  if (line.startsWith(':')) {
    process.stdout.write('(unknown : command; :help lists them)\n\n');
    return 'none';
  }
  await chat.send(line);
  return 'sent';
}

/** Each message's id and what it shows (text and buttons), to tell new and edited messages apart. */
function snapshot(messages: BotMessage[]): Map<number, string> {
  return new Map(messages.map((m) => [m.message_id, shown(m)]));
}

function shown(m: BotMessage): string {
  return `${m.text}\u0000${JSON.stringify(m.reply_markup ?? null)}`;
}

/** Waits for the first change, then until the bot has been quiet for QUIET_MS; returns whether anything changed. */
async function settle(chat: ReturnType<TelegramHarness['privateChat']>, before: Map<number, string>): Promise<boolean> {
  const changed = () => chat.messages.some((m) => before.get(m.message_id) !== shown(m));
  try {
    await harness.waitUntil(changed, REPLY_TIMEOUT_MS, 'a reply');
  } catch {
    return false;
  }
  let last = JSON.stringify([...snapshot(chat.messages)]);
  for (;;) {
    await new Promise((r) => setTimeout(r, QUIET_MS));
    const now = JSON.stringify([...snapshot(chat.messages)]);
    if (now === last) return true;
    last = now;
  }
}

function printReply(messages: BotMessage[], before: Map<number, string>, changed: boolean): void {
  if (!changed) {
    process.stdout.write(`(no reply within ${REPLY_TIMEOUT_MS / 1000} s)\n\n`);
    return;
  }
  for (const m of messages) {
    const was = before.get(m.message_id);
    if (was === shown(m)) continue;
    const label = was === undefined ? 'bot>' : 'bot (edited)>';
    process.stdout.write(`${label} ${textOf(m)}\n`);
    const names = buttons(m);
    if (names.length > 0) process.stdout.write(`     ${names.map((b, i) => `[${i + 1}] ${b}`).join('  ')}\n`);
  }
  process.stdout.write('\n');
}

function buttons(m: BotMessage): string[] {
  return (m.reply_markup?.inline_keyboard ?? []).flat().map((b) => b.text);
}
