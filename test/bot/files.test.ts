/**
 * Downloads that are refused before reading the body (declared too large, HTTP error)
 * must still end the request, not leave the connection streaming.
 */
import http from 'node:http';
import type net from 'node:net';
import { once } from 'node:events';
import { afterEach, expect, it } from 'vitest';
import { downloadFile } from '../../src/bot/files.js';
import { UserError } from '../../src/util/errors.js';

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A server that starts a long response and never finishes it; resolves `closed` when the client hangs up. */
async function endlessServer(status: number, declaredLength: number): Promise<{ apiRoot: string; closed: Promise<void> }> {
  let hungUp: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (hungUp = resolve));
  server = http.createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': declaredLength });
    res.write(Buffer.alloc(1024));
    res.on('close', () => hungUp());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { apiRoot: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, closed };
}

const hungUpWithin = (closed: Promise<void>, ms: number) =>
  Promise.race([closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

it('aborts the request when the declared size is over the limit', async () => {
  const { apiRoot, closed } = await endlessServer(200, 50_000_000);
  await expect(downloadFile({ apiRoot, token: 't', timeoutMs: 30_000 }, 'documents/big.txt', 1000)).rejects.toBeInstanceOf(UserError);
  expect(await hungUpWithin(closed, 1000)).toBe(true);
});

it('aborts the request when the response is not ok', async () => {
  const { apiRoot, closed } = await endlessServer(502, 50_000_000);
  await expect(downloadFile({ apiRoot, token: 't', timeoutMs: 30_000 }, 'documents/x.txt', 1000)).rejects.toThrow(
    'Telegram file download failed (HTTP 502).',
  );
  expect(await hungUpWithin(closed, 1000)).toBe(true);
});
