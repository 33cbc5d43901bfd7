/**
 * Downloading an uploaded document from the Bot API with a hard size cap, so an
 * oversized or lying upload can never fill memory.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { formatBytes } from '../util/format.js';

/** Where files live on the Bot API server, and how long a download may take. */
export interface FileSource {
  apiRoot: string;
  token: string;
  timeoutMs: number;
}

/** The message for a file over the upload limit. */
export function tooLargeMessage(size: number | undefined, maxBytes: number): string {
  const got = size === undefined ? 'That file is' : `That file is ${formatBytes(size)},`;
  return `${got} over the upload limit of ${formatBytes(maxBytes)}. Please send a smaller file.`;
}

/**
 * Fetches `filePath` (from getFile) as bytes, aborting once more than `maxBytes`
 * arrive. A self-hosted Bot API server in local mode returns absolute paths on
 * its own disk; those are read directly.
 */
export async function downloadFile(source: FileSource, filePath: string, maxBytes: number): Promise<Uint8Array> {
  if (path.isAbsolute(filePath)) {
    const stat = await fs.stat(filePath);
    if (stat.size > maxBytes) throw new UserError(tooLargeMessage(stat.size, maxBytes));
    return new Uint8Array(await fs.readFile(filePath));
  }
  const url = `${source.apiRoot}/file/bot${source.token}/${filePath}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), source.timeoutMs);
  try {
    const res = await fetch(url, { signal: controller.signal });
    // The URL embeds the token, so errors name the status only, never the address.
    if (!res.ok || !res.body) throw new Error(`Telegram file download failed (HTTP ${res.status}).`);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) throw new UserError(tooLargeMessage(declared, maxBytes));
    const parts: Uint8Array[] = [];
    let total = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        controller.abort();
        throw new UserError(tooLargeMessage(undefined, maxBytes));
      }
      parts.push(value);
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (controller.signal.aborted) throw new Error('Telegram file download timed out.');
    throw err instanceof Error && err.message.startsWith('Telegram file download') ? err : new Error('Telegram file download failed.');
  } finally {
    clearTimeout(timer);
    // Ends a response refused before its body was read (HTTP error, declared too large); a no-op after a full read.
    controller.abort();
  }
}
