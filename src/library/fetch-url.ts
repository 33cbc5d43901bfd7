/**
 * Fetches a web page for `/add <url>` without letting the bot be used to reach the host's own
 * network: only http(s), every connection's resolved address is checked (so redirects and DNS
 * tricks cannot reach loopback, private or link-local addresses), and size and time are capped.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { UserError } from '../util/errors.js';

/** Limits for one fetch. */
export interface FetchLimits {
  maxBytes: number;
  timeoutMs: number;
  /** Allow loopback/private targets (tests, intranet deployments). */
  allowPrivate: boolean;
  maxRedirects?: number;
}

/** A fetched document. */
export interface Fetched {
  url: string;
  contentType: string;
  bytes: Uint8Array;
}

/** True for addresses a public-facing fetcher must not reach. */
export function isPrivateAddress(address: string): boolean {
  if (net.isIPv4(address)) {
    const [a = 0, b = 0] = address.split('.').map(Number);
    return (
      a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 198 && (b === 18 || b === 19)) || a >= 224
    );
  }
  const v6 = address.toLowerCase();
  if (v6 === '::' || v6 === '::1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v6);
  if (mapped) return isPrivateAddress(mapped[1]!);
  return /^(fc|fd|fe8|fe9|fea|feb|ff)/.test(v6);
}

/** Downloads `url` within `limits`; throws `UserError` with a one-line reason otherwise. */
export async function fetchUrl(url: string, limits: FetchLimits): Promise<Fetched> {
  const deadline = Date.now() + limits.timeoutMs;
  let current = url;
  for (let hop = 0; hop <= (limits.maxRedirects ?? 5); hop++) {
    const res = await requestOnce(current, limits, deadline);
    if ('redirect' in res) {
      current = new URL(res.redirect, current).toString();
      continue;
    }
    return res;
  }
  throw new UserError(`Too many redirects fetching ${url}.`);
}

function requestOnce(raw: string, limits: FetchLimits, deadline: number): Promise<Fetched | { redirect: string }> {
  let target: URL;
  try {
    target = new URL(raw);
  } catch {
    return Promise.reject(new UserError(`"${raw}" is not a valid URL.`));
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return Promise.reject(new UserError(`Only http and https links can be added (got ${target.protocol}).`));
  }
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (!limits.allowPrivate && net.isIP(host) && isPrivateAddress(host)) {
    return Promise.reject(new UserError(`Refusing to fetch ${target.host}: it is a private or local address.`));
  }
  // Checked at connect time, on the address actually used, so DNS answers cannot sneak past.
  const lookup: net.LookupFunction = (hostname, options, cb) => {
    dns.lookup(hostname, { ...options, all: false }, (err, address, family) => {
      if (err) return cb(err, address, family);
      if (!limits.allowPrivate && isPrivateAddress(address as string)) {
        return cb(new UserError(`Refusing to fetch ${hostname}: it resolves to a private or local address.`), address, family);
      }
      cb(null, address, family);
    });
  };
  const mod = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return reject(new UserError(`Timed out fetching ${raw}.`));
    const req = mod.get(target, { lookup, headers: { 'user-agent': 'newsdesk-bot/0.1 (+article import)', accept: 'text/html,text/plain,application/pdf;q=0.9,*/*;q=0.5' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        return resolve({ redirect: res.headers.location });
      }
      if (status < 200 || status >= 300) {
        res.resume();
        return reject(new UserError(`The page answered HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}.`));
      }
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > limits.maxBytes) {
        res.destroy();
        return reject(new UserError(`The page is too large (${formatBytes(declared)} > ${formatBytes(limits.maxBytes)} limit).`));
      }
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxBytes) {
          res.destroy();
          reject(new UserError(`The page is too large (over the ${formatBytes(limits.maxBytes)} limit).`));
          return;
        }
        parts.push(chunk);
      });
      res.on('end', () =>
        resolve({ url: target.toString(), contentType: String(res.headers['content-type'] ?? ''), bytes: new Uint8Array(Buffer.concat(parts)) }),
      );
      res.on('error', (err) => reject(new UserError(`Download of ${raw} failed: ${err.message}.`)));
    });
    req.setTimeout(remaining, () => req.destroy(new UserError(`Timed out fetching ${raw}.`)));
    req.on('error', (err) => reject(err instanceof UserError ? err : new UserError(`Could not fetch ${raw}: ${err.message}.`)));
  });
}

/** Human-readable byte count. */
export function formatBytes(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}
