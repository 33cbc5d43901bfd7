import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig, type Config } from '../../src/config/index.js';
import { approximateTokenCounter, createEmbedder } from '../../src/embedding/index.js';
import { createLogger } from '../../src/util/log.js';
import { ensureFixtureModel, FIXTURE_DIMENSION, FIXTURE_MODEL_ID, FIXTURE_MODELS_DIR } from '../support/fixture-model.js';

const config = (env: Record<string, string>): Config => parseConfig({ MODEL_CACHE_DIR: '/tmp/newsdesk-test-model-cache', ...env }, '/tmp');

beforeAll(async () => {
  await ensureFixtureModel();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('createEmbedder', () => {
  it('returns no embedder and no warning when embeddings are switched off', async () => {
    const c = config({ EMBEDDING_PROVIDER: 'none' });
    expect(await createEmbedder(c.embedding, c.llm)).toEqual({ embedder: null });
  });

  it('loads the configured transformers model from LOCAL_MODEL_DIR', async () => {
    const c = config({
      EMBEDDING_MODEL: FIXTURE_MODEL_ID,
      LOCAL_MODEL_DIR: FIXTURE_MODELS_DIR,
      ALLOW_REMOTE_MODELS: 'false',
      EMBEDDING_POOLING: 'cls',
    });
    const { embedder, warning } = await createEmbedder(c.embedding, c.llm);
    expect(warning).toBeUndefined();
    expect(embedder?.id).toBe(`transformers:${FIXTURE_MODEL_ID}?pooling=cls`);
    expect(embedder?.dimension).toBe(FIXTURE_DIMENSION);
  });

  it('degrades to lexical-only with one actionable line when the model is not available', async () => {
    const consoleSpies = [vi.spyOn(console, 'warn'), vi.spyOn(console, 'error'), vi.spyOn(console, 'log')];
    const lines: string[] = [];
    const c = config({ EMBEDDING_MODEL: 'Xenova/bge-small-en-v1.5', LOCAL_MODEL_DIR: FIXTURE_MODELS_DIR, ALLOW_REMOTE_MODELS: 'false' });
    const result = await createEmbedder(
      c.embedding,
      c.llm,
      createLogger('info', [], (l) => lines.push(l)),
    );
    expect(result.embedder).toBeNull();
    const warning = result.warning ?? '';
    // One short line for the terminal; the how-to (with this configuration's paths) is in `details`.
    expect(warning).toContain('Xenova/bge-small-en-v1.5');
    expect(warning).toContain('lexical-only');
    expect(warning).not.toContain('\n');
    expect(warning.length).toBeLessThanOrEqual(160);
    const details = result.details ?? '';
    expect(details).toContain('LOCAL_MODEL_DIR');
    expect(details).toContain('ALLOW_REMOTE_MODELS=true');
    expect(details).toContain('/tmp/newsdesk-test-model-cache');
    expect(warning).not.toMatch(/\bat .*:\d+:\d+/);
    // The caller prints the warning; nothing else should reach the terminal.
    for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
  });

  it('names OPENAI_API_KEY when the openai provider has no key', async () => {
    const c = config({ EMBEDDING_PROVIDER: 'openai' });
    const { embedder, warning, details } = await createEmbedder(c.embedding, c.llm);
    expect(embedder).toBeNull();
    expect(warning).toContain('OPENAI_API_KEY');
    expect(details).toContain('EMBEDDING_PROVIDER=transformers');
  });

  it('degrades with a clear line when the OpenAI-compatible server is unreachable', async () => {
    const port = await closedPort();
    const c = config({
      EMBEDDING_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-test-secret-key',
      OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
      LLM_MAX_RETRIES: '0',
    });
    const { embedder, warning } = await createEmbedder(c.embedding, c.llm);
    expect(embedder).toBeNull();
    expect(warning).toContain(`http://127.0.0.1:${port}/v1`);
    expect(warning).toContain('could not connect');
    expect(warning).not.toContain('sk-test-secret-key');
  });
});

describe('approximateTokenCounter', () => {
  it('over-counts: a third of the characters plus one per word', () => {
    expect(approximateTokenCounter.id).toBe('approx');
    expect(approximateTokenCounter.count('')).toBe(0);
    expect(approximateTokenCounter.count('one two three')).toBe(Math.ceil(13 / 3) + 3);
    const text = 'The union strike by workers over jobs continues into a second week.';
    // A WordPiece tokenizer gives about one token per common word plus punctuation.
    expect(approximateTokenCounter.count(text)).toBeGreaterThan(text.split(' ').length + 2);
  });
});

async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
