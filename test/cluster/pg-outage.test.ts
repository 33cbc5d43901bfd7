/**
 * A PostgreSQL restart while a replica serves (issue #12, Faults), as the replica's clients see
 * it: the replica reaches the database through a small TCP proxy on 127.0.0.1, and the outage is
 * the proxy dropping every open connection and resetting new ones until it forwards again. The
 * shared test server itself is never touched. Through the bot conversation: answered before, a
 * clear apology (or an answer) during, answered again after with nothing restarted, and a
 * generation published meanwhile by another writer (connected directly) is picked up once the
 * replica's LISTEN connection is back.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { Logger } from '../../src/util/log.js';
import { CORPUS } from '../support/corpus.js';
import { FlakyProxy } from '../support/flaky-proxy.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { mdArticle, tempDir, testApp, writeFiles } from '../support/stack.js';
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
let replica: App;
let writer: App;
let h: TelegramHarness;
// What would take a real process down: vitest reports these too, but only after the test passed.
const uncaught: unknown[] = [];
const onUncaught = (reason: unknown) => uncaught.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUncaught);
  process.on('uncaughtException', onUncaught);
  db = await createTestDatabase();
  const front = await FlakyProxy.inFrontOf(db.url);
  proxy = front.proxy;
  root = tempDir('pg-outage-');
  // Replicas share ARTICLES_DIR (README, Running on several machines).
  const articles = path.join(root, 'articles');
  writeFiles(articles, CORPUS);
  writer = await testApp(path.join(root, 'writer'), { DATABASE_URL: db.url, ARTICLES_DIR: articles });
  await writer.library.ensure();
  replica = await testApp(
    path.join(root, 'replica'),
    { DATABASE_URL: front.url, ARTICLES_DIR: articles, DATABASE_CONNECT_TIMEOUT_MS: '2000' },
    logger,
  );
  await replica.library.ensure();
  replica.library.follow();
  h = await TelegramHarness.start({
    answerer: replica.answerer,
    library: replica.library,
    database: replica.database!,
    config: { adminUserIds: [ADMIN] },
  });
}, 120_000);

afterAll(async () => {
  process.off('unhandledRejection', onUncaught);
  process.off('uncaughtException', onUncaught);
  await h?.stop();
  replica?.close();
  writer?.close();
  await proxy?.stop();
  await db?.drop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const OUTAGE_MS = 8000;
const FOLLOW_WITHIN_MS = 4500;
const QUESTION = 'Who won the national chess championship?';
const ANSWERED = /Teenager wins national chess championship/;

describe('PostgreSQL restarts while a replica serves', () => {
  it('apologises during the outage, serves again afterwards, and follows a generation published meanwhile', {
    timeout: 90_000,
  }, async () => {
    const chat = h.privateChat(6001);
    // (1) Before: answered with a citation.
    await chat.send(QUESTION);
    const before = await chat.waitForNew((m) => ANSWERED.test(textOf(m)), 15_000, 'an answer before the outage');
    expect(textOf(before)).toMatch(/\[1\]/);

    // (2) During: a clear apology (or an answer from what is loaded) within a bounded time.
    proxy.down();
    const downAt = Date.now();
    const asked = Date.now();
    await chat.send(QUESTION);
    const during = await chat.waitForNew(
      (m) => /The database is unreachable .*; try again in a moment\.|The database is busy/.test(textOf(m)) || ANSWERED.test(textOf(m)),
      20_000,
      'an apology or an answer during the outage',
    );
    process.stderr.write(`[pg-outage] reply during the outage after ${Date.now() - asked} ms: ${JSON.stringify(textOf(during))}\n`);
    expect(LOG.some((e) => e.event === 'db.listen_lost')).toBe(true);

    // Another writer, connected directly, publishes a new generation while the replica is cut off.
    writeFiles(writer.config.articlesDir, {
      'glacier.md': mdArticle(
        'Glacier museum opens in Fjaerland',
        '2024-07-09',
        'A glacier museum opened in Fjaerland on Tuesday. The museum shows how the Jostedal glacier has shrunk since 1900.',
      ),
    });
    await writer.library.reindex({});
    // A restart (or failover) takes seconds; the replica's LISTEN connection retries meanwhile.
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - downAt))));

    // (3) After: answered again, with nothing restarted.
    proxy.up();
    const back = Date.now();
    let again = '';
    while (!ANSWERED.test(again)) {
      expect(Date.now() - back, `no answer after the database came back; last reply: ${again}`).toBeLessThan(20_000);
      await chat.send(QUESTION);
      again = textOf(await chat.waitForNew((m) => !textOf(m).startsWith('…'), 15_000, 'a reply after the outage'));
      if (!ANSWERED.test(again)) await new Promise((r) => setTimeout(r, 250));
    }
    expect(again).toMatch(/\[1\]/);

    // (4) The generation published during the outage is served (LISTEN re-established) within a
    // few seconds of the database coming back, however long it was away.
    const glacier = h.privateChat(6002);
    let found = '';
    while (!/Glacier museum opens in Fjaerland/.test(found)) {
      expect(Date.now() - back, `the replica never served the new generation; last reply: ${found}`).toBeLessThan(FOLLOW_WITHIN_MS);
      await glacier.send('When did the glacier museum in Fjaerland open?');
      found = textOf(await glacier.waitForNew((m) => !textOf(m).startsWith('…'), 15_000, 'a reply about the glacier'));
      if (!/Glacier museum opens in Fjaerland/.test(found)) await new Promise((r) => setTimeout(r, 250));
    }
    process.stderr.write(`[pg-outage] new generation served ${Date.now() - back} ms after the database came back\n`);
    expect(LOG.some((e) => e.event === 'db.listen_restored')).toBe(true);
    expect(LOG.filter((e) => e.level === 'error').map((e) => e.event)).toEqual([]);
    expect(uncaught).toEqual([]);
  });
});
