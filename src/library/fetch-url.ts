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
import { formatBytes } from '../util/format.js';

/** Limits for one fetch. */
export interface FetchLimits {
  maxBytes: number;
  timeoutMs: number;
  /** Allow loopback/private targets (tests, intranet deployments). */
  allowPrivate: boolean;
  maxRedirects?: number;
}

/** Extra request details (feed polling sends conditional headers). */
export interface FetchRequest {
  /** Sent with every hop, e.g. If-None-Match / If-Modified-Since. */
  headers?: Record<string, string>;
  /** The Accept header (default: HTML, plain text, PDF). */
  accept?: string;
}

/** A fetched document. */
export interface Fetched {
  url: string;
  contentType: string;
  bytes: Uint8Array;
  /** 200-299, or 304 when a conditional request found nothing new (then `bytes` is empty). */
  status: number;
  etag?: string;
  lastModified?: string;
}

// Loopback, private, link-local, CGNAT, benchmarking, multicast and reserved ranges. A BlockList
// also matches IPv4-mapped IPv6 forms (::ffff:7f00:1) against the IPv4 rules.
const BLOCKED = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const)
  BLOCKED.addSubnet(prefix, bits, 'ipv4');
for (const [prefix, bits] of [
  ['::', 127],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  BLOCKED.addSubnet(prefix, bits, 'ipv6');

/** True for addresses a public-facing fetcher must not reach. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  if (net.isIPv4(bare)) return BLOCKED.check(bare, 'ipv4');
  if (!net.isIPv6(bare)) return false;
  // Mapped and NAT64 forms embed an IPv4 address: judge it by the IPv4 rules.
  const mapped = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return BLOCKED.check(mapped[1]!, 'ipv4');
  return BLOCKED.check(bare, 'ipv6');
}

/** Downloads `url` within `limits`; throws `UserError` with a one-line reason otherwise. */
export async function fetchUrl(url: string, limits: FetchLimits, request: FetchRequest = {}): Promise<Fetched> {
  const deadline = Date.now() + limits.timeoutMs;
  let current = url;
  for (let hop = 0; hop <= (limits.maxRedirects ?? 5); hop++) {
    const res = await requestOnce(current, limits, deadline, request);
    if ('redirect' in res) {
      current = new URL(res.redirect, current).toString();
      continue;
    }
    return res;
  }
  throw new UserError(`Too many redirects fetching ${url}.`);
}

function requestOnce(raw: string, limits: FetchLimits, deadline: number, request: FetchRequest): Promise<Fetched | { redirect: string }> {
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
    const req = mod.get(
      target,
      {
        lookup,
        headers: {
          'user-agent': 'newsdesk-bot/0.1 (+article import)',
          accept: request.accept ?? 'text/html,text/plain,application/pdf;q=0.9,*/*;q=0.5',
          ...request.headers,
        },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          return resolve({ redirect: res.headers.location });
        }
        const validators = {
          ...(typeof res.headers.etag === 'string' ? { etag: res.headers.etag } : {}),
          ...(typeof res.headers['last-modified'] === 'string' ? { lastModified: res.headers['last-modified'] } : {}),
        };
        if (status === 304 && request.headers) {
          res.resume();
          return resolve({ url: target.toString(), contentType: '', bytes: new Uint8Array(), status, ...validators });
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
          resolve({
            url: target.toString(),
            contentType: String(res.headers['content-type'] ?? ''),
            bytes: new Uint8Array(Buffer.concat(parts)),
            status,
            ...validators,
          }),
        );
        res.on('error', (err) => reject(new UserError(`Download of ${raw} failed: ${err.message}.`)));
      },
    );
    // A total deadline, not an idle timeout: a server dripping a byte at a time must not hold /add open.
    const timedOut = new UserError(`Timed out fetching ${raw}.`);
    const timer = setTimeout(() => {
      reject(timedOut);
      req.destroy(timedOut);
    }, remaining);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (err) => reject(err instanceof UserError ? err : new UserError(`Could not fetch ${raw}: ${err.message}.`)));
  });
}
