/**
 * The metrics module and the three endpoints on their own: one registry per app (nothing shared
 * between two apps in one process), events counted once however often a logger is wrapped, the
 * extension points other features use, and who may read /metrics.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { observabilityRoutes, type ReadinessCheck } from '../../src/observability/http.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/util/log.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

/** Serves the routes built for `host` on a loopback port (the address decides nothing here but the routes' own rule). */
async function serve(metrics: Metrics, host: string, token: string | undefined, readiness: ReadinessCheck[] = []): Promise<string> {
  const routes = observabilityRoutes({ metrics, readiness, token, host, checkTimeoutMs: 200 });
  const server = http.createServer((req, res) => {
    if (!routes(req, res)) res.writeHead(404).end();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('metrics', () => {
  it('keeps each app’s counts in its own registry', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.observing(silentLogger).info('alerts.sent', { chat_id: 1 });
    expect(await a.text()).toMatch(/^newsdesk_alerts_sent_total 1$/m);
    expect(await b.text()).toMatch(/^newsdesk_alerts_sent_total 0$/m);
  });

  it('counts an event once even through a logger wrapped twice, and still logs it', async () => {
    const m = createMetrics();
    const lines: string[] = [];
    const base = { ...silentLogger, info: (event: string) => void lines.push(event) };
    const log = m.observing(m.observing(base));
    log.info('feeds.polled', { feeds: 3, failed: 1, added: 0 });
    log.error('feeds.poll_failed', { error: 'boom' });
    const text = await m.text();
    expect(text).toMatch(/^newsdesk_feed_polls_total 3$/m);
    expect(text).toMatch(/^newsdesk_feed_poll_failures_total 2$/m);
    expect(lines).toEqual(['feeds.polled']);
  });

  it('lets a feature add a gauge read at scrape time and a histogram, once per name', async () => {
    const m = createMetrics();
    let waiting = 4;
    m.gauge('admission_queue_length', 'Questions waiting', { collect: (g) => g.set(waiting) });
    const wait = m.histogram('admission_wait_seconds', 'Time waited');
    expect(m.histogram('admission_wait_seconds', 'Time waited')).toBe(wait);
    wait.observe(0.3);
    expect(await m.text()).toMatch(/^newsdesk_admission_queue_length 4$/m);
    waiting = 1;
    const text = await m.text();
    expect(text).toMatch(/^newsdesk_admission_queue_length 1$/m);
    expect(text).toMatch(/^newsdesk_admission_wait_seconds_count 1$/m);
  });
});

describe('/metrics, /readyz and /healthz', () => {
  it('refuses /metrics beyond loopback without METRICS_TOKEN, and wants the token when there is one', async () => {
    const m = createMetrics();
    const open = await serve(m, '0.0.0.0', undefined);
    expect((await fetch(`${open}/metrics`)).status).toBe(403);
    expect((await fetch(`${open}/healthz`)).status).toBe(200);
    const guarded = await serve(m, '0.0.0.0', 'a-long-scrape-token');
    expect((await fetch(`${guarded}/metrics`)).status).toBe(401);
    const ok = await fetch(`${guarded}/metrics`, { headers: { authorization: 'Bearer a-long-scrape-token' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    expect((await fetch(`${await serve(m, '127.0.0.1', undefined)}/metrics`)).status).toBe(200);
  });

  it('is unready with the reason of each failing or silent check', async () => {
    const base = await serve(createMetrics(), '127.0.0.1', undefined, [
      { name: 'index', check: async () => null },
      { name: 'database', check: async () => Promise.reject(new Error('connect ECONNREFUSED')) },
      { name: 'telegram', check: () => new Promise(() => {}) },
    ]);
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      ready: false,
      checks: { index: 'ok', database: 'connect ECONNREFUSED', telegram: 'no answer within 200 ms' },
    });
  });
});
