import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchUrl, isPrivateAddress } from '../../src/library/fetch-url.js';
import { UserError } from '../../src/util/errors.js';

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    switch (req.url) {
      case '/article':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return res.end('<html><head><title>Hi</title></head><body><p>Hello</p></body></html>');
      case '/drip': {
        // One byte every 200 ms: never idle long enough for an idle timeout to fire.
        res.writeHead(200, { 'content-type': 'text/html' });
        const t = setInterval(() => res.write('a'), 200);
        res.on('close', () => clearInterval(t));
        return;
      }
      case '/missing':
        res.writeHead(404);
        return res.end('nope');
      case '/slow':
        setTimeout(() => res.end('late'), 3000).unref();
        return;
      case '/huge-declared':
        res.writeHead(200, { 'content-type': 'text/html', 'content-length': String(50_000_000) });
        return res.end();
      case '/huge-streamed': {
        res.writeHead(200, { 'content-type': 'text/html' });
        const chunk = Buffer.alloc(64 * 1024, 'a');
        let sent = 0;
        const pump = () => {
          while (sent < 5_000_000) {
            sent += chunk.length;
            if (!res.write(chunk)) return res.once('drain', pump);
          }
          res.end();
        };
        return pump();
      }
      case '/redirect-loop':
        res.writeHead(302, { location: '/redirect-loop' });
        return res.end();
      case '/to-article':
        res.writeHead(301, { location: '/article' });
        return res.end();
      default:
        res.writeHead(500);
        return res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const open = { maxBytes: 1_000_000, timeoutMs: 1000, allowPrivate: true };

describe('fetchUrl', () => {
  it('fetches a page and follows redirects', async () => {
    const r = await fetchUrl(`${base}/to-article`, open);
    expect(r.url).toBe(`${base}/article`);
    expect(r.contentType).toMatch(/html/);
    expect(new TextDecoder().decode(r.bytes)).toContain('Hello');
  });

  it.each([
    ['/missing', /HTTP 404/],
    ['/slow', /Timed out/],
    ['/drip', /Timed out/],
    ['/huge-declared', /too large/],
    ['/huge-streamed', /too large/],
    ['/redirect-loop', /Too many redirects/],
  ])('%s fails with a clear UserError', async (p, re) => {
    const err = await fetchUrl(`${base}${p}`, open).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(re);
  });

  it('refuses loopback and private targets unless allowed, including by DNS name and IPv4-mapped IPv6', async () => {
    const closed = { ...open, allowPrivate: false };
    const port = new URL(base).port;
    for (const url of [
      `${base}/article`,
      'http://localhost:9/',
      'http://[::1]:9/',
      'http://10.0.0.1/',
      'http://169.254.169.254/latest/meta-data',
      `http://[::ffff:127.0.0.1]:${port}/article`,
      `http://[::ffff:7f00:1]:${port}/article`,
      'http://[::ffff:a9fe:a9fe]/latest/meta-data',
    ]) {
      const err = await fetchUrl(url, closed).catch((e: unknown) => e);
      expect(err, url).toBeInstanceOf(UserError);
      expect((err as Error).message, url).toMatch(/private or local/);
    }
  });

  it('refuses non-http schemes and malformed URLs', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://example.com/x', 'javascript:alert(1)', 'not a url']) {
      const err = await fetchUrl(url, open).catch((e: unknown) => e);
      expect(err, url).toBeInstanceOf(UserError);
    }
  });

  it('classifies addresses', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:a9fe:a9fe',
      '0.0.0.0',
      '100.64.0.1',
    ]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ['8.8.8.8', '93.184.216.34', '2606:4700::1111', '172.32.0.1', '::ffff:808:808'])
      expect(isPrivateAddress(a), a).toBe(false);
  });
});
