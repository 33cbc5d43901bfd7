/**
 * Shared set-up for the hardening tests: the bot over the REAL stack (fixture embedding model,
 * a real index in a temp folder, the real retriever and answerer talking to the fake OpenAI
 * server, the Telegram emulator harness), plus ways to reach the bot with what the harness's
 * users cannot send (photos, voice, forwards, edited messages, channel posts) and checks that
 * every outgoing payload is something Telegram would accept.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createApp, type App } from '../../src/app.js';
import { secretsOf } from '../../src/config/index.js';
import { createLogger } from '../../src/util/log.js';
import { CORPUS } from '../support/corpus.js';
import { startFakeOpenAI, type FakeHandler, type FakeOpenAI } from '../support/fake-openai.js';
import { tempDir, testConfig, writeFiles } from '../support/stack.js';
import { TelegramHarness, type ApiCall, type ChatHandle, type HarnessOptions } from '../support/telegram.js';
import { checkTelegramHtml } from '../support/telegram-html.js';

/** Telegram refuses text that is not valid UTF-8, which is what a lone surrogate becomes. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What `startStack` builds. */
export interface Stack {
  root: string;
  app: App;
  fake: FakeOpenAI;
  h: TelegramHarness;
  /** Every line the app (index, retrieval, answering) logged, through the production logger with secrets masked. */
  appLogs: string[];
  /** Files in the articles folder, relative, sorted. */
  articleFiles(): string[];
  stop(): Promise<void>;
}

/** Options for `startStack`. */
export interface StackOptions {
  /** Extra environment for the app config (LLM settings, limits). */
  env?: Record<string, string>;
  /** Articles besides the test corpus. */
  articles?: Record<string, string | Uint8Array>;
  /** Leave the test corpus out. */
  noCorpus?: boolean;
  handler?: FakeHandler;
  harness?: Omit<HarnessOptions, 'answerer' | 'library'>;
}

/** Builds the real stack in a temp folder and starts the bot against the emulator. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const root = tempDir('newsbot-hard-');
  const articlesDir = path.join(root, 'articles');
  fs.mkdirSync(articlesDir, { recursive: true });
  if (!options.noCorpus) writeFiles(articlesDir, CORPUS);
  if (options.articles) writeFiles(articlesDir, options.articles);
  const fake = await startFakeOpenAI(options.handler ? { handler: options.handler } : {});
  const config = testConfig(root, { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'sk-hardening-test-key-0000', ...options.env });
  const appLogs: string[] = [];
  // The production composition: the app logger masks the configured secrets (see src/cli/main.ts).
  const app = await createApp(
    config,
    createLogger('debug', secretsOf(config), (line) => appLogs.push(line)),
  );
  await app.library.ensure();
  const h = await TelegramHarness.start({ answerer: app.answerer, library: app.library, ...options.harness });
  return {
    root,
    app,
    fake,
    h,
    appLogs,
    articleFiles: () => listFiles(articlesDir),
    stop: async () => {
      await h.stop();
      await fake.close();
      app.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(path.join(dir, e.name), rel));
    else out.push(rel);
  }
  return out.sort();
}

/** Posts an arbitrary user message (photo, voice, forward…) into `chat` through the emulator, as a real client would. */
export async function postRaw(h: TelegramHarness, chat: ChatHandle, fields: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${h.emulator.config.apiURL}/sendMessage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      botToken: h.token,
      date: Math.floor(Date.now() / 1000),
      from: { ...chat.user, is_bot: false },
      chat: chat.chat,
      ...fields,
    }),
  });
  if (!res.ok) throw new Error(`Emulator refused the message: HTTP ${res.status}`);
}

let nextInjectedId = 900_000_000;

/**
 * Delivers hand-made updates (edited messages, channel posts: kinds the emulator cannot
 * produce) in the bot's next getUpdates answer, as Telegram would if it sent them.
 * Returns their update ids.
 */
export function injectUpdates(h: TelegramHarness, updates: Record<string, unknown>[]): number[] {
  let pending = updates.map((u) => ({ ...u, update_id: ++nextInjectedId }));
  const ids = pending.map((u) => u.update_id);
  h.faults.push((method) => {
    if (method !== 'getUpdates' || pending.length === 0) return undefined;
    const batch = pending;
    pending = [];
    return { status: 200, body: { ok: true, result: batch } };
  });
  return ids;
}

/** Waits until the bot has logged that it ignored update `id` (it logs every update it drops at debug level). */
export async function waitIgnored(h: TelegramHarness, id: number): Promise<void> {
  await h.waitUntil(
    () => h.logEvents().some((e) => e.event === 'bot.update_ignored' && e.update_id === id),
    10_000,
    `update ${id} to be ignored`,
  );
}

/** Why an outgoing text payload would be refused by Telegram, or null when it is fine. */
export function payloadProblem(call: Pick<ApiCall, 'method' | 'payload'>): string | null {
  const text = call.payload.text;
  if (typeof text !== 'string') return `${call.method} without text`;
  if (LONE_SURROGATE.test(text)) return `${call.method} text has a lone surrogate`;
  if (call.payload.parse_mode === 'HTML') {
    const r = checkTelegramHtml(text);
    if (!r.ok) return `${call.method} invalid HTML: ${r.error}`;
    if (r.text.length > 4096) return `${call.method} visible text over 4096 (${r.text.length})`;
    if (!r.text.trim()) return `${call.method} empty`;
    return null;
  }
  if (call.payload.parse_mode !== undefined) return `${call.method} unexpected parse_mode ${String(call.payload.parse_mode)}`;
  if (text.length > 4096) return `${call.method} plain text over 4096 (${text.length})`;
  if (!text.trim()) return `${call.method} empty`;
  return null;
}

/** Every sendMessage / editMessageText / sendMessageDraft the bot made that Telegram would refuse. */
export function badPayloads(h: TelegramHarness): string[] {
  return h.calls
    .filter((c) => c.method === 'sendMessage' || c.method === 'editMessageText' || c.method === 'sendMessageDraft')
    .map((c) => payloadProblem(c))
    .filter((p): p is string => p !== null);
}

/** Log events at error level, or update failures, the bot or app wrote (unexpected errors). */
export function unexpectedErrors(h: TelegramHarness): { event: string; [k: string]: unknown }[] {
  return h.logEvents().filter((e) => e.level === 'error' || e.event === 'bot.update_failed');
}

/** Nearest-rank percentile of `values` (0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Writes `data` as pretty JSON to `reports/<name>` (the folder is git-ignored). */
export function writeReport(name: string, data: unknown): string {
  const file = path.resolve('reports', name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}

/** A markdown table from rows of cells. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|').replace(/\n/g, ' ')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
