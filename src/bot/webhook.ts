/**
 * Webhook mode: a small HTTP server that accepts Telegram's POSTs on the
 * webhook URL's path, checks the secret token header, acknowledges at once and
 * handles the update afterwards (so a slow answer never makes Telegram resend it).
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { Update } from 'grammy/types';
import type { Routes } from '../observability/http.js';
import type { Logger } from '../util/log.js';

/** Where to listen and what to accept. */
export interface WebhookServerOptions {
  host: string;
  port: number;
  path: string;
  secret: string;
  onUpdate: (update: Update) => void;
  log: Logger;
  /** Other paths this server answers (/healthz, /readyz, /metrics). */
  routes?: Routes;
}

const MAX_BODY_BYTES = 1_000_000;

function sameSecret(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Starts the webhook server; resolves once it listens. */
export async function startWebhookServer(options: WebhookServerOptions): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (options.routes?.(req, res)) return;
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'POST' || pathname !== options.path) {
      res.writeHead(404).end();
      return;
    }
    if (!sameSecret(req.headers['x-telegram-bot-api-secret-token'], options.secret)) {
      options.log.warn('bot.webhook_forged', { remote: req.socket.remoteAddress });
      res.writeHead(401).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      let update: Update;
      try {
        update = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Update;
        if (typeof update.update_id !== 'number') throw new Error('no update_id');
      } catch {
        res.writeHead(400).end();
        return;
      }
      res.writeHead(200).end();
      options.onUpdate(update);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
