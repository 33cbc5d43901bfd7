/** The fake server must look like OpenAI to the real client, or every test built on it proves nothing. */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';

let fake: FakeOpenAI;
let client: OpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI({ embeddingDimension: 16 });
  client = new OpenAI({ apiKey: 'sk-test', baseURL: fake.url, maxRetries: 0, logLevel: 'off' });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('fake OpenAI server', () => {
  it('listens on 127.0.0.1 only', () => {
    expect(new URL(fake.url).hostname).toBe('127.0.0.1');
  });

  it('default handler answers from source [1] and cites it', async () => {
    const completion = await client.chat.completions.create({
      model: 'm',
      messages: [
        {
          role: 'user',
          content:
            '<sources>\n[1] Title (2024-01-01)\nFirst sentence here. Second one.\n\n[2] Other (2024-01-02)\nNope.\n</sources>\n\nQuestion: q',
        },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe('First sentence here. [1]');
    expect(fake.requests[0]?.messages?.[0]?.role).toBe('user');
  });

  it('streams SSE chunks that end with [DONE]', async () => {
    fake.setHandler(() => ({ text: 'one two three four five six', chunkSize: 4 }));
    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const parts: string[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      parts.push(chunk.choices[0]?.delta.content ?? '');
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(parts.join('')).toBe('one two three four five six');
    expect(parts.filter(Boolean).length).toBeGreaterThan(2);
    expect(finish).toBe('stop');
  });

  it('serves scripted errors with headers', async () => {
    fake.setHandler(() => ({ status: 429, headers: { 'retry-after': '7' } }));
    const error = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('7');
  });

  it('returns deterministic, normalised embeddings in both encodings', async () => {
    const a = await client.embeddings.create({ model: 'e', input: ['Kolokoltsev meets Lacroix', 'weather on Mars'] });
    const b = await client.embeddings.create({ model: 'e', input: 'Kolokoltsev meets Lacroix', encoding_format: 'float' });
    const va = a.data[0]?.embedding ?? [];
    expect(va).toHaveLength(16);
    expect(b.data[0]?.embedding).toHaveLength(16);
    for (const [i, x] of va.entries()) expect(x).toBeCloseTo(b.data[0]?.embedding[i] ?? NaN, 6);
    expect(Math.hypot(...va)).toBeCloseTo(1, 5);
    expect(a.data[1]?.embedding).not.toEqual(va);
  });
});
