import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAIEmbedder } from '../../src/embedding/openai.js';
import { UserError } from '../../src/util/errors.js';
import { maxAbsDiff, norm, unit } from './helpers.js';

const DIM = 8;
const KEY = 'sk-test-embeddings-key';

/** A deterministic, deliberately unnormalised vector for a text. */
function fakeVector(text: string): number[] {
  const v = Array.from({ length: DIM }, (_, i) => 1 + i * 0.1);
  for (let i = 0; i < text.length; i++) v[i % DIM]! += text.charCodeAt(i) / 10;
  return v;
}

interface Seen {
  auth: string | undefined;
  inputs: string[];
  model: string;
}

let server: http.Server;
let baseURL: string;
let requests: Seen[] = [];
let failWith: number | null = null;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/embeddings') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found' } }));
        return;
      }
      const parsed = JSON.parse(body) as { input: string[]; model: string; encoding_format?: string };
      requests.push({ auth: req.headers.authorization, inputs: parsed.input, model: parsed.model });
      if (failWith) {
        res
          .writeHead(failWith, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { message: 'Incorrect API key provided' } }));
        return;
      }
      // Out of order on purpose: clients must use `index`, not position.
      const data = parsed.input.map((t, index) => ({ object: 'embedding', index, embedding: fakeVector(t) })).reverse();
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ object: 'list', data, model: parsed.model, usage: { prompt_tokens: 1, total_tokens: 1 } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  requests = [];
  failWith = null;
});

describe('OpenAI embedder', () => {
  it('learns the dimension from a probe call and identifies itself', async () => {
    const embedder = await createOpenAIEmbedder({ apiKey: KEY, baseURL, model: 'text-embedding-3-small', maxRetries: 0 });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.auth).toBe(`Bearer ${KEY}`);
    expect(requests[0]!.model).toBe('text-embedding-3-small');
    expect(embedder.dimension).toBe(DIM);
    expect(embedder.id).toBe('openai:text-embedding-3-small');
    expect(embedder.maxTokens).toBe(8191);
    expect(embedder.tokenizer.id).toBe('approx');
  });

  it('sends documents in batches and returns normalised vectors in input order', async () => {
    const embedder = await createOpenAIEmbedder({ apiKey: KEY, baseURL, model: 'm', batchSize: 4, maxRetries: 0 });
    requests = [];
    const texts = Array.from({ length: 10 }, (_, i) => `document number ${i}`);
    const vectors = await embedder.embedDocuments(texts);
    expect(requests.map((r) => r.inputs.length)).toEqual([4, 4, 2]);
    expect(requests.flatMap((r) => r.inputs)).toEqual(texts);
    expect(vectors).toHaveLength(10);
    vectors.forEach((v, i) => {
      expect(norm(v)).toBeCloseTo(1, 5);
      expect(maxAbsDiff(v, unit(fakeVector(texts[i]!)))).toBeLessThan(1e-6);
    });
  });

  it('embeds a query with one request and no prefix', async () => {
    const embedder = await createOpenAIEmbedder({ apiKey: KEY, baseURL, model: 'm', maxRetries: 0 });
    requests = [];
    const q = await embedder.embedQuery('what happened?');
    expect(requests).toEqual([{ auth: `Bearer ${KEY}`, inputs: ['what happened?'], model: 'm' }]);
    expect(maxAbsDiff(q, unit(fakeVector('what happened?')))).toBeLessThan(1e-6);
  });

  it('fails creation with a clear message when the server is unreachable', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const err = await createOpenAIEmbedder({ apiKey: KEY, baseURL: `http://127.0.0.1:${port}/v1`, model: 'm', maxRetries: 0 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toContain(`http://127.0.0.1:${port}/v1`);
    expect((err as Error).message).toContain('could not connect');
    expect((err as Error).message).not.toContain(KEY);
  });

  it('says the key was rejected on 401', async () => {
    failWith = 401;
    const err = await createOpenAIEmbedder({ apiKey: KEY, baseURL, model: 'm', maxRetries: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toContain('OPENAI_API_KEY');
    expect((err as Error).message).not.toContain(KEY);
  });
});
