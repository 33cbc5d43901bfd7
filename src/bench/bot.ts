/**
 * Bot overhead: the real bot in its own process, polling the Telegram Bot API emulator
 * (`telegram-test-api`) through a thin proxy, with an LLM that answers instantly. Simulated users
 * in 1, 10 and 100 private chats each send a question, wait for the answer and send the next.
 * Two loads per level: "saturated" (the next question goes out the moment the answer arrives,
 * which measures the most messages per second the bot can handle; latency there is mostly
 * queueing behind the other chats) and "paced" (users take about a second between answer and
 * next question, like fast humans, which measures the latency a user sees). Latency is the time
 * from an update entering the emulator to the bot's reply reaching it.
 *
 * The proxy fills in what the emulator lacks but Telegram has: long-polling `getUpdates` (the
 * emulator answers at once, which would make the bot spin) and the methods it does not know
 * (`sendMessageDraft`, `sendChatAction`, `setMyCommands`), which Telegram simply accepts.
 */
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { loadArticles } from '../articles/index.js';
import type { Config } from '../config/index.js';
import { approximateTokenCounter } from '../embedding/index.js';
import { indexArticles } from '../library/pipeline.js';
import type { Logger } from '../util/log.js';
import type { BotChildInput, BotChildMessage } from './bot-child.js';
import { forkTs, nextMessage } from './child.js';
import { startFakeLlm } from './fake-llm.js';
import { OtherCpuMeter } from './machine.js';
import { withScratchDatabase } from './pg-retrieval.js';
import { summarize, type Summary } from './stats.js';
import { errorMessage } from '../util/errors.js';

/** One load level. */
export interface BotRun {
  /** 'burst': every chat sends one question at the same moment (breaking news). */
  load: 'saturated' | 'paced' | 'burst';
  /** Mean pause between an answer and the next question (0 when saturated). */
  thinkMs: number;
  chats: number;
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  /** Update entering the emulator → the bot's reply reaching it, in ms. */
  latencyMs: Summary;
  /** Replies that were apologies or refusals (database busy, question queue full), or no reply within the timeout. */
  errors: number;
  /** The errors by kind: the reply's first words, or "no reply". */
  errorKinds: Record<string, number>;
  /** Cores other processes kept busy during the run (null off Linux). */
  otherCpuCores: number | null;
}

/** One bot configuration under load. */
export interface BotVariant {
  name: 'bot-only' | 'bot+answering';
  /** Where the index and the bot's state live: files, or PostgreSQL (`--database-url`). */
  store: 'embedded' | 'postgres';
  description: string;
  runs: BotRun[];
  /** Peak RSS of the bot process over all runs. */
  peakRssBytes: number | null;
}

/** Results of the bot section. */
export interface BotResult {
  status: 'ok';
  note: string;
  variants: BotVariant[];
}

/** A section that did not run, and why. */
export interface SectionUnavailable {
  status: 'not-available' | 'skipped' | 'failed';
  reason: string;
}

/** One concurrency level: how many chats, and how many questions each asks per load. */
export interface BotLevel {
  chats: number;
  saturated: number;
  paced: number;
}

/** What the bot benchmark needs. */
export interface BotBenchOptions {
  articlesDir: string;
  workDir: string;
  config: Config;
  /** Concurrent chats per run and the questions each chat asks under each load. */
  levels: BotLevel[];
  /** Mean think time of the paced load. */
  thinkMs: number;
  /** Chats that each send one question at the same moment, after the levels (0: no burst run). */
  burstChats: number;
  /** PostgreSQL server: the answering variant runs again with index and state in a scratch database there. */
  databaseUrl?: string;
  logger: Logger;
  note?: (line: string) => void;
}

const TOKEN = '123456789:BENCH-not-a-real-token';
const REPLY_TIMEOUT_MS = 60_000;
/** Replies that are not answers: the error boundary's apology, a database outage, a full question queue. */
const APOLOGY = /Sorry, something went wrong|The database is (busy|unreachable)|Many readers are asking right now/;

const DESCRIPTIONS: Record<BotVariant['name'], string> = {
  'bot-only': 'answerer returns a fixed cited answer at once: grammY, middleware, conversation state, formatting, Bot API calls',
  'bot+answering': 'real answerer: lexical retrieval over the articles + prompt + fake OpenAI-compatible server answering instantly',
};

/** Runs the bot benchmark, or says why it cannot. */
export async function benchBot(o: BotBenchOptions): Promise<BotResult | SectionUnavailable> {
  let TelegramServer: typeof import('telegram-test-api/lib/telegramServer.js').TelegramServer;
  try {
    ({ TelegramServer } = await import('telegram-test-api/lib/telegramServer.js'));
    const bot = (await import('../bot/index.js')) as { createBot?: unknown };
    if (typeof bot.createBot !== 'function') throw new Error('src/bot/index.ts does not export createBot');
  } catch (err) {
    return { status: 'not-available', reason: `The bot or the Telegram emulator cannot be loaded: ${firstLine(err)}` };
  }

  // A lexical-only index of the articles: query embedding is measured in the query section, and
  // including it here would hide the bot's own cost behind the model's.
  const indexDir = path.join(o.workDir, 'index');
  const loaded = await loadArticles(o.articlesDir, { maxFileBytes: o.config.intake.maxUploadBytes });
  await indexArticles({
    indexDir,
    loaded,
    embedder: null,
    counter: approximateTokenCounter,
    chunking: o.config.chunking,
    hnsw: o.config.hnsw,
    logger: o.logger,
  });
  const questions = loaded.articles.map((a) => `What is the latest news about ${a.title.replace(/[?!.]+$/, '')}?`);
  if (questions.length === 0) questions.push('What is the latest news?');

  const llm = await startFakeLlm();
  const emulator = new TelegramServer({ port: await freePort(), host: '127.0.0.1', storeTimeout: 3600 });
  await emulator.start();
  const side = new TelegramSide(emulator);
  const apiRoot = await side.listen();
  const variants: BotVariant[] = [];
  const plans: { name: BotVariant['name']; store: BotVariant['store'] }[] = [
    { name: 'bot-only', store: 'embedded' },
    { name: 'bot+answering', store: 'embedded' },
    ...(o.databaseUrl ? [{ name: 'bot+answering' as const, store: 'postgres' as const }] : []),
  ];
  try {
    for (const plan of plans) {
      const measure = (databaseUrl: string | undefined) =>
        measureVariant({ o, plan, indexDir, questions, apiRoot, llmBaseURL: llm.baseURL, side, databaseUrl });
      variants.push(
        plan.store === 'postgres' ? await withScratchDatabase(o.databaseUrl!, `${process.pid}_bot`, measure) : await measure(undefined),
      );
    }
  } finally {
    await side.close();
    await emulator.stop();
    await llm.close();
  }
  return {
    status: 'ok',
    note: `Burst: ${o.burstChats} chats each send one question at the same moment (wall time in "s"). Each simulated user asks its next question once the previous answer arrives: at once (saturated: the most messages per second; latency is mostly queueing behind other chats), or after 0.5–1.5 × ${o.thinkMs} ms (paced: the latency a user sees). Emulator, proxy and simulated users share the benchmark process; the bot runs in its own. Rate limit raised for the run. PostgreSQL: index and bot state in a scratch database, built by the bot process from the same articles.`,
    variants,
  };
}

/** Starts the bot process for one variant, warms it up, runs every load level and the burst, and stops it. */
async function measureVariant(v: {
  o: BotBenchOptions;
  plan: { name: BotVariant['name']; store: BotVariant['store'] };
  indexDir: string;
  questions: string[];
  apiRoot: string;
  llmBaseURL: string;
  side: TelegramSide;
  databaseUrl: string | undefined;
}): Promise<BotVariant> {
  const { o, plan, side, questions } = v;
  const { name, store } = plan;
  const label = store === 'postgres' ? `${name}, PostgreSQL` : name;
  const note = o.note ?? (() => {});
  const config: Config = {
    ...o.config,
    articlesDir: o.articlesDir,
    indexDir: v.indexDir,
    stateDir: path.join(o.workDir, `state-${name.replace(/\W/g, '')}-${store}`),
    embedding: { ...o.config.embedding, provider: 'none' },
    llm: { ...o.config.llm, apiKey: 'bench-fake-key', baseURL: v.llmBaseURL },
    database: { ...o.config.database, url: v.databaseUrl },
    telegram: {
      ...o.config.telegram,
      token: TOKEN,
      apiRoot: v.apiRoot,
      adminUserIds: [],
      allowedUserIds: [],
      allowedChatIds: [],
      webhookUrl: undefined,
      webhookSecret: undefined,
      // Each simulated user sends far more than a person would; the limiter would answer most with a warning.
      rateLimitPerMinute: 1_000_000,
    },
  };
  note(`bot: starting the bot (${label})…`);
  const child = forkTs(new URL('./bot-child.ts', import.meta.url));
  try {
    const input: BotChildInput = { mode: name, store, config, token: TOKEN, stateDir: config.stateDir };
    // PostgreSQL: the child indexes the articles into the scratch database first.
    const ready = nextMessage<BotChildMessage>(child, 600_000, 'the bot process');
    child.send({ input } as never);
    const first = await ready;
    if (first.type !== 'ready') throw new Error(first.type === 'error' ? first.error : 'unexpected message from the bot process');
    // Warm-up: the first answers pay for lazy initialisation (JIT, SQLite statements, HTTP connections).
    await side.runLoad(1, 3, 0, questions, 900_000);
    const runs: BotRun[] = [];
    let base = 0;
    const timed = async (load: BotRun['load'], chats: number, perChat: number, thinkMs: number) => {
      note(`bot: ${label}, ${chats} concurrent chat${chats === 1 ? '' : 's'}, ${load}…`);
      // Fresh chats per run, so conversation history does not carry over between runs.
      base += 100_000;
      const meter = new OtherCpuMeter(child.pid !== undefined ? [child.pid] : []);
      const run = await side.runLoad(chats, perChat, thinkMs, questions, base);
      runs.push({ ...run, load, otherCpuCores: meter.stop() });
    };
    for (const load of ['saturated', 'paced'] as const) {
      for (const level of o.levels) {
        if (level[load] > 0) await timed(load, level.chats, level[load], load === 'paced' ? o.thinkMs : 0);
      }
    }
    if (o.burstChats > 0) await timed('burst', o.burstChats, 1, 0);
    const stopped = nextMessage<BotChildMessage>(child, 60_000, 'the bot process');
    child.send({ type: 'stop' } as never);
    const last = await stopped;
    return {
      name,
      store,
      description: store === 'postgres' ? `${DESCRIPTIONS[name]}; index and bot state in PostgreSQL` : DESCRIPTIONS[name],
      runs,
      peakRssBytes: last.type === 'stopped' ? last.peakRssBytes : null,
    };
  } finally {
    stopChild(child);
  }
}

type Json = Record<string, unknown>;
interface Reply {
  at: number;
  text: string;
}

/** The Telegram side: proxy in front of the emulator, and the simulated users. */
class TelegramSide {
  private server: http.Server | null = null;
  private readonly waiting = new Map<number, (reply: Reply) => void>();

  constructor(private readonly emulator: import('telegram-test-api/lib/telegramServer.js').TelegramServer) {}

  /** Starts the proxy; returns the API root the bot should use. */
  async listen(): Promise<string> {
    const server = http.createServer((req, res) => {
      this.serve(req, res).catch((err: unknown) => {
        // The bot sees what Telegram would send for an internal failure; the run records it as an error reply or a timeout.
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        if (!res.writableEnded) res.end(JSON.stringify({ ok: false, error_code: 500, description: `Benchmark proxy: ${firstLine(err)}` }));
      });
    });
    server.keepAliveTimeout = 60_000;
    server.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    this.server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /**
   * `chats` users each ask `perChat` questions in turn, pausing a random 0.5–1.5 × `thinkMs`
   * before each (the first pause staggers the start); returns throughput and latency.
   */
  async runLoad(
    chats: number,
    perChat: number,
    thinkMs: number,
    questions: string[],
    baseId: number,
  ): Promise<Omit<BotRun, 'otherCpuCores'>> {
    const latencies: number[] = [];
    let errors = 0;
    const errorKinds: Record<string, number> = {};
    const started = performance.now();
    await Promise.all(
      Array.from({ length: chats }, async (_, c) => {
        const chatId = baseId + c + 1;
        for (let i = 0; i < perChat; i++) {
          if (thinkMs > 0) await sleep(thinkMs * (i === 0 ? Math.random() : 0.5 + Math.random()));
          const question = questions[(c * 7919 + i) % questions.length]!;
          const reply = this.expectReply(chatId);
          const t0 = performance.now();
          await this.emulator.addUserMessage({
            botToken: TOKEN,
            date: Math.floor(Date.now() / 1000),
            from: { id: chatId, first_name: `User${chatId}`, is_bot: false },
            chat: { id: chatId, type: 'private', first_name: `User${chatId}` },
            text: question,
          } as Parameters<typeof this.emulator.addUserMessage>[0]);
          const r = await reply;
          if (r === null || APOLOGY.test(r.text)) {
            errors++;
            const kind = r === null ? 'no reply' : r.text.split(/[.;(]/)[0]!;
            errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
          }
          if (r !== null) latencies.push(r.at - t0);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const messages = chats * perChat;
    return {
      load: thinkMs > 0 ? 'paced' : 'saturated',
      thinkMs,
      chats,
      messages,
      seconds,
      messagesPerSecond: messages / seconds,
      latencyMs: summarize(latencies),
      errors,
      errorKinds,
    };
  }

  private expectReply(chatId: number): Promise<Reply | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(chatId);
        resolve(null);
      }, REPLY_TIMEOUT_MS);
      this.waiting.set(chatId, (r) => {
        clearTimeout(timer);
        this.waiting.delete(chatId);
        resolve(r);
      });
    });
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    const [, token, method] = m as unknown as [string, string, string];
    const payload = await readJson(req);
    const answer = (status: number, body: unknown) => {
      if (!res.destroyed) res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    switch (method) {
      case 'getUpdates':
        answer(200, { ok: true, result: await this.poll(token, Number(payload.timeout ?? 0), res) });
        return;
      case 'sendMessageDraft':
      case 'sendChatAction':
      case 'setMyCommands':
      case 'deleteWebhook':
      case 'answerCallbackQuery':
        answer(200, { ok: true, result: true });
        return;
      case 'sendMessage': {
        // The reply counts as delivered when it reaches the API, as it would at Telegram.
        this.waiting.get(Number(payload.chat_id))?.({ at: performance.now(), text: String(payload.text ?? '') });
        break;
      }
    }
    const forwarded = await fetch(`${this.emulator.config.apiURL}/bot${token}/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    answer(forwarded.status, await forwarded.json());
  }

  /** Long polling: answers as soon as an update arrives, or empty after the timeout (capped so stopping is quick). */
  private async poll(token: string, timeoutSeconds: number, res: http.ServerResponse): Promise<unknown[]> {
    const unread = () => this.emulator.storage.userMessages.some((u) => u.botToken === token && !u.isRead);
    if (!unread()) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.emulator.off('AddedUserMessage', done);
          res.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(timeoutSeconds * 1000, 1000));
        this.emulator.on('AddedUserMessage', done);
        res.on('close', done);
      });
    }
    // A poll the bot gave up on must not mark updates as read, or they would be lost.
    if (res.destroyed || res.writableEnded) return [];
    return this.emulator.getUpdates(token);
  }
}

async function readJson(req: http.IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if (!raw) return {};
  if ((req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded'))
    return Object.fromEntries(new URLSearchParams(raw));
  return JSON.parse(raw) as Json;
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  s.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => s.once('listening', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function stopChild(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill();
}

function firstLine(err: unknown): string {
  return errorMessage(err).split('\n')[0] ?? '';
}
