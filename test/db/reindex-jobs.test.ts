import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { MIGRATIONS } from '../../src/schema.js';
import { createPool } from '../../src/db/pool.js';
import { ABANDONED, ReindexJobs } from '../../src/db/reindex-jobs.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

describe('reindex jobs shared by replicas', () => {
  let db: TestDatabase;
  const pools: pg.Pool[] = [];
  const jobs = (timing = {}) => {
    const p = createPool({ url: db.url, poolMax: 3, connectTimeoutMs: 5000 });
    pools.push(p);
    return new ReindexJobs(p, { pollMs: 50, ...timing });
  };
  beforeAll(async () => {
    db = await createTestDatabase();
    const p = createPool({ url: db.url, poolMax: 1, connectTimeoutMs: 5000 });
    pools.push(p);
    await migrate(p, MIGRATIONS);
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await db?.drop();
  });

  it('five replicas claiming at once start one job; the others get it and, when it ends, its report', async () => {
    const replicas = Array.from({ length: 5 }, () => jobs());
    const claims = await Promise.all(replicas.map((r, i) => r.claim(i === 2, `admin ${i}`)));
    const owners = claims.filter((c) => 'own' in c);
    expect(owners).toHaveLength(1);
    const own = (owners[0] as Extract<(typeof claims)[number], { own: unknown }>).own;
    for (const c of claims) if ('running' in c) expect(c.running).toEqual(own.job);
    const waiting = replicas[0]!.waitFor(own.job.id);
    await own.finish('done', 'Reindex finished.', '<b>Reindex done</b>');
    expect(await waiting).toMatchObject({ state: 'done', outcome: 'Reindex finished.', report: '<b>Reindex done</b>' });
    // Finished: the next claim starts a new job.
    const next = await replicas[1]!.claim(false, 'admin 1');
    expect('own' in next).toBe(true);
    if ('own' in next) await next.own.finish('failed', 'failed: busy', null);
  });

  it('a job whose runner stopped beating is marked failed, so waiters learn it and a new reindex can start', async () => {
    const dead = jobs({ heartbeatMs: 60_000, staleMs: 400 });
    const claim = await dead.claim(false, 'killed replica');
    expect('own' in claim).toBe(true);
    const other = jobs({ staleMs: 400 });
    const busy = await other.claim(true, 'admin');
    expect('running' in busy).toBe(true);
    const id = 'running' in busy ? busy.running.id : -1;
    expect(await other.waitFor(id)).toMatchObject({ state: 'failed', outcome: ABANDONED });
    const again = await other.claim(true, 'admin');
    expect('own' in again && again.own.job.full).toBe(true);
    if ('own' in again) await again.own.finish('done', 'ok', null);
  });

  it('a live runner keeps its job: its heartbeat outlasts the stale limit', async () => {
    const alive = jobs({ heartbeatMs: 50, staleMs: 400 });
    const claim = await alive.claim(false, 'slow replica');
    await new Promise((r) => setTimeout(r, 900));
    const other = await jobs({ staleMs: 400 }).claim(false, 'admin');
    expect('running' in other).toBe(true);
    if ('own' in claim) await claim.own.finish('done', 'ok', null);
  });
});
