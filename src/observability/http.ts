/**
 * `/healthz`, `/readyz` and `/metrics` over HTTP: served by the webhook server (webhook mode) and,
 * when METRICS_PORT is set, by a small server of their own (`startObservabilityServer`).
 *
 * - `/healthz`: 200 while the process answers HTTP at all (liveness).
 * - `/readyz`: 200 when every readiness check passes, else 503; the JSON body names each check.
 * - `/metrics`: Prometheus text. With METRICS_TOKEN set it needs `Authorization: Bearer <token>`;
 *   without one it is served only on a loopback address (403 elsewhere), so a server listening on
 *   0.0.0.0 never hands its metrics to anyone who asks.
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { UserError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { Metrics } from './metrics.js';

/** One readiness condition: resolves null when met, else a short reason. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<string | null>;
}

/** What the three endpoints serve. */
export interface ObservabilityOptions {
  metrics: Metrics;
  readiness: readonly ReadinessCheck[];
  /** METRICS_TOKEN: required as a bearer token for /metrics when set. */
  token: string | undefined;
  /** The address the serving socket is bound to: decides whether /metrics without a token is allowed. */
  host: string;
  /** Longest a single readiness check may take before it counts as failed. */
  checkTimeoutMs?: number;
}

/** Handles a request when it is for one of the three paths (returns true), else leaves it alone (false). */
export type Routes = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Runs every check (bounded in time); ready when all pass. */
export async function readiness(
  checks: readonly ReadinessCheck[],
  timeoutMs = 3000,
): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const results = await Promise.all(
    checks.map(async (c) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
      });
      try {
        return [
          c.name,
          (await Promise.race([c.check().catch((err: unknown) => String((err as Error)?.message ?? err)), timeout])) ?? 'ok',
        ] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: results.every(([, r]) => r === 'ok'), checks: Object.fromEntries(results) };
}

/** The request handler for the three paths (GET or HEAD). */
export function observabilityRoutes(options: ObservabilityOptions): Routes {
  const metricsOpen = options.token !== undefined || isLoopback(options.host);
  const json = (res: http.ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body) + '\n');
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname === '/healthz') {
      json(res, 200, { alive: true });
      return true;
    }
    if (pathname === '/readyz') {
      void readiness(options.readiness, options.checkTimeoutMs).then(
        (r) => json(res, r.ready ? 200 : 503, r),
        () => json(res, 503, { ready: false }),
      );
      return true;
    }
    if (pathname !== '/metrics') return false;
    if (!metricsOpen) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('Set METRICS_TOKEN to serve /metrics on a non-loopback address.\n');
      return true;
    }
    if (options.token !== undefined && !bearerMatches(req.headers.authorization, options.token)) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('Bearer token required.\n');
      return true;
    }
    options.metrics.text().then(
      (text) => res.writeHead(200, { 'content-type': options.metrics.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
    return true;
  };
}

/**
 * Serves the three paths (and 404 for anything else) on `host:port`, built by `routesFor(host)`;
 * resolves with the listening server. A port that cannot be used ends the command with one line.
 */
export async function startObservabilityServer(
  settings: { host: string; port: number },
  routesFor: (host: string) => Routes,
  log: Logger,
): Promise<http.Server> {
  const { host, port } = settings;
  const routes = routesFor(host);
  const server = http.createServer((req, res) => {
    if (!routes(req, res)) res.writeHead(404).end();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new UserError(
      `Could not serve /healthz, /readyz and /metrics on ${host}:${port} (${code}); check METRICS_PORT and METRICS_HOST.`,
    );
  }
  log.info('metrics.listening', { host, port });
  return server;
}

/** Closes a server started by `startObservabilityServer` (open keep-alive connections too). */
export async function closeServer(server: http.Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
