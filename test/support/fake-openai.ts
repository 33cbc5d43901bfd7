/**
 * A real OpenAI-compatible HTTP server on 127.0.0.1 for tests: chat completions
 * (JSON and SSE streaming), embeddings and audio transcriptions (multipart uploads, as
 * whisper servers take them), scriptable per test, recording every request.
 * Faults are produced on the wire (status codes, slow replies, torn sockets, bad JSON)
 * so the code under test meets them through the real `openai` client.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A chat message as the server received it. */
export interface FakeMessage {
  role: string;
  content: string;
}

/** A parsed chat-completion request, as handed to handlers. */
export interface FakeChatRequest {
  model: string;
  messages: FakeMessage[];
  stream: boolean;
  /** The whole JSON body. */
  body: Record<string, unknown>;
  /** 0-based count of chat requests before this one (since start or `reset`). */
  index: number;
}

/** Everything the server received. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  /** Chat requests only. */
  messages?: FakeMessage[];
  model?: string;
  stream: boolean;
  receivedAt: number;
}

/**
 * What a handler returns. A string is the reply text; a number is an error status;
 * an object combines: `delayMs` before anything is sent, then an error `status` (with
 * `headers`/`body`), or `malformed` (unparseable JSON / SSE data), or `text` sent in
 * `chunkSize`-character stream chunks `chunkDelayMs` apart, the socket destroyed after
 * `breakAfterChunks` chunks (for non-streaming requests: after half the body).
 */
export type FakeReply =
  | string
  | number
  | {
      text?: string;
      status?: number;
      headers?: Record<string, string>;
      body?: unknown;
      delayMs?: number;
      malformed?: boolean;
      breakAfterChunks?: number;
      chunkSize?: number;
      chunkDelayMs?: number;
    };

/** Decides the reply to one chat request. */
export type FakeHandler = (request: FakeChatRequest) => FakeReply | Promise<FakeReply>;

/** A parsed `/audio/transcriptions` upload, as handed to the transcription handler. */
export interface FakeTranscriptionRequest {
  model: string;
  /** The uploaded file's name and bytes, exactly as received. */
  fileName: string;
  audio: Buffer;
  /** The other form fields (response_format, language, ...). */
  fields: Record<string, string>;
}

/**
 * Decides the reply to one transcription: a string is the transcript, a number an error status,
 * an object may add `delayMs` (only `text`, `status`, `body` and `delayMs` apply).
 */
export type FakeTranscriptionHandler = (request: FakeTranscriptionRequest) => FakeReply | Promise<FakeReply>;

/** True when `audio` is an Ogg stream carrying Opus (what Telegram voice notes are): "OggS" pages, an "OpusHead" header. */
export function isOggOpus(audio: Uint8Array): boolean {
  const head = Buffer.from(audio.subarray(0, 64));
  return head.subarray(0, 4).toString('latin1') === 'OggS' && head.includes(Buffer.from('OpusHead', 'latin1'));
}

/** The default transcription reply: not scripted, so a test that forgets to say what was heard fails loudly. */
const unscriptedTranscription: FakeTranscriptionHandler = () => ({
  status: 501,
  body: { error: { message: 'No transcription scripted for this test', type: 'server_error' } },
});

/** Options for `startFakeOpenAI`. */
export interface FakeOpenAIOptions {
  handler?: FakeHandler;
  /** Embedding dimension when the request does not ask for one (default 64). */
  embeddingDimension?: number;
}

/** A running fake server. */
export interface FakeOpenAI {
  /** Base URL including `/v1`, ready for `new OpenAI({ baseURL })`. */
  url: string;
  requests: RecordedRequest[];
  /** Chat requests only, in arrival order. */
  chatRequests(): RecordedRequest[];
  setHandler(handler: FakeHandler): void;
  /** Transcriptions received, in arrival order. */
  transcriptions: FakeTranscriptionRequest[];
  setTranscriber(handler: FakeTranscriptionHandler): void;
  /** The most chat requests that were in flight at the same time. */
  maxConcurrent(): number;
  /** Clears recorded requests, counters and restores the default handler. */
  reset(): void;
  close(): Promise<void>;
}

const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' });
const wordSegmenter = new Intl.Segmenter('en', { granularity: 'word' });

/**
 * Answers like a well-behaved grounded model: the first sentence of source [1] followed
 * by "[1]". Without sources (a condense request) it echoes the follow-up question.
 */
export const defaultHandler: FakeHandler = (request) => {
  const last = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const source = /^\[1\][^\n]*\n([\s\S]*?)(?:\n\n\[\d+\]|\n<\/sources>|$)/m.exec(last);
  if (source?.[1]) {
    const first = [...sentenceSegmenter.segment(source[1])][0]?.segment.trim() ?? source[1].trim();
    return `${first} [1]`;
  }
  const followUp = /Follow-up question:\s*(.*)/.exec(last);
  if (followUp?.[1]) return followUp[1].trim();
  return 'The sources do not say.';
};

/** Starts the server on 127.0.0.1 with a random port. */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  let handler: FakeHandler = options.handler ?? defaultHandler;
  let transcriber: FakeTranscriptionHandler = unscriptedTranscription;
  const transcriptions: FakeTranscriptionRequest[] = [];
  const dimension = options.embeddingDimension ?? 64;
  const requests: RecordedRequest[] = [];
  let chatCount = 0;
  let active = 0;
  let maxActive = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const bytes = Buffer.concat(chunks);
      const raw = bytes.toString('utf8');
      let body: unknown = raw;
      try {
        body = raw ? JSON.parse(raw) : {};
      } catch {
        // Kept as text: a test may want to see what a broken client sent.
      }
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const obj = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      const record: RecordedRequest = {
        method: req.method ?? 'GET',
        path,
        headers: req.headers,
        body,
        stream: obj.stream === true,
        receivedAt: Date.now(),
      };
      requests.push(record);

      if (req.method === 'POST' && path === '/v1/chat/completions') {
        record.messages = toMessages(obj.messages);
        record.model = typeof obj.model === 'string' ? obj.model : '';
        const chat: FakeChatRequest = {
          model: record.model,
          messages: record.messages,
          stream: record.stream,
          body: obj,
          index: chatCount++,
        };
        active++;
        maxActive = Math.max(maxActive, active);
        res.on('close', () => active--);
        void serveChat(chat, res).catch((err: unknown) => {
          if (!res.headersSent) sendJson(res, 500, { error: { message: String(err), type: 'server_error' } });
          else res.destroy();
        });
        return;
      }
      if (req.method === 'POST' && path === '/v1/audio/transcriptions') {
        const upload = parseTranscriptionUpload(String(req.headers['content-type'] ?? ''), bytes);
        if (!upload) {
          sendJson(res, 400, { error: { message: 'expected a multipart upload with a file and a model', type: 'invalid_request_error' } });
          return;
        }
        transcriptions.push(upload);
        void Promise.resolve(transcriber(upload))
          .then(async (r) => {
            const reply = normalise(r);
            if (reply.delayMs) await waitUnlessClosed(res, reply.delayMs);
            if (res.destroyed || res.writableEnded) return;
            if (reply.status && reply.status !== 200)
              sendJson(res, reply.status, reply.body ?? { error: { message: `Fake error ${reply.status}`, type: 'server_error' } });
            else sendJson(res, 200, { text: reply.text ?? '' });
          })
          .catch((err: unknown) => sendJson(res, 500, { error: { message: String(err), type: 'server_error' } }));
        return;
      }
      if (req.method === 'POST' && path === '/v1/embeddings') {
        serveEmbeddings(obj, dimension, res);
        return;
      }
      sendJson(res, 404, { error: { message: `No route ${req.method} ${path}`, type: 'invalid_request_error' } });
    });
  });

  async function serveChat(chat: FakeChatRequest, res: http.ServerResponse): Promise<void> {
    const reply = normalise(await handler(chat));
    if (reply.delayMs) await waitUnlessClosed(res, reply.delayMs);
    if (res.destroyed || res.writableEnded) return;
    if (reply.status && reply.status !== 200) {
      sendJson(res, reply.status, reply.body ?? { error: { message: `Fake error ${reply.status}`, type: 'server_error' } }, reply.headers);
      return;
    }
    const text = reply.text ?? '';
    const id = `chatcmpl-fake-${chat.index}`;
    const created = Math.floor(Date.now() / 1000);
    if (!chat.stream) {
      if (reply.malformed) {
        res.writeHead(200, { 'content-type': 'application/json', ...reply.headers });
        res.end('{"id": "broken", "choices": [ {"message": ');
        return;
      }
      const payload = JSON.stringify({
        id,
        object: 'chat.completion',
        created,
        model: chat.model,
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
        usage: fakeUsage(chat.messages, text),
      });
      if (reply.breakAfterChunks !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json', ...reply.headers });
        res.write(payload.slice(0, Math.floor(payload.length / 2)), () => res.destroy());
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', ...reply.headers });
      res.end(payload);
      return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...reply.headers });
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: chat.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const pieces = splitText(text, reply.chunkSize ?? 12);
    let sent = 0;
    for (const piece of pieces) {
      if (res.destroyed) return;
      if (reply.breakAfterChunks !== undefined && sent >= reply.breakAfterChunks) {
        // Tear the connection down mid-body, as a crashed upstream or proxy would.
        await new Promise<void>((resolve) => res.write('', () => resolve()));
        res.destroy();
        return;
      }
      if (reply.malformed && sent === Math.max(1, Math.floor(pieces.length / 2))) {
        res.end('data: {"choices": [ {"delta": \n\n');
        return;
      }
      await write(res, chunk(sent === 0 ? { role: 'assistant', content: piece } : { content: piece }, null));
      sent++;
      if (reply.chunkDelayMs) await waitUnlessClosed(res, reply.chunkDelayMs);
    }
    if (reply.malformed) {
      res.end('data: {"choices": [ {"delta": \n\n');
      return;
    }
    if (reply.breakAfterChunks !== undefined) {
      res.destroy();
      return;
    }
    await write(res, chunk({}, 'stop'));
    // Asked for (stream_options.include_usage), a last chunk carries the token counts, as OpenAI's does.
    const options = chat.body.stream_options as { include_usage?: unknown } | undefined;
    if (options?.include_usage === true) {
      const usage = fakeUsage(chat.messages, text);
      await write(
        res,
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: chat.model, choices: [], usage })}\n\n`,
      );
    }
    res.end('data: [DONE]\n\n');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    chatRequests: () => requests.filter((r) => r.path === '/v1/chat/completions'),
    setHandler: (fn) => {
      handler = fn;
    },
    transcriptions,
    setTranscriber: (fn) => {
      transcriber = fn;
    },
    maxConcurrent: () => maxActive,
    reset: () => {
      requests.length = 0;
      chatCount = 0;
      maxActive = active;
      handler = options.handler ?? defaultHandler;
      transcriber = unscriptedTranscription;
      transcriptions.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** The file and fields of a multipart/form-data upload; null when it is not one, or lacks the file or the model. */
function parseTranscriptionUpload(contentType: string, body: Buffer): FakeTranscriptionRequest | null {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const marker = boundary ? `--${boundary[1] ?? boundary[2]}` : null;
  if (!marker || !/^multipart\/form-data/i.test(contentType)) return null;
  const fields: Record<string, string> = {};
  let file: { name: string; bytes: Buffer } | null = null;
  let at = body.indexOf(marker);
  while (at >= 0) {
    const start = at + marker.length + 2;
    const next = body.indexOf(marker, start);
    if (next < 0) break;
    const part = body.subarray(start, next - 2);
    const split = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, split).toString('utf8');
    const content = part.subarray(split + 4);
    const name = /name="([^"]*)"/.exec(headers)?.[1] ?? '';
    const fileName = /filename="([^"]*)"/.exec(headers)?.[1];
    if (fileName !== undefined) file = { name: fileName, bytes: Buffer.from(content) };
    else fields[name] = content.toString('utf8');
    at = next;
  }
  if (!file || !fields.model) return null;
  const { model, ...rest } = fields;
  return { model, fileName: file.name, audio: file.bytes, fields: rest };
}

function normalise(reply: FakeReply): Exclude<FakeReply, string | number> {
  if (typeof reply === 'string') return { text: reply };
  if (typeof reply === 'number') return { status: reply };
  return reply;
}

function toMessages(value: unknown): FakeMessage[] {
  if (!Array.isArray(value)) return [];
  return value.map((m: unknown) => {
    const o = (typeof m === 'object' && m !== null ? m : {}) as Record<string, unknown>;
    const content = typeof o.content === 'string' ? o.content : JSON.stringify(o.content ?? '');
    return { role: String(o.role ?? ''), content };
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function write(res: http.ServerResponse, data: string): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    res.write(data, () => resolve());
  });
}

// A slow reply must not keep running after the client gave up, or it would write into a dead socket.
function waitUnlessClosed(res: http.ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    }
    res.on('close', done);
  });
}

// Splits at word boundaries into pieces of roughly `size` characters, so deltas look like tokens.
function splitText(text: string, size: number): string[] {
  const pieces: string[] = [];
  let current = '';
  for (const { segment } of wordSegmenter.segment(text)) {
    current += segment;
    if (current.length >= size) {
      pieces.push(current);
      current = '';
    }
  }
  if (current) pieces.push(current);
  return pieces;
}

function serveEmbeddings(body: Record<string, unknown>, defaultDimension: number, res: http.ServerResponse): void {
  const input = body.input;
  const texts = typeof input === 'string' ? [input] : Array.isArray(input) ? input.map((x) => String(x)) : null;
  if (!texts) {
    sendJson(res, 400, { error: { message: 'input must be a string or an array of strings', type: 'invalid_request_error' } });
    return;
  }
  const dimension = typeof body.dimensions === 'number' && body.dimensions > 0 ? body.dimensions : defaultDimension;
  const base64 = body.encoding_format === 'base64';
  const data = texts.map((text, index) => {
    const vector = hashedBagOfWords(text, dimension);
    const embedding = base64 ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64') : Array.from(vector);
    return { object: 'embedding', index, embedding };
  });
  const tokens = texts.reduce((sum, t) => sum + t.split(/\s+/).filter(Boolean).length, 0);
  sendJson(res, 200, {
    object: 'list',
    data,
    model: String(body.model ?? 'fake-embedding'),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

/** Deterministic L2-normalised hashed bag of lower-cased words: texts sharing words get similar vectors. */
export function hashedBagOfWords(text: string, dimension: number): Float32Array {
  const vector = new Float32Array(dimension);
  for (const seg of wordSegmenter.segment(text.toLowerCase())) {
    if (!seg.isWordLike) continue;
    const h = createHash('sha256').update(seg.segment).digest();
    const slot = h.readUInt32LE(0) % dimension;
    vector[slot] = (vector[slot] ?? 0) + (h[4]! & 1 ? 1 : -1);
  }
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm);
  if (norm === 0) {
    vector[0] = 1;
    return vector;
  }
  for (let i = 0; i < dimension; i++) vector[i] = vector[i]! / norm;
  return vector;
}

/** The fake's token counts: one token per whitespace-separated word (tests can compute the same). */
export function fakeUsage(
  messages: readonly FakeMessage[],
  reply: string,
): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const words = (t: string) => t.split(/\s+/).filter(Boolean).length;
  const prompt = messages.reduce((n, m) => n + words(m.content), 0);
  const completion = words(reply);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
