/**
 * A PostgreSQL outage as a reader and an admin of one replica see it (issue #20): the replica
 * reaches the database through a TCP proxy that drops every connection (the shared test server is
 * never touched). The reader's path keeps working on what the replica has: the rate limit, the
 * conversation a follow-up needs and the question log go on without the database (one warn line
 * when the outage starts, one info line when the database is back), while an admin's `/add`
 * gets one clear line saying the database is away.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { OUTAGE_RETRY_MS } from '../../src/bot/outage-state.js';
import type { Logger } from '../../src/util/log.js';
import { BRIDGE_HTML } from '../support/cluster.js';
import { FlakyProxy } from '../support/flaky-proxy.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { CORPUS } from '../support/corpus.js';
import { tempDir, testApp, writeFiles } from '../support/stack.js';
import { FakeAnswerer } from '../support/telegram-fakes.js';
import { TelegramHarness, textOf } from '../support/telegram.js';

const ADMIN = 4711;
const LOG: { level: string; event: string; [k: string]: unknown }[] = [];
const logger: Logger = {
  debug: () => {},
  info: (event: string, fields?: Record<string, unknown>) => LOG.push({ level: 'info', event, ...fields }),
  warn: (event: string, fields?: Record<string, unknown>) => LOG.push({ level: 'warn', event, ...fields }),
  error: (event: string, fields?: Record<string, unknown>) => LOG.push({ level: 'error', event, ...fields }),
};

let db: TestDatabase;
let proxy: FlakyProxy;
let root: string;
let app: App;
let h: TelegramHarness;
/** The same replica's bot with the real answerer: it searches the replica's local copy of the index. */
let real: TelegramHarness;
let pages: http.Server;
let pageUrl: string;
const answerer = new FakeAnswerer();

beforeAll(async () => {
  db = await createTestDatabase();
  const front = await FlakyProxy.inFrontOf(db.url);
  proxy = front.proxy;
  root = tempDir('pg-outage-reader-');
  writeFiles(path.join(root, 'articles'), CORPUS);
  app = await testApp(root, { DATABASE_URL: front.url, DATABASE_CONNECT_TIMEOUT_MS: '2000', ALLOW_PRIVATE_URLS: 'true' }, logger);
  await app.library.ensure();
  pages = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(BRIDGE_HTML));
  pages.listen(0, '127.0.0.1');
  await once(pages, 'listening');
  pageUrl = `http://127.0.0.1:${(pages.address() as net.AddressInfo).port}/bridge`;
  h = await TelegramHarness.start({
    answerer,
    library: app.library,
    botState: app.state.bot,
    desk: { questions: app.desk, embedder: null },
    config: { adminUserIds: [ADMIN], rateLimitPerMinute: 3 },
  });
  real = await TelegramHarness.start({ answerer: app.answerer, library: app.library, botState: app.state.bot });
}, 120_000);

afterAll(async () => {
  await h?.stop();
  await real?.stop();
  app?.close();
  pages?.close();
  await proxy?.stop();
  await db?.drop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const reply = (chat: ReturnType<TelegramHarness['privateChat']>, what: string) =>
  chat.waitForNew((m) => !textOf(m).startsWith('…'), 20_000, what);

describe('a replica while PostgreSQL is away', () => {
  it('answers a reader and a follow-up, keeps the rate limit, and goes back to the database after', { timeout: 90_000 }, async () => {
    const chat = h.privateChat(7001);
    await chat.send('What did Mayor Alice Park ask the council for?');
    expect(textOf(await reply(chat, 'an answer before the outage'))).toMatch(/flood barriers/);

    proxy.down();
    const calls = answerer.calls.length;
    await chat.send('How much money did Mayor Alice Park ask for?');
    expect(textOf(await reply(chat, 'an answer during the outage'))).toMatch(/12 million dollars.*\[1\]/);
    // A follow-up during the outage gets the question before it as history.
    await chat.send('When will the council vote on it?');
    expect(textOf(await reply(chat, 'a follow-up during the outage'))).toMatch(/\[1\]/);
    expect(answerer.calls[calls + 1]!.history.map((t) => t.content)).toContain('How much money did Mayor Alice Park ask for?');
    await chat.send('What does Coach Ben Ortiz want?');
    expect(textOf(await reply(chat, 'a third answer during the outage'))).toMatch(/stadium lights/);
    // The limit (3 a minute) still counts, in this replica (from the outage's start): the fourth message is turned away.
    await chat.send('And who is the coach?');
    expect(textOf(await reply(chat, 'the rate limit'))).toMatch(/faster than I can answer \(limit: 3 per minute\)/);
    expect(LOG.filter((e) => e.event === 'bot.state_degraded')).toHaveLength(1);
    expect(LOG.some((e) => e.event === 'desk.record_failed')).toBe(true);
    expect(h.logs.join('\n')).not.toMatch(/Sorry, something went wrong|The database is/);

    proxy.up();
    await new Promise((r) => setTimeout(r, OUTAGE_RETRY_MS + 200));
    const other = h.privateChat(7002);
    await other.send('What does Coach Ben Ortiz want?');
    expect(textOf(await reply(other, 'an answer after the outage'))).toMatch(/stadium lights/);
    expect(LOG.some((e) => e.event === 'bot.state_restored')).toBe(true);
  });

  it('answers a reader from the local index, with its citation, while the database is away', { timeout: 60_000 }, async () => {
    const chat = real.privateChat(7101);
    proxy.down();
    try {
      await chat.send('Who won the national chess championship?');
      const answer = textOf(await reply(chat, 'an answer from the local index during the outage'));
      expect(answer).toMatch(/Teenager wins national chess championship/);
      expect(answer).toMatch(/\[1\]/);
      expect(real.logs.join('\n')).not.toMatch(/The database is (unreachable|busy)/);
    } finally {
      proxy.up();
    }
  });

  it('tells an admin in one line that /add cannot run while the database is unreachable', { timeout: 60_000 }, async () => {
    const admin = h.privateChat(ADMIN);
    proxy.down();
    try {
      await admin.send(`/add ${pageUrl}`);
      const line = textOf(await reply(admin, 'the /add refusal'));
      expect(line).toBe(
        '/add cannot change the index now: the database is unreachable; try again once it is back.',
      );
    } finally {
      proxy.up();
    }
    await admin.send(`/add ${pageUrl}`);
    expect(textOf(await admin.waitForNew((m) => /^Added/.test(textOf(m)), 30_000, '/add once the database is back'))).toMatch(
      /Fjord Link bridge opens in Nordby/,
    );
  });
});
