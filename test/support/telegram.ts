/**
 * End-to-end harness for the Telegram bot.
 *
 * `telegram-test-api` (the Bot API emulator) runs on 127.0.0.1; the bot talks to
 * a small proxy in front of it, which passes most methods through and fills in
 * what the emulator lacks, the way Telegram behaves:
 * - `getUpdates` long-polls (the emulator answers at once, which would spin);
 * - `sendMessageDraft`, `getFile` and file downloads are implemented and recorded;
 * - `editMessageText` checks the message exists and really changes, returns the message;
 * - HTML messages are parsed strictly (test/support/telegram-html.ts) and refused
 *   with Telegram's 400 "can't parse entities" when they would not parse;
 * - socket faults cut a call's connection before any response (`reset`) or in the middle of
 *   one (`torn`), the way a flaky network does;
 * - every call is recorded, so tests can see attempts that failed (sendChatAction,
 *   setMyCommands stay unsupported and fail, as they do in the emulator).
 * Tests act as users through `privateChat()` / `groupChat()` handles.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Transformer } from 'grammy';
import type pg from 'pg';
import { TelegramServer } from 'telegram-test-api/lib/telegramServer.js';
import { type BotHandle, type BotLibrary, type BotTuning, createBot } from '../../src/bot/index.js';
import { pgBotState } from '../../src/bot/pg-state.js';
import { type BotState, type StateSettings, sqliteBotState } from '../../src/bot/stores.js';
import type { Config } from '../../src/config/index.js';
import type { BotDesk } from '../../src/bot/desk.js';
import type { TopicAlerts } from '../../src/alerts/index.js';
import type { FeedPoller } from '../../src/feeds/index.js';
import type { ArticleSearch } from '../../src/search/index.js';
import type { Transcriber } from '../../src/transcription/index.js';
import type { QuestionAnswerer } from '../../src/types.js';
import { createLogger } from '../../src/util/log.js';
import { checkTelegramHtml, visibleText } from './telegram-html.js';

/** A recognisable fake token: tests scan logs and messages for it. */
export const FAKE_TOKEN = '987654321:FAKE-TOKEN-do-not-log-abcdefghijklmnop';
/** The emulator's bot identity (its getMe answer). */
export const BOT = { id: 666, username: 'TestNameBot', first_name: 'Test First name', is_bot: true } as const;

type TelegramConfig = Config['telegram'];
type Json = Record<string, unknown>;
type ApiResponse = { status: number; body: Json };
/**
 * A network fault: `reset` destroys the connection before the call reaches the emulator and before
 * any response; `torn` lets the call through, then sends the response's headers and half its body
 * and destroys the connection (Telegram did the work, the bot never learns the result).
 */
export type SocketFault = 'reset' | 'torn';

/** One request the bot made to the Bot API. */
export interface ApiCall {
  method: string;
  payload: Json;
  ok: boolean;
  /** Error description when the call failed. */
  error?: string;
  /** When the response was sent (ms since epoch). */
  at: number;
}

/** A message the bot sent, with its edits. */
export interface BotMessage {
  message_id: number;
  chat_id: number;
  /** Current text (after edits). */
  text: string;
  parse_mode?: string;
  reply_markup?: { inline_keyboard: { text: string; callback_data?: string }[][] };
  reply_to?: number;
  /** Every text the message has had, first to last. */
  versions: string[];
  deleted: boolean;
}

/** A message draft the bot streamed. */
export interface Draft {
  chat_id: number;
  draft_id: number;
  text: string;
}

/** An uploaded document as the harness serves it through getFile and the file URL. */
export interface HostedFile {
  fileId: string;
  fileName: string;
  bytes: Uint8Array;
  /** The size getFile reports when it differs from the real one (a lying client); served without Content-Length. */
  reportedSize?: number;
}

/** How to set up one harness. */
export interface HarnessOptions {
  answerer: QuestionAnswerer;
  library: BotLibrary;
  config?: Partial<TelegramConfig>;
  /** Upload and fetch limits (defaults: the product's). */
  intake?: Partial<Config['intake']>;
  /** Conversation turns the bot's state keeps (HISTORY_TURNS; default 6). */
  historyTurns?: number;
  token?: string;
  tuning?: Partial<BotTuning>;
  /** API transformers installed on the bot before it starts (fault injection, observation). */
  transformers?: Transformer[];
  /** Methods the proxy must not implement: they go to the emulator, which refuses them. */
  unsupported?: string[];
  /** Reuse a state directory (restart tests); a temporary one otherwise. */
  stateDir?: string;
  /** Feed polling the bot runs (started and stopped with it). */
  feeds?: FeedPoller;
  /** Keep the bot's state in this PostgreSQL pool (migrated) instead of the state directory. */
  database?: pg.Pool;
  /** Open the bot's state with this instead (an app's `state.bot`, as the bot command does). */
  botState?: (settings: StateSettings) => BotState;
  /** Topic alerts the bot matches and delivers. */
  alerts?: TopicAlerts;
  /** Inline-mode search. */
  search?: ArticleSearch;
  /** The editors' desk (question log, feedback, /gaps). */
  desk?: BotDesk;
  /** Speech-to-text for voice questions. */
  transcriber?: Transcriber | null;
}

/** Telegram config with the product defaults, pointed at `apiRoot`. */
export function telegramConfig(apiRoot: string, overrides: Partial<TelegramConfig> = {}): TelegramConfig {
  return {
    token: FAKE_TOKEN,
    apiRoot,
    adminUserIds: [],
    allowedUserIds: [],
    allowedChatIds: [],
    webhookUrl: undefined,
    webhookSecret: undefined,
    webhookPort: 8080,
    webhookHost: '127.0.0.1',
    maxQuestionChars: 1000,
    rateLimitPerMinute: 100,
    conversationTtlMinutes: 120,
    ...overrides,
  };
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function readBody(req: http.IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if (!raw) return {};
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  return JSON.parse(raw) as Json;
}

const ok = (result: unknown): ApiResponse => ({ status: 200, body: { ok: true, result } });
const bad = (description: string, code = 400): ApiResponse => ({ status: code, body: { ok: false, error_code: code, description } });

/** The running emulator, proxy and bot, plus everything they recorded. */
export class TelegramHarness {
  /** Every Bot API call the bot made, in order. */
  readonly calls: ApiCall[] = [];
  /** Every log line the bot wrote (raw JSON). */
  readonly logs: string[] = [];
  readonly drafts: Draft[] = [];
  /** Bot messages by `${chat}:${id}`. */
  readonly messages = new Map<string, BotMessage>();
  /** File paths the bot downloaded. */
  readonly downloads: string[] = [];
  /** Answers the bot gave to inline queries (answerInlineQuery payloads), in order. */
  readonly inlineAnswers: Json[] = [];
  /** Faults consulted before every call; return a response to replace the real one. */
  readonly faults: ((method: string, payload: Json) => ApiResponse | undefined)[] = [];
  /** Network faults consulted before `faults`; return one to break this call's connection. */
  readonly socketFaults: ((method: string, payload: Json) => SocketFault | undefined)[] = [];
  handle!: BotHandle;
  private running: Promise<void> | undefined;
  private readonly files = new Map<string, HostedFile>();
  private readonly listeners = new Set<() => void>();
  private fileCounter = 0;
  /** Updates the emulator cannot produce (inline queries), delivered with the next getUpdates. */
  private readonly injected: Json[] = [];
  private readonly injectedWaiters = new Set<() => void>();
  private ownsStateDir: boolean;

  private constructor(
    readonly emulator: TelegramServer,
    private readonly proxy: http.Server,
    readonly apiRoot: string,
    private options: HarnessOptions,
    readonly stateDir: string,
  ) {
    this.ownsStateDir = options.stateDir === undefined;
  }

  /**
   * The emulator and the proxy only, for bots running as separate processes pointed at `apiRoot`
   * (replica tests): users talk through `privateChat()` as usual.
   */
  static async forProcesses(): Promise<TelegramHarness> {
    const emulator = await startEmulator();
    const proxy = http.createServer();
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    const apiRoot = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bot-state-'));
    const harness = new TelegramHarness(emulator, proxy, apiRoot, {} as HarnessOptions, stateDir);
    proxy.on('request', (req, res) => void harness.serve(req, res));
    return harness;
  }

  /** Starts the emulator, the proxy and the bot (long polling), and waits until it polls. */
  static async start(options: HarnessOptions): Promise<TelegramHarness> {
    const emulator = await startEmulator();
    const proxy = http.createServer();
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    const apiRoot = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    const stateDir = options.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'bot-state-'));
    const harness = new TelegramHarness(emulator, proxy, apiRoot, options, stateDir);
    proxy.on('request', (req, res) => void harness.serve(req, res));
    await harness.startBot();
    return harness;
  }

  /** The bot token the bot and the emulator use. */
  get token(): string {
    return this.options.token ?? FAKE_TOKEN;
  }

  /** The config the bot runs with. */
  get config(): TelegramConfig {
    return telegramConfig(this.apiRoot, { token: this.token, ...this.options.config });
  }

  /** Creates and starts a bot against the proxy with the current options. */
  private async startBot(): Promise<void> {
    const log = createLogger('debug', [], (line) => this.logs.push(line));
    this.handle = createBot({
      token: this.token,
      config: this.config,
      intake: { maxUploadBytes: 20_000_000, fetchTimeoutMs: 15_000, ...this.options.intake },
      state: (bot) => {
        const settings = { ...bot, historyTurns: this.options.historyTurns ?? 6 };
        const database = this.options.database;
        if (this.options.botState) return this.options.botState(settings);
        return database ? pgBotState(database, settings) : sqliteBotState(this.stateDir, settings);
      },
      answerer: this.options.answerer,
      library: this.options.library,
      logger: log,
      secrets: [],
      tuning: { shutdownTimeoutMs: 3000, ...this.options.tuning },
      ...(this.options.feeds ? { feeds: this.options.feeds } : {}),
      ...(this.options.alerts ? { alerts: this.options.alerts } : {}),
      ...(this.options.search ? { search: this.options.search } : {}),
      ...(this.options.desk ? { desk: this.options.desk } : {}),
      ...(this.options.transcriber ? { transcriber: this.options.transcriber } : {}),
    });
    for (const t of this.options.transformers ?? []) this.handle.bot.api.config.use(t);
    this.running = this.handle.start();
    await Promise.race([this.handle.ready, this.running]);
  }

  /** Stops the bot and starts a fresh one on the same state directory (and optionally new options). */
  async restartBot(changes: Partial<HarnessOptions> = {}): Promise<void> {
    await this.handle.stop();
    await this.running;
    this.options = { ...this.options, ...changes };
    await this.startBot();
  }

  /** Stops the bot, proxy and emulator and removes the temporary state directory. */
  async stop(): Promise<void> {
    if (this.handle) {
      await this.handle.stop();
      await this.running;
    }
    this.proxy.closeAllConnections();
    await new Promise<void>((resolve) => this.proxy.close(() => resolve()));
    await this.emulator.stop();
    if (this.ownsStateDir) fs.rmSync(this.stateDir, { recursive: true, force: true });
  }

  /** A private chat with user `userId`. */
  privateChat(userId: number, firstName = `User${userId}`, languageCode?: string): ChatHandle {
    const user = { id: userId, first_name: firstName, ...(languageCode ? { language_code: languageCode } : {}) };
    return new ChatHandle(this, { id: userId, type: 'private', first_name: firstName }, user);
  }

  /** User `userId` in group `chatId` (negative id, as Telegram's). */
  groupChat(chatId: number, userId: number, title = 'Test group'): ChatHandle {
    return new ChatHandle(this, { id: chatId, type: 'supergroup', title }, { id: userId, first_name: `User${userId}` });
  }

  /** Makes a file available through getFile and the file URL; returns its file_id. */
  hostFile(fileName: string, bytes: Uint8Array, reportedSize?: number): string {
    const fileId = `file-${++this.fileCounter}`;
    this.files.set(fileId, {
      fileId,
      fileName,
      bytes,
      ...(reportedSize !== undefined && reportedSize !== bytes.byteLength ? { reportedSize } : {}),
    });
    return fileId;
  }

  /** Calls of one method. */
  callsOf(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Bot messages in a chat, oldest first. */
  messagesIn(chatId: number): BotMessage[] {
    return [...this.messages.values()].filter((m) => m.chat_id === chatId && !m.deleted).sort((a, b) => a.message_id - b.message_id);
  }

  /** Parsed log records. */
  logEvents(): { level: string; event: string; [k: string]: unknown }[] {
    return this.logs.map((l) => JSON.parse(l) as { level: string; event: string });
  }

  /** Resolves when `check` returns a value (re-checked on every bot action), or rejects after `timeoutMs`. */
  async waitUntil<T>(check: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    const first = check();
    if (first) return first;
    return new Promise<T>((resolve, reject) => {
      const listener = () => {
        const v = check();
        if (!v) return;
        cleanup();
        resolve(v);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `Timed out after ${timeoutMs} ms waiting for ${what}. Calls: ${this.calls.map((c) => c.method + (c.ok ? '' : '!')).join(', ')}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      this.listeners.add(listener);
    });
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  // ---------------------------------------------------------------- proxy

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.apiRoot);
    const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (file) return this.serveFile(file[1]!, decodeURIComponent(file[2]!), res);
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    const [, token, method] = m as unknown as [string, string, string];
    let payload: Json;
    try {
      payload = await readBody(req);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const socketFault = this.socketFaults.map((f) => f(method, payload)).find((r) => r !== undefined);
    if (socketFault) return this.breakConnection(socketFault, token, method, payload, res);
    let response: ApiResponse;
    try {
      response =
        this.faults.map((f) => f(method, payload)).find((r) => r !== undefined) ?? (await this.dispatch(token, method, payload, res));
    } catch (err) {
      response = bad(`Harness error: ${(err as Error).message}`, 500);
    }
    if (!res.destroyed) res.writeHead(response.status, { 'content-type': 'application/json' }).end(JSON.stringify(response.body));
    if (method !== 'getUpdates' || response.body.ok !== true || (response.body.result as unknown[]).length > 0) {
      const error =
        response.body.ok === true ? undefined : String(response.body.description ?? response.body.message ?? `HTTP ${response.status}`);
      this.calls.push({ method, payload, ok: response.body.ok === true, at: Date.now(), ...(error ? { error } : {}) });
    }
    this.notify();
  }

  /** Applies a socket fault to one call (see `SocketFault`) and records the call as failed. */
  private async breakConnection(fault: SocketFault, token: string, method: string, payload: Json, res: http.ServerResponse): Promise<void> {
    if (fault === 'reset') {
      res.socket?.destroy();
    } else {
      const body = JSON.stringify((await this.dispatch(token, method, payload, res)).body);
      // Chunked, as node-fetch notices a chunked body breaking off (with a Content-Length it waits for the rest).
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(body.slice(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
    }
    this.calls.push({ method, payload, ok: false, at: Date.now(), error: `connection ${fault}` });
    this.notify();
  }

  private async dispatch(token: string, method: string, payload: Json, res: http.ServerResponse): Promise<ApiResponse> {
    if (token !== this.token) return bad('Unauthorized', 401);
    const own = !(this.options.unsupported ?? []).includes(method);
    if (own) {
      switch (method) {
        case 'getUpdates':
          return this.getUpdates(token, payload, res);
        case 'sendMessage':
          return this.sendMessage(token, payload);
        case 'editMessageText':
          return this.editMessageText(token, payload);
        case 'editMessageReplyMarkup':
          return this.editReplyMarkup(payload);
        case 'deleteMessage':
          return this.deleteMessage(payload);
        case 'sendMessageDraft':
          return this.sendMessageDraft(payload);
        case 'getFile':
          return this.getFile(payload);
        case 'answerCallbackQuery':
          return ok(true);
        case 'answerInlineQuery':
          return this.answerInlineQuery(payload);
      }
    }
    return this.forward(token, method, payload);
  }

  private async forward(token: string, method: string, payload: Json): Promise<ApiResponse> {
    const res = await fetch(`${this.emulator.config.apiURL}/bot${token}/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    const body = (await res.json()) as Json;
    return { status: res.status, body };
  }

  private async getUpdates(token: string, payload: Json, res: http.ServerResponse): Promise<ApiResponse> {
    const pending = () => this.emulator.getUpdates(token);
    const hasUnread = () => this.injected.length > 0 || this.emulator.storage.userMessages.some((u) => u.botToken === token && !u.isRead);
    let abandoned = false;
    if (!hasUnread()) {
      // Long polling, capped so that stopping the bot is quick.
      const waitMs = Math.min(Number(payload.timeout ?? 0) * 1000, 500);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          for (const e of USER_EVENTS) this.emulator.off(e, done);
          this.injectedWaiters.delete(done);
          res.off('close', onClose);
          resolve();
        };
        const onClose = () => {
          abandoned = true;
          done();
        };
        const timer = setTimeout(done, waitMs);
        for (const e of USER_EVENTS) this.emulator.on(e, done);
        this.injectedWaiters.add(done);
        res.on('close', onClose);
      });
    }
    // A poll the bot already abandoned must not mark updates as read, or they would be lost.
    if (abandoned || res.destroyed) return ok([]);
    return ok([...pending(), ...this.injected.splice(0)]);
  }

  /**
   * Sends an inline query from `userId` (the emulator has no inline mode) and resolves with the
   * bot's answerInlineQuery payload.
   */
  async inlineQuery(userId: number, query: string, timeoutMs = 10_000): Promise<Json> {
    const id = `iq-${++this.fileCounter}`;
    // Update ids must keep rising across emulator and injected updates.
    const emulator = this.emulator as unknown as { updateId: number };
    this.injected.push({
      update_id: emulator.updateId++,
      inline_query: { id, from: { id: userId, is_bot: false, first_name: `User${userId}` }, query, offset: '', chat_type: 'sender' },
    });
    for (const wake of [...this.injectedWaiters]) wake();
    return this.waitUntil(
      () => this.inlineAnswers.find((a) => a.inline_query_id === id),
      timeoutMs,
      `the answer to inline query "${query}"`,
    );
  }

  /** answerInlineQuery, checked like Telegram: at most 50 results, unique ids of at most 64 bytes, valid message HTML. */
  private answerInlineQuery(payload: Json): ApiResponse {
    const results = (payload.results ?? []) as { id: string; input_message_content?: { message_text: string; parse_mode?: string } }[];
    if (results.length > 50) return bad('Bad Request: too many inline query results');
    const ids = new Set(results.map((r) => r.id));
    if (ids.size !== results.length || results.some((r) => Buffer.byteLength(r.id) > 64)) return bad('Bad Request: RESULT_ID_INVALID');
    for (const r of results) {
      const content = r.input_message_content;
      if (content?.parse_mode === 'HTML' && !checkTelegramHtml(content.message_text).ok) {
        return bad("Bad Request: can't parse entities in inline result");
      }
    }
    this.inlineAnswers.push(payload);
    return ok(true);
  }

  private validate(payload: Json): string | undefined {
    const text = String(payload.text ?? '');
    if (payload.parse_mode === 'HTML') {
      const r = checkTelegramHtml(text);
      if (!r.ok) return `Bad Request: can't parse entities: ${r.error}`;
      if (r.text.length > 4096) return 'Bad Request: message is too long';
      if (!r.text.trim()) return 'Bad Request: message text is empty';
      return undefined;
    }
    if (text.length > 4096) return 'Bad Request: message is too long';
    if (!text.trim()) return 'Bad Request: message text is empty';
    return undefined;
  }

  private async sendMessage(token: string, payload: Json): Promise<ApiResponse> {
    const invalid = this.validate(payload);
    if (invalid) return bad(invalid);
    const res = await this.forward(token, 'sendMessage', payload);
    if (res.body.ok !== true) return res;
    const result = res.body.result as { message_id: number };
    const chatId = Number(payload.chat_id);
    const replyParams = payload.reply_parameters as { message_id?: number } | undefined;
    const text = String(payload.text);
    this.messages.set(`${chatId}:${result.message_id}`, {
      message_id: result.message_id,
      chat_id: chatId,
      text,
      ...(typeof payload.parse_mode === 'string' ? { parse_mode: payload.parse_mode } : {}),
      ...(payload.reply_markup ? { reply_markup: payload.reply_markup as BotMessage['reply_markup'] } : {}),
      ...(replyParams?.message_id !== undefined ? { reply_to: replyParams.message_id } : {}),
      versions: [text],
      deleted: false,
    });
    return ok({ ...result, chat: { id: chatId, type: chatId > 0 ? 'private' : 'supergroup' }, from: BOT, text });
  }

  private async editMessageText(token: string, payload: Json): Promise<ApiResponse> {
    const msg = this.messages.get(`${Number(payload.chat_id)}:${Number(payload.message_id)}`);
    if (!msg || msg.deleted) return bad('Bad Request: message to edit not found');
    const invalid = this.validate(payload);
    if (invalid) return bad(invalid);
    const text = String(payload.text);
    const markup = payload.reply_markup as BotMessage['reply_markup'] | undefined;
    if (text === msg.text && payload.parse_mode === msg.parse_mode && JSON.stringify(markup) === JSON.stringify(msg.reply_markup)) {
      return bad(
        'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
      );
    }
    await this.forward(token, 'editMessageText', payload);
    msg.text = text;
    msg.versions.push(text);
    if (typeof payload.parse_mode === 'string') msg.parse_mode = payload.parse_mode;
    else delete msg.parse_mode;
    if (markup) msg.reply_markup = markup;
    else delete msg.reply_markup;
    return ok({ message_id: msg.message_id, chat: { id: msg.chat_id, type: msg.chat_id > 0 ? 'private' : 'supergroup' }, from: BOT, text });
  }

  private editReplyMarkup(payload: Json): ApiResponse {
    const msg = this.messages.get(`${Number(payload.chat_id)}:${Number(payload.message_id)}`);
    if (!msg) return bad('Bad Request: message to edit not found');
    if (payload.reply_markup) msg.reply_markup = payload.reply_markup as BotMessage['reply_markup'];
    else delete msg.reply_markup;
    return ok(true);
  }

  private deleteMessage(payload: Json): ApiResponse {
    const msg = this.messages.get(`${Number(payload.chat_id)}:${Number(payload.message_id)}`);
    if (!msg || msg.deleted) return bad("Bad Request: message can't be deleted");
    msg.deleted = true;
    return ok(true);
  }

  private sendMessageDraft(payload: Json): ApiResponse {
    const chatId = Number(payload.chat_id);
    if (!(chatId > 0)) return bad('Bad Request: drafts can be sent only to private chats');
    if (!Number(payload.draft_id)) return bad('Bad Request: draft_id must be non-zero');
    const text = String(payload.text ?? '');
    if (text.length > 4096) return bad('Bad Request: text is too long');
    this.drafts.push({ chat_id: chatId, draft_id: Number(payload.draft_id), text });
    return ok(true);
  }

  private getFile(payload: Json): ApiResponse {
    const file = this.files.get(String(payload.file_id));
    if (!file) return bad('Bad Request: invalid file_id');
    return ok({
      file_id: file.fileId,
      file_unique_id: `u-${file.fileId}`,
      file_size: file.reportedSize ?? file.bytes.byteLength,
      file_path: `documents/${file.fileId}/${file.fileName}`,
    });
  }

  private serveFile(token: string, filePath: string, res: http.ServerResponse): void {
    const fileId = /^documents\/([^/]+)\//.exec(filePath)?.[1];
    const file = fileId ? this.files.get(fileId) : undefined;
    this.downloads.push(filePath);
    if (token !== this.token || !file) {
      res.writeHead(404).end();
      return;
    }
    const length = file.reportedSize === undefined ? { 'content-length': file.bytes.byteLength } : {};
    res.writeHead(200, { 'content-type': 'application/octet-stream', ...length });
    // Several writes, so a capped download sees the size grow past its limit while streaming.
    const data = Buffer.from(file.bytes);
    for (let at = 0; at < data.length; at += 1024) res.write(data.subarray(at, at + 1024));
    res.end();
    this.notify();
  }
}

const USER_EVENTS = ['AddedUserMessage', 'AddedUserCommand', 'AddedUserCallbackQuery'] as const;

async function startEmulator(): Promise<TelegramServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    // storeTimeout is in seconds; an hour keeps the emulator's cleanup from racing slow tests.
    const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 3600 });
    try {
      await server.start();
      return server;
    } catch (err) {
      // Another process may take the port between probing and listening; try another.
      if (attempt >= 5) throw err;
    }
  }
}

/** What a user sends besides text. */
export interface SendExtra {
  /** The bot message (or id) this one replies to. */
  replyTo?: BotMessage | number;
  entities?: { type: string; offset: number; length: number }[];
}

/** One user in one chat: sends messages and reads the bot's replies. */
export class ChatHandle {
  private seen = 0;

  constructor(
    private readonly harness: TelegramHarness,
    readonly chat: { id: number; type: 'private' | 'supergroup'; first_name?: string; title?: string },
    readonly user: { id: number; first_name: string; language_code?: string },
  ) {}

  /** Sends a text message (a question, or a command when it starts with "/"). Returns its message id. */
  async send(text: string, extra: SendExtra = {}): Promise<number> {
    const entities =
      extra.entities ?? (text.startsWith('/') ? [{ type: 'bot_command', offset: 0, length: text.split(/\s/)[0]!.length }] : undefined);
    return this.post({ text, ...(entities ? { entities } : {}), ...this.replyFields(extra.replyTo) });
  }

  /** Uploads a document; with `bytes` the file is downloadable, `fileSize` overrides the size Telegram reports. */
  async sendDocument(doc: {
    fileName: string;
    bytes?: Uint8Array;
    fileSize?: number;
    mimeType?: string;
    caption?: string;
  }): Promise<number> {
    const fileId = doc.bytes ? this.harness.hostFile(doc.fileName, doc.bytes, doc.fileSize) : `missing-${doc.fileName}`;
    return this.post({
      document: {
        file_id: fileId,
        file_unique_id: `u-${fileId}`,
        file_name: doc.fileName,
        mime_type: doc.mimeType ?? 'application/octet-stream',
        file_size: doc.fileSize ?? doc.bytes?.byteLength ?? 0,
      },
      ...(doc.caption ? { caption: doc.caption } : {}),
    });
  }

  /**
   * Sends a voice note (or, with `asAudio`, an audio file) whose bytes the bot can download
   * through getFile; `duration` and `fileSize` are what Telegram reports.
   */
  async sendVoice(voice: {
    bytes: Uint8Array;
    duration: number;
    fileSize?: number;
    asAudio?: boolean;
    replyTo?: BotMessage | number;
  }): Promise<number> {
    const name = voice.asAudio ? 'question.ogg' : 'voice.ogg';
    const fileId = this.harness.hostFile(name, voice.bytes, voice.fileSize);
    const media = {
      file_id: fileId,
      file_unique_id: `u-${fileId}`,
      duration: voice.duration,
      mime_type: 'audio/ogg',
      file_size: voice.fileSize ?? voice.bytes.byteLength,
    };
    return this.post({
      ...(voice.asAudio ? { audio: { ...media, file_name: name } } : { voice: media }),
      ...this.replyFields(voice.replyTo),
    });
  }

  /** Sends a sticker (a non-text message). */
  async sendSticker(): Promise<number> {
    return this.post({
      sticker: {
        file_id: 'sticker-1',
        file_unique_id: 'us-1',
        type: 'regular',
        width: 512,
        height: 512,
        is_animated: false,
        is_video: false,
      },
    });
  }

  /** Taps an inline button of a bot message. */
  async tap(message: BotMessage, buttonText: string): Promise<void> {
    const button = message.reply_markup?.inline_keyboard.flat().find((b) => b.text === buttonText);
    if (!button?.callback_data) throw new Error(`No button "${buttonText}" on message ${message.message_id}`);
    await this.tapData(message, button.callback_data);
  }

  /** Sends a callback query with arbitrary data for a bot message. */
  async tapData(message: BotMessage, data: string): Promise<void> {
    await this.emulatorPost('/sendCallback', {
      botToken: this.harness.token,
      date: Math.floor(Date.now() / 1000),
      from: { ...this.user, is_bot: false },
      // As Telegram does, the pressed message comes with its current buttons.
      message: {
        message_id: message.message_id,
        chat: this.chat,
        from: BOT,
        date: Math.floor(Date.now() / 1000),
        text: message.text,
        ...(message.reply_markup ? { reply_markup: message.reply_markup } : {}),
      },
      data,
    });
  }

  /** Bot messages in this chat, oldest first. */
  get messages(): BotMessage[] {
    return this.harness.messagesIn(this.chat.id);
  }

  /** Waits for `n` bot messages newer than those already returned by this method, and returns them. */
  async waitForReplies(n = 1, timeoutMs = 10_000): Promise<BotMessage[]> {
    const fresh = await this.harness.waitUntil(
      () => {
        const all = this.messages;
        return all.length >= this.seen + n ? all.slice(this.seen, this.seen + n) : undefined;
      },
      timeoutMs,
      `${n} replies in chat ${this.chat.id}`,
    );
    this.seen += n;
    return fresh;
  }

  /** Waits until a bot message in this chat satisfies `predicate` (on its current text), and returns it. */
  async waitFor(predicate: (m: BotMessage) => boolean, timeoutMs = 10_000, what = 'a matching message'): Promise<BotMessage> {
    return this.harness.waitUntil(() => this.messages.find(predicate), timeoutMs, what);
  }

  /** Like `waitFor`, but only among messages not seen yet; marks everything up to the match as seen. */
  async waitForNew(predicate: (m: BotMessage) => boolean, timeoutMs = 10_000, what = 'a matching new message'): Promise<BotMessage> {
    const found = await this.harness.waitUntil(() => this.messages.slice(this.seen).find(predicate), timeoutMs, what);
    this.seen = this.messages.indexOf(found) + 1;
    return found;
  }

  /** Asserts that no new bot message arrives within `ms`. */
  async expectNoReplies(ms: number): Promise<void> {
    await sleep(ms);
    const extra = this.messages.slice(this.seen);
    if (extra.length > 0) throw new Error(`Expected no replies, got: ${extra.map((m) => JSON.stringify(m.text)).join(', ')}`);
  }

  /** Marks every message so far as seen. */
  skipSeen(): void {
    this.seen = this.messages.length;
  }

  private replyFields(replyTo: BotMessage | number | undefined): Json {
    if (replyTo === undefined) return {};
    const id = typeof replyTo === 'number' ? replyTo : replyTo.message_id;
    const text = typeof replyTo === 'number' ? '' : replyTo.text;
    return { reply_to_message: { message_id: id, from: BOT, chat: this.chat, date: Math.floor(Date.now() / 1000), text } };
  }

  private async post(fields: Json): Promise<number> {
    await this.emulatorPost('/sendMessage', {
      botToken: this.harness.token,
      date: Math.floor(Date.now() / 1000),
      from: { ...this.user, is_bot: false },
      chat: this.chat,
      ...fields,
    });
    const last = this.harness.emulator.storage.userMessages[this.harness.emulator.storage.userMessages.length - 1];
    return last?.messageId ?? -1;
  }

  private async emulatorPost(route: string, body: Json): Promise<void> {
    const res = await fetch(`${this.harness.emulator.config.apiURL}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`Emulator refused ${route}: HTTP ${res.status}`);
  }
}

/** Plain visible text of a bot message (HTML parsed). */
export function textOf(m: BotMessage): string {
  return visibleText(m.text, m.parse_mode);
}
