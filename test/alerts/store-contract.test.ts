/**
 * Topic alerts' state behind `AlertStore`, one suite for every implementation (SQLite for one
 * machine, PostgreSQL for replicas). "Two processes" are two stores over one state folder (SQLite)
 * or two pools on one database (PostgreSQL): a follow made through one holds for the other, an
 * alert is claimed by exactly one of them, and the send pace holds for both together.
 */
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { type AlertPayload, type AlertStore, type OutboxRow, PgAlertStore, SqliteAlertStore } from '../../src/alerts/index.js';
import { migratedDatabase } from '../support/postgres.js';
import { tempDir } from '../support/stack.js';

const database = migratedDatabase();
const newPool = () => database.pool();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Backend {
  name: string;
  /** Two processes' views of one fresh, empty alerts state. */
  open(): Promise<[AlertStore, AlertStore]>;
}

const backends: Backend[] = [
  {
    name: 'SQLite',
    open: async () => {
      const dir = tempDir('alerts-contract-');
      dirs.push(dir);
      return [SqliteAlertStore.open(dir), SqliteAlertStore.open(dir)];
    },
  },
  {
    name: 'PostgreSQL',
    open: async () => {
      await newPool().query(
        `TRUNCATE alert_follows, alert_known_articles, alert_meta, alert_outbox, alert_pace;
         INSERT INTO alert_pace (key, next_at) VALUES ('global', 0)`,
      );
      return [await PgAlertStore.open(newPool()), await PgAlertStore.open(newPool())];
    },
  },
];

const payload = (articleId: string): AlertPayload => ({
  articleId,
  title: `Story ${articleId}`,
  date: '2024-07-01',
  url: `https://news.example/${articleId}`,
  sentence: `A sentence about ${articleId}.`,
  topic: 'harbour',
});
const NO_PACE = { perChatMs: 0, globalMs: 0 };
const T0 = 1_700_000_000_000;

async function claimAll(store: AlertStore, now: number): Promise<OutboxRow[]> {
  const out: OutboxRow[] = [];
  for (;;) {
    const next = await store.claimNext(now, NO_PACE);
    if (!('row' in next)) return out;
    out.push(next.row);
  }
}

describe.each(backends)('AlertStore on $name', (backend) => {
  it('shares follows: a topic followed through one process is listed, grouped and unfollowed through the other', async () => {
    const [a, b] = await backend.open();
    expect(await a.follow(1, '  Hong Kong   protests ', T0)).toBe('added');
    expect(await b.follow(1, 'hong kong protests', T0 + 1)).toBe('exists');
    expect(await b.follow(2, 'Hong Kong protests', T0 + 2)).toBe('added');
    expect(await b.follow(1, 'tram line', T0 + 3)).toBe('added');
    expect((await b.following(1)).map((f) => f.topic)).toEqual(['Hong Kong protests', 'tram line']);
    const topics = await a.topics();
    expect([...topics.keys()]).toEqual(['hong kong protests', 'tram line']);
    expect(topics.get('hong kong protests')!.map((f) => f.chatId)).toEqual([1, 2]);
    const tram = (await a.following(1)).find((f) => f.topic === 'tram line')!;
    expect(await b.unfollow(2, tram.id)).toBe(false);
    expect(await b.unfollow(1, tram.id)).toBe(true);
    expect((await a.following(1)).map((f) => f.topic)).toEqual(['Hong Kong protests']);
  });

  it('limits follows per chat', async () => {
    const [a] = await backend.open();
    for (let i = 0; i < 20; i++) expect(await a.follow(7, `topic ${i}`, T0 + i)).toBe('added');
    expect(await a.follow(7, 'one too many', T0 + 30)).toBe('limit');
  });

  it('seeds on the first look, then reports each article once however many processes look', async () => {
    const [a, b] = await backend.open();
    expect(await a.unseen(['old-1', 'old-2'])).toEqual([]);
    expect(await b.unseen(['old-1', 'old-2', 'new-1'])).toEqual(['new-1']);
    await b.commit(['new-1'], [{ chatId: 1, payload: payload('new-1') }], T0);
    expect(await a.unseen(['old-1', 'new-1', 'new-2'])).toEqual(['new-2']);
    // A second scan that raced the first queues nothing twice.
    expect(await a.commit(['new-1'], [{ chatId: 1, payload: payload('new-1') }], T0 + 1)).toBe(0);
    expect(await a.outboxCounts()).toEqual({ pending: 1 });
  });

  it('gives each due alert to exactly one of two processes claiming at once', async () => {
    const [a, b] = await backend.open();
    await a.unseen([]);
    const alerts = Array.from({ length: 12 }, (_, i) => ({ chatId: 100 + i, payload: payload(`x${i}`) }));
    expect(await a.commit(['x'], alerts, T0)).toBe(12);
    const [byA, byB] = await Promise.all([claimAll(a, T0 + 10), claimAll(b, T0 + 10)]);
    const ids = [...byA, ...byB].map((r) => r.id).sort((x, y) => x - y);
    expect(ids).toHaveLength(12);
    expect(new Set(ids).size).toBe(12);
    expect(await a.outboxCounts()).toEqual({ sending: 12 });
    const first = byA[0] ?? byB[0]!;
    expect(first.payload).toEqual(payload(`x${first.chatId - 100}`));
    expect(first.attempts).toBe(1);
  });

  it('paces sends for both processes together: one gap between any two, a longer one per chat', async () => {
    const [a, b] = await backend.open();
    await a.unseen([]);
    await a.commit(
      ['p'],
      [
        { chatId: 1, payload: payload('p1') },
        { chatId: 1, payload: payload('p2') },
        { chatId: 2, payload: payload('p3') },
      ],
      T0,
    );
    const pace = { perChatMs: 1000, globalMs: 40 };
    expect(await a.claimNext(T0, pace)).toMatchObject({ row: { chatId: 1, payload: { articleId: 'p1' } } });
    // The other process must wait for the global gap…
    expect(await b.claimNext(T0 + 10, pace)).toEqual({ waitMs: 30 });
    // …then gets the other chat's alert, not chat 1's second one (chat 1 waits a second).
    expect(await b.claimNext(T0 + 40, pace)).toMatchObject({ row: { chatId: 2 } });
    expect(await a.claimNext(T0 + 100, pace)).toEqual({ waitMs: 900 });
    expect(await a.claimNext(T0 + 1000, pace)).toMatchObject({ row: { chatId: 1, payload: { articleId: 'p2' } } });
    expect(await b.claimNext(T0 + 2000, pace)).toEqual({ waitMs: null });
  });

  it('records what became of a send: sent, retried later, failed, and a blocked chat dropped', async () => {
    const [a, b] = await backend.open();
    await a.unseen([]);
    await a.follow(5, 'harbour', T0);
    await a.commit(
      ['r'],
      [
        { chatId: 4, payload: payload('r1') },
        { chatId: 5, payload: payload('r2') },
        { chatId: 5, payload: payload('r3') },
        { chatId: 6, payload: payload('r4') },
      ],
      T0,
    );
    const [r1, r2, , r4] = await claimAll(a, T0);
    await a.markSent(r1!.id, 77, T0 + 1);
    expect(await b.alert(r1!.id, 4)).toEqual(payload('r1'));
    expect(await b.alert(r1!.id, 5)).toBeNull();
    await b.retryLater(r4!.id, T0 + 5000, 'Too Many Requests');
    expect((await b.due(T0 + 10)).map((r) => r.id)).toEqual([]);
    expect((await b.due(T0 + 5000)).map((r) => r.id)).toEqual([r4!.id]);
    const again = await b.claimNext(T0 + 5000, NO_PACE);
    expect(again).toMatchObject({ row: { id: r4!.id, attempts: 2 } });
    await b.markFailed(r4!.id, 'failed', 'Bad Request');
    await a.markFailed(r2!.id, 'failed', 'Forbidden: bot was blocked by the user');
    await a.dropChat(5);
    expect(await b.following(5)).toEqual([]);
    expect(await b.outboxCounts()).toEqual({ sent: 1, failed: 2, sending: 1 });
  });
});
