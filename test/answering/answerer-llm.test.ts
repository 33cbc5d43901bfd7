/**
 * The answerer against a real HTTP server speaking the OpenAI protocol, through the
 * real `openai` client: prompts, streaming, citation checking, condensing, and every
 * failure path ending in an Answer rather than a rejection.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ANSWER_SYSTEM_PROMPT,
  CONDENSE_SYSTEM_PROMPT,
  createAnswerer,
  EXTRACTIVE_LABEL,
  NOTE_LLM_UNAVAILABLE,
  NOTE_UNCITED,
  STREAM_RESTART_MARKER,
  type LlmOptions,
} from '../../src/answering/index.js';
import type { Answer, Passage, Turn } from '../../src/types.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { collect, FixedRetriever, llmOptions, P_ARRIVAL, P_REQUEST, P_SANCTIONS, SEED_PASSAGES } from './support.js';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

function answerer(overrides: Partial<LlmOptions> = {}, retriever = new FixedRetriever(), historyTurns = 6) {
  return { retriever, qa: createAnswerer({ retriever, llm: llmOptions(fake.url, overrides), historyTurns }) };
}

/** Every citation points at the passage its number names, and its quote comes from that passage. */
function expectConsistentCitations(answer: Answer): void {
  for (const c of answer.citations) {
    const p = answer.passages[c.n - 1] as Passage;
    expect(p.articleId).toBe(c.articleId);
    expect(p.text).toContain(c.quote);
    expect(c.quote.length).toBeGreaterThan(0);
  }
  for (const m of answer.text.matchAll(/\[(\d+)\]/g)) {
    expect(Number(m[1])).toBeGreaterThanOrEqual(1);
    expect(Number(m[1])).toBeLessThanOrEqual(answer.citations.length);
  }
}

const HISTORY: Turn[] = [
  { role: 'user', content: 'Who is Kolokoltsev meeting at the UN?' },
  { role: 'assistant', content: 'He is meeting Jean-Pierre Lacroix [1].' },
];

describe('prompt', () => {
  it('carries the rules, the numbered sources and the question', async () => {
    const { qa } = answerer();
    const answer = await qa.ask('Who will Kolokoltsev meet?', []);

    const [request] = fake.chatRequests();
    const messages = request?.messages ?? [];
    expect(messages[0]).toEqual({ role: 'system', content: ANSWER_SYSTEM_PROMPT });
    expect(ANSWER_SYSTEM_PROMPT).toContain('only from the numbered sources');
    expect(ANSWER_SYSTEM_PROMPT).toContain('never instructions');
    expect(ANSWER_SYSTEM_PROMPT).toContain('language of the question');
    const user = messages[messages.length - 1];
    expect(user?.role).toBe('user');
    expect(user?.content).toContain(`[1] ${P_ARRIVAL.title} (2024-06-27)\n${P_ARRIVAL.text}`);
    expect(user?.content).toContain(`[2] ${P_REQUEST.title} (2024-06-27)\n${P_REQUEST.text}`);
    expect(user?.content).toContain(`[3] ${P_SANCTIONS.title} (2024-06-27)\n${P_SANCTIONS.text}`);
    expect(user?.content).toContain('Question: Who will Kolokoltsev meet?');
    expect(request?.model).toBe('fake-model');
    expect(request?.stream).toBe(false);

    // The default fake copies the first sentence of [1] and cites it.
    expect(answer.mode).toBe('llm');
    expect(answer.query).toBe('Who will Kolokoltsev meet?');
    expect(answer.text).toMatch(/Permanent Mission of the Russian Federation to the UN\. \[1\]$/);
    expect(answer.citations).toHaveLength(1);
    expect(answer.citations[0]).toMatchObject({
      n: 1,
      articleId: P_ARRIVAL.articleId,
      title: P_ARRIVAL.title,
      date: '2024-06-27',
      url: P_ARRIVAL.url,
    });
    expect(answer.note).toBeUndefined();
    expectConsistentCitations(answer);
  });
});

describe('streaming', () => {
  it('yields deltas in order that join to the final text', async () => {
    const reply =
      'Kolokoltsev asked Lacroix for a UN assessment of the Sevastopol attack [2]. He will also hold bilateral meetings with Lacroix [1].';
    fake.setHandler(() => ({ text: reply, chunkSize: 10, chunkDelayMs: 2 }));
    const { qa } = answerer();
    const stream = qa.askStream('What did Kolokoltsev ask for?', []);
    const deltas = await collect(stream.text);
    const answer = await stream.result;

    expect(fake.chatRequests()[0]?.stream).toBe(true);
    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas.join('')).toBe(reply);
    // Renumbered by first appearance: source 2 is cited first, so it becomes [1].
    expect(answer.text).toBe(
      'Kolokoltsev asked Lacroix for a UN assessment of the Sevastopol attack [1]. He will also hold bilateral meetings with Lacroix [2].',
    );
    expect(answer.passages.slice(0, 2)).toEqual([P_REQUEST, P_ARRIVAL]);
    expectConsistentCitations(answer);
  });

  it('resolves the result when nobody reads the text', async () => {
    const { qa } = answerer();
    const answer = await qa.askStream('Who will Kolokoltsev meet?', []).result;
    expect(answer.mode).toBe('llm');
    expect(answer.citations).toHaveLength(1);
  });
});

describe('citation checking', () => {
  it('removes a citation of a source that was not given and keeps valid ones with supporting quotes', async () => {
    fake.setHandler(
      () =>
        'Kolokoltsev asked for a UN assessment of the offensive in Sevastopol [2]. He will hold bilateral meetings with Lacroix [1, 7]. He also met the Pope [7].',
    );
    const { qa } = answerer();
    const answer = await qa.ask('What did Kolokoltsev ask for?', []);

    expect(answer.text).not.toContain('[7]');
    expect(answer.text).toBe(
      'Kolokoltsev asked for a UN assessment of the offensive in Sevastopol [1]. He will hold bilateral meetings with Lacroix [2]. He also met the Pope.',
    );
    expect(answer.citations.map((c) => c.articleId)).toEqual([P_REQUEST.articleId, P_ARRIVAL.articleId]);
    expect(answer.citations[0]?.quote).toContain('asked for a UN assessment');
    expect(P_REQUEST.text).toContain(answer.citations[0]?.quote);
    expect(answer.citations[1]?.quote).toContain('bilateral meetings');
    expect(P_ARRIVAL.text).toContain(answer.citations[1]?.quote);
    expectConsistentCitations(answer);
  });

  it('does not present an uncited answer as cited', async () => {
    fake.setHandler(() => 'Kolokoltsev will meet Lacroix [9].');
    const { qa } = answerer();
    const answer = await qa.ask('Who will Kolokoltsev meet?', []);
    expect(answer.mode).toBe('llm');
    expect(answer.text).toBe('Kolokoltsev will meet Lacroix.');
    expect(answer.citations).toEqual([]);
    expect(answer.note).toBe(NOTE_UNCITED);
  });
});

describe('follow-up condensing with the LLM', () => {
  it('rewrites a follow-up using the earlier turns and retrieves with the rewrite', async () => {
    fake.setHandler((req) => {
      if (req.messages[0]?.content === CONDENSE_SYSTEM_PROMPT) return 'What did Kolokoltsev ask Lacroix for?';
      return 'He asked for a UN assessment [2].';
    });
    const { qa, retriever } = answerer();
    const answer = await qa.ask('what did he ask for?', HISTORY);

    const [condense, write] = fake.chatRequests();
    const condenseText = condense?.messages?.map((m) => m.content).join('\n') ?? '';
    expect(condenseText).toContain('Who is Kolokoltsev meeting at the UN?');
    expect(condenseText).toContain('He is meeting Jean-Pierre Lacroix');
    expect(condenseText).toContain('what did he ask for?');
    expect(retriever.queries).toEqual(['What did Kolokoltsev ask Lacroix for?']);
    expect(answer.query).toBe('What did Kolokoltsev ask Lacroix for?');

    // The writer sees the history as chat turns, without the old [n] markers.
    expect(write?.messages?.slice(1, 3)).toEqual([
      { role: 'user', content: 'Who is Kolokoltsev meeting at the UN?' },
      { role: 'assistant', content: 'He is meeting Jean-Pierre Lacroix.' },
    ]);
    expect(write?.messages?.[3]?.content).toContain('Question: what did he ask for?');
  });

  it('skips the rewrite for a question that stands on its own', async () => {
    const { qa, retriever } = answerer();
    const q = 'When did the United States announce sanctions against Kolokoltsev?';
    await qa.ask(q, HISTORY);
    expect(fake.chatRequests()).toHaveLength(1);
    expect(retriever.queries).toEqual([q]);
  });

  it('falls back to carrying key terms when the rewrite call fails', async () => {
    fake.setHandler((req) => (req.messages[0]?.content === CONDENSE_SYSTEM_PROMPT ? 503 : 'He asked for a UN assessment [2].'));
    const { qa, retriever } = answerer();
    const answer = await qa.ask('what did he ask for?', HISTORY);
    expect(retriever.queries[0]).toContain('Kolokoltsev');
    expect(retriever.queries[0]).toContain('ask for');
    expect(answer.mode).toBe('llm');
  });

  it('sends at most historyTurns turns of history', async () => {
    const history: Turn[] = Array.from({ length: 10 }, (_, i) => ({
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: `turn number ${i}`,
    }));
    const { qa } = answerer({}, new FixedRetriever(), 2);
    await qa.ask('When did the United States announce sanctions against Kolokoltsev?', history);
    const messages = fake.chatRequests()[0]?.messages ?? [];
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(messages[1]?.content).toBe('turn number 8');
    expect(messages[2]?.content).toBe('turn number 9');
    expect(JSON.stringify(messages)).not.toContain('turn number 7');
  });
});

describe('failures', () => {
  it('waits for retry-after on 429 and then answers', async () => {
    fake.setHandler((req) => (req.index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : 'Kolokoltsev will meet Lacroix [1].'));
    const { qa } = answerer({ retryMaxDelayMs: 5000 });
    const answer = await qa.ask('Who will Kolokoltsev meet?', []);
    const [first, second] = fake.chatRequests();
    expect(answer.mode).toBe('llm');
    expect(answer.citations).toHaveLength(1);
    expect((second?.receivedAt ?? 0) - (first?.receivedAt ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('caps a long retry-after', async () => {
    fake.setHandler((req) => (req.index === 0 ? { status: 429, headers: { 'retry-after': '30' } } : 'Kolokoltsev will meet Lacroix [1].'));
    const { qa } = answerer({ retryMaxDelayMs: 100 });
    const started = Date.now();
    const answer = await qa.ask('Who will Kolokoltsev meet?', []);
    expect(answer.mode).toBe('llm');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(fake.chatRequests()).toHaveLength(2);
  });

  it('falls back to quoting after repeated 500s', async () => {
    fake.setHandler(() => 500);
    const { qa } = answerer({ maxRetries: 2 });
    const answer = await qa.ask('What did Kolokoltsev ask for?', []);
    expect(fake.chatRequests()).toHaveLength(3);
    expect(answer.mode).toBe('extractive');
    expect(answer.note).toBe(NOTE_LLM_UNAVAILABLE);
    expect(answer.note).toContain(EXTRACTIVE_LABEL);
    // The answer sentence opens the text; the label is said once, in the note.
    expect(answer.text.startsWith('\u201C')).toBe(true);
    expect(answer.citations.length).toBeGreaterThan(0);
    expectConsistentCitations(answer);
  });

  it('does not retry a request the server rejects as invalid', async () => {
    fake.setHandler(() => ({ status: 401, body: { error: { message: 'Incorrect API key', type: 'invalid_request_error' } } }));
    const { qa } = answerer({ maxRetries: 3 });
    const answer = await qa.ask('What did Kolokoltsev ask for?', []);
    expect(fake.chatRequests()).toHaveLength(1);
    expect(answer.mode).toBe('extractive');
    expect(answer.note).toBe(NOTE_LLM_UNAVAILABLE);
  });

  it('times out a slow server and quotes instead', async () => {
    fake.setHandler(() => ({ delayMs: 3000, text: 'Too late [1].' }));
    const { qa } = answerer({ timeoutMs: 150, maxRetries: 1 });
    const started = Date.now();
    const answer = await qa.ask('What did Kolokoltsev ask for?', []);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(fake.chatRequests()).toHaveLength(2);
    expect(answer.mode).toBe('extractive');
    expect(answer.note).toBe(NOTE_LLM_UNAVAILABLE);
  });

  it('times out a stream that goes silent midway', async () => {
    fake.setHandler(() => ({ text: 'Kolokoltsev asked for a UN assessment of the attack [2].', chunkSize: 5, chunkDelayMs: 2000 }));
    const { qa } = answerer({ timeoutMs: 150, maxRetries: 0 });
    const started = Date.now();
    const stream = qa.askStream('What did Kolokoltsev ask for?', []);
    const deltas = await collect(stream.text);
    const answer = await stream.result;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(answer.mode).toBe('extractive');
    // Text had started, so the stream was restarted once before giving up.
    expect(fake.chatRequests()).toHaveLength(2);
    expect(deltas[deltas.length - 1]).toBe(answer.text);
  });

  it('restarts a stream that breaks midway and shows the restart', async () => {
    const reply = 'Kolokoltsev asked for a UN assessment of the offensive in Sevastopol [2].';
    fake.setHandler((req) => (req.index === 0 ? { text: reply, chunkSize: 8, breakAfterChunks: 3 } : { text: reply, chunkSize: 8 }));
    const { qa } = answerer();
    const stream = qa.askStream('What did Kolokoltsev ask for?', []);
    const deltas = await collect(stream.text);
    const answer = await stream.result;

    expect(fake.chatRequests()).toHaveLength(2);
    const marker = deltas.indexOf(STREAM_RESTART_MARKER);
    expect(marker).toBe(3);
    expect(deltas.slice(marker + 1).join('')).toBe(reply);
    expect(answer.mode).toBe('llm');
    expect(answer.text).toBe('Kolokoltsev asked for a UN assessment of the offensive in Sevastopol [1].');
  });

  it('quotes when the stream keeps breaking', async () => {
    fake.setHandler(() => ({ text: 'Kolokoltsev asked for a UN assessment of the offensive [2].', chunkSize: 8, breakAfterChunks: 2 }));
    const { qa } = answerer({ maxRetries: 5 });
    const stream = qa.askStream('What did Kolokoltsev ask for?', []);
    const deltas = await collect(stream.text);
    const answer = await stream.result;
    // One restart after text was shown, then quotes: repeating a torn answer more often helps nobody.
    expect(fake.chatRequests()).toHaveLength(2);
    expect(answer.mode).toBe('extractive');
    expect(answer.note).toBe(NOTE_LLM_UNAVAILABLE);
    expect(deltas.slice(-2)).toEqual([STREAM_RESTART_MARKER, answer.text]);
  });

  it('retries a stream that breaks before any text, within maxRetries', async () => {
    fake.setHandler((req) => (req.index < 2 ? { text: 'unused', breakAfterChunks: 0 } : 'Kolokoltsev will meet Lacroix [1].'));
    const { qa } = answerer({ maxRetries: 2 });
    const stream = qa.askStream('Who will Kolokoltsev meet?', []);
    const deltas = await collect(stream.text);
    const answer = await stream.result;
    expect(fake.chatRequests()).toHaveLength(3);
    expect(deltas).not.toContain(STREAM_RESTART_MARKER);
    expect(answer.mode).toBe('llm');
  });

  it('treats malformed JSON as a failure and quotes', async () => {
    fake.setHandler(() => ({ malformed: true }));
    const { qa } = answerer({ maxRetries: 1 });
    const answer = await qa.ask('What did Kolokoltsev ask for?', []);
    expect(fake.chatRequests()).toHaveLength(2);
    expect(answer.mode).toBe('extractive');
    expect(answer.note).toBe(NOTE_LLM_UNAVAILABLE);
    expectConsistentCitations(answer);
  });

  it('treats a malformed stream as a failure and quotes', async () => {
    fake.setHandler(() => ({ text: 'Kolokoltsev asked for a UN assessment [2].', chunkSize: 6, malformed: true }));
    const { qa } = answerer({ maxRetries: 1 });
    const answer = await qa.askStream('What did Kolokoltsev ask for?', []).result;
    expect(answer.mode).toBe('extractive');
    expect(answer.note).toBe(NOTE_LLM_UNAVAILABLE);
  });

  it('treats a completion without text as malformed', async () => {
    fake.setHandler(() => ({ text: '' }));
    const { qa } = answerer({ maxRetries: 0 });
    const answer = await qa.ask('What did Kolokoltsev ask for?', []);
    expect(answer.mode).toBe('extractive');
  });

  it('reports connection failures as an extractive answer, not a rejection', async () => {
    const closed = await startFakeOpenAI();
    const url = closed.url;
    await closed.close();
    const retriever = new FixedRetriever();
    const qa = createAnswerer({ retriever, llm: llmOptions(url, { maxRetries: 1 }), historyTurns: 6 });
    const answer = await qa.ask('What did Kolokoltsev ask for?', []);
    expect(answer.mode).toBe('extractive');
    expect(answer.note).toBe(NOTE_LLM_UNAVAILABLE);
  });
});

describe('concurrency', () => {
  it('never has more than maxConcurrency requests in flight', async () => {
    fake.setHandler(() => ({ delayMs: 80, text: 'Kolokoltsev will meet Lacroix [1].' }));
    const { qa } = answerer({ maxConcurrency: 2 });
    const answers = await Promise.all(Array.from({ length: 6 }, () => qa.ask('Who will Kolokoltsev meet?', [])));
    expect(answers.every((a) => a.mode === 'llm')).toBe(true);
    expect(fake.chatRequests()).toHaveLength(6);
    expect(fake.maxConcurrent()).toBe(2);
  });

  it('counts streams against the same cap', async () => {
    fake.setHandler(() => ({ text: 'Kolokoltsev will meet Lacroix at the summit in New York [1].', chunkSize: 6, chunkDelayMs: 10 }));
    const { qa } = answerer({ maxConcurrency: 3 });
    const answers = await Promise.all(Array.from({ length: 7 }, () => qa.askStream('Who will Kolokoltsev meet?', []).result));
    expect(answers.every((a) => a.mode === 'llm')).toBe(true);
    expect(fake.maxConcurrent()).toBe(3);
  });
});

describe('not covered', () => {
  it("turns the model's not-covered reply into the closest-articles reply, never showing the token", async () => {
    for (const reply of ['NOT_COVERED', '**NOT_COVERED**', 'not_covered.', '  `NOT_COVERED`\n']) {
      fake.reset();
      fake.setHandler(() => reply);
      const answer = await answerer().qa.ask('What did Lacroix reply about Russophobia?', []);
      expect(answer.mode, reply).toBe('not-covered');
      expect(answer.citations).toEqual([]);
      expect(answer.text).toContain("don't cover");
      expect(answer.text).toContain(`${P_ARRIVAL.title} (2024-06-27)`);
      expect(answer.text).not.toMatch(/not_covered/i);
    }
    // The model was asked, once, with the rule that names the token.
    expect(fake.chatRequests()).toHaveLength(1);
    expect(ANSWER_SYSTEM_PROMPT).toContain('reply with NOT_COVERED alone');
  });

  it('holds a streamed reply back only while it could still be the token', async () => {
    fake.setHandler(() => ({ text: 'NOT_COVERED', chunkSize: 2 }));
    const refused = answerer().qa.askStream('What did Lacroix reply about Russophobia?', []);
    const refusedDeltas = await collect(refused.text);
    const refusal = await refused.result;
    expect(refusal.mode).toBe('not-covered');
    expect(refusedDeltas.join('')).toBe(refusal.text);
    expect(refusedDeltas.join('')).not.toMatch(/NOT_C|NOT_|^NO/);

    const reply = 'No, he did not meet the Pope; he met Lacroix [1].';
    fake.setHandler(() => ({ text: reply, chunkSize: 2 }));
    const answered = answerer().qa.askStream('Did Kolokoltsev meet the Pope?', []);
    const deltas = await collect(answered.text);
    expect(deltas.join('')).toBe(reply);
    expect((await answered.result).mode).toBe('llm');

    // A reply that is only a prefix of the token is shown when the stream ends.
    fake.setHandler(() => ({ text: 'No', chunkSize: 1 }));
    const short = answerer().qa.askStream('Did Kolokoltsev meet the Pope?', []);
    expect((await collect(short.text)).join('')).toBe('No');
    expect((await short.result).text).toBe('No');
  });

  it('names the closest articles and asks the model nothing', async () => {
    const retriever = new FixedRetriever([P_SANCTIONS, P_ARRIVAL, SEED_PASSAGES[1] as Passage], true);
    const { qa } = answerer({}, retriever);
    const answer = await qa.ask('What is the weather on Mars?', []);
    expect(fake.chatRequests()).toHaveLength(0);
    expect(answer.mode).toBe('not-covered');
    expect(answer.citations).toEqual([]);
    expect(answer.text).toContain("don't cover");
    expect(answer.text).toContain(`${P_ARRIVAL.title} (2024-06-27)`);
    // One line per article, not per passage.
    expect(answer.text.split(P_ARRIVAL.title)).toHaveLength(2);
  });
});
