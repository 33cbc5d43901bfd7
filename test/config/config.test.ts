import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, OTHER_VARIABLES, parseConfig } from '../../src/config/index.js';

describe('config', () => {
  it('has working defaults with an empty environment', () => {
    const c = parseConfig({}, '/srv/bot');
    expect(c.articlesDir).toBe('/srv/bot/seeds');
    expect(c.indexDir).toBe('/srv/bot/index-data');
    expect(c.embedding.model).toBe('Xenova/bge-small-en-v1.5');
    expect(c.telegram.token).toBeUndefined();
    expect(c.llm.apiKey).toBeUndefined();
    expect(c.telegram.adminUserIds).toEqual([]);
  });

  it('parses numeric id lists and booleans', () => {
    const c = parseConfig({ ADMIN_USER_IDS: '1, 22,333', ALLOW_PRIVATE_URLS: 'yes', RETRIEVAL_K: '8' });
    expect(c.telegram.adminUserIds).toEqual([1, 22, 333]);
    expect(c.intake.allowPrivateUrls).toBe(true);
    expect(c.retrieval.k).toBe(8);
  });

  it('takes EMBEDDING_THREADS as auto (onnxruntime decides) or a count', () => {
    expect(parseConfig({}).embedding.threads).toBeUndefined();
    expect(parseConfig({ EMBEDDING_THREADS: 'Auto' }).embedding.threads).toBeUndefined();
    expect(parseConfig({ EMBEDDING_THREADS: ' 2 ' }).embedding.threads).toBe(2);
  });

  it.each([
    ['RETRIEVAL_K', 'many', /RETRIEVAL_K/],
    ['ADMIN_USER_IDS', '@alice', /ADMIN_USER_IDS.*numeric/],
    ['EMBEDDING_PROVIDER', 'magic', /EMBEDDING_PROVIDER/],
    ['OPENAI_BASE_URL', 'not a url', /OPENAI_BASE_URL/],
    ['ALLOW_REMOTE_MODELS', 'maybe', /ALLOW_REMOTE_MODELS/],
    ['HNSW_M', '1', /HNSW_M/],
    ['EMBEDDING_THREADS', '0', /EMBEDDING_THREADS.*auto or a whole number from 1 to 64/],
    ['EMBEDDING_THREADS', 'two', /EMBEDDING_THREADS/],
  ])('rejects %s=%s with one line naming the variable', (name, value, re) => {
    let err: unknown;
    try {
      parseConfig({ [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).not.toContain('\n');
  });

  it("turns voice on with TRANSCRIBE_MODEL, using the LLM's base URL and key unless given its own", () => {
    expect(parseConfig({}).transcription).toBeNull();
    expect(parseConfig({ TRANSCRIBE_MODEL: 'whisper-1', OPENAI_API_KEY: 'sk-llm-key-123' }).transcription).toMatchObject({
      model: 'whisper-1',
      baseURL: undefined,
      apiKey: 'sk-llm-key-123',
    });
    const local = parseConfig({
      TRANSCRIBE_MODEL: 'base.en',
      OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
      TRANSCRIBE_BASE_URL: 'http://127.0.0.1:9000/v1',
    });
    expect(local.transcription).toMatchObject({ baseURL: 'http://127.0.0.1:9000/v1', apiKey: undefined });
    expect(() => parseConfig({ TRANSCRIBE_MODEL: 'whisper-1' })).toThrow(/TRANSCRIBE_MODEL is set but there is no service/);
  });

  it('never echoes a secret in an error', () => {
    expect(() => parseConfig({ WEBHOOK_URL: 'https://x.example', WEBHOOK_SECRET: '' })).toThrow(/WEBHOOK_SECRET/);
  });

  it('documents every variable in .env.example and the README, and .env.example names nothing else', () => {
    const example = fs.readFileSync('.env.example', 'utf8');
    const readme = fs.readFileSync('README.md', 'utf8');
    const known: string[] = [...CONFIG_VARIABLES, ...OTHER_VARIABLES];
    for (const name of known) {
      expect(example, name).toMatch(new RegExp(`^${name}=`, 'm'));
      expect(readme, name).toContain(`\`${name}\``);
    }
    const listed = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
    expect(listed.filter((name) => !known.includes(name))).toEqual([]);
  });

  it.each([
    ['EMBEDDING_PROVIDER', 'foo', 'EMBEDDING_PROVIDER must be one of: transformers, openai, none (got "foo").'],
    ['LOG_LEVEL', 'verbose', 'LOG_LEVEL must be one of: debug, info, warn, error, silent (got "verbose").'],
    [
      'EMBEDDING_PROVIDER',
      'transformer',
      'EMBEDDING_PROVIDER must be one of: transformers, openai, none (got "transformer"; did you mean transformers?).',
    ],
    ['EMBEDDING_POOLING', 'MEAN', 'EMBEDDING_POOLING must be one of: auto, cls, mean (got "MEAN"; did you mean mean?).'],
  ])('says a bad choice %s=%s in plain words', (name, value, message) => {
    expect(() => parseConfig({ [name]: value })).toThrow(new ConfigError(message));
  });
});
