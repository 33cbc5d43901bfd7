/**
 * LLM faults end to end: a user asks the bot (real index, retriever and answerer; the fake
 * OpenAI server misbehaves on the wire) and always gets a reply. A fault that clears within the
 * retry budget gives a normal cited answer; one that does not gives the extractive answer,
 * labelled as such, still with sources. The outcomes are printed as one table and written to
 * reports/llm-faults.json.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultHandler, type FakeHandler, type FakeReply } from '../support/fake-openai.js';
import { textOf } from '../support/telegram.js';
import { badPayloads, markdownTable, startStack, unexpectedErrors, writeReport, type Stack } from './support.js';

// The answer sentence opens the reply; the note after the quotes says what they are and why, once.
const EXTRACTIVE =
  /^\u201C[^\n]*\[\d+\]\n\n(\u201C[^\n]*\[\d+\]\n\n)*Extracted from the articles \(no AI summary\): the answer service is unavailable right now/;
const QUESTION = 'Who won the national chess championship?';

let s: Stack;
let nextUser = 45_000;
const results: { scenario: string; outcome: string; llmRequests: number; ms: number; labelled: boolean; sources: boolean }[] = [];

beforeAll(async () => {
  // The defaults apart from the shortest timeout config allows: 3 attempts (LLM_MAX_RETRIES=2), 1 s each.
  s = await startStack({ env: { LLM_TIMEOUT_MS: '1000', LLM_MAX_RETRIES: '2' } });
});

afterAll(async () => {
  const rows = results.map((r) => [r.scenario, r.outcome, r.llmRequests, r.ms]);
  console.log(`\nLLM faults through the bot:\n${markdownTable(['LLM fault', 'reply', 'LLM requests', 'ms to reply'], rows)}\n`);
  writeReport('llm-faults.json', results);
  await s?.stop();
});

const ok = async (req: Parameters<FakeHandler>[0]): Promise<FakeReply> => ({ text: String(await defaultHandler(req)), chunkSize: 12 });
/** Misbehaves as `fault` for the first `times` requests (all when undefined), then answers normally. */
function failing(fault: FakeReply, times?: number): FakeHandler {
  return async (req) => (times === undefined || req.index < times ? fault : ok(req));
}

/** Asks one question from a fresh chat under `handler` and records what came back. */
async function ask(scenario: string, handler: FakeHandler, question = QUESTION, history: string[] = []) {
  const chat = s.h.privateChat(++nextUser);
  s.fake.reset();
  for (const q of history) {
    await chat.send(q);
    await chat.waitForReplies(1, 20_000);
  }
  s.fake.reset();
  s.fake.setHandler(handler);
  const started = Date.now();
  await chat.send(question);
  const [reply] = await chat.waitForReplies(1, 30_000);
  const ms = Date.now() - started;
  const text = textOf(reply!);
  const labelled = EXTRACTIVE.test(text);
  const sources = /\n\nSources\n\[1\] /.test(text);
  const requests = s.fake.chatRequests();
  results.push({
    scenario,
    outcome: labelled ? 'extractive, labelled, with sources' : sources ? 'LLM answer with sources' : text.slice(0, 60),
    llmRequests: requests.length,
    ms,
    labelled,
    sources,
  });
  s.fake.reset();
  return { text, labelled, sources, requests, ms };
}

describe('faults that clear within the retry budget: a normal cited answer', () => {
  it('healthy (baseline)', async () => {
    const r = await ask('none (baseline)', ok);
    expect(r).toMatchObject({ labelled: false, sources: true });
    expect(r.text).toMatch(/chess championship/);
  });

  it('429 with retry-after: waits at least retry-after, then answers', async () => {
    const r = await ask('429 with retry-after: 1, once', failing({ status: 429, headers: { 'retry-after': '1' } }, 1));
    expect(r).toMatchObject({ labelled: false, sources: true });
    expect(r.requests).toHaveLength(2);
    expect(r.requests[1]!.receivedAt - r.requests[0]!.receivedAt).toBeGreaterThanOrEqual(1000);
  });

  it('500 once, a timeout once, a stream broken midway once, malformed JSON once', async () => {
    for (const [name, fault] of [
      ['500, once', { status: 500 }],
      ['timeout (no reply for 5 s), once', { delayMs: 5000, text: 'late' }],
      [
        'stream broken after 2 chunks, once',
        { text: 'Partial answer that never finishes because the connection drops here [1].', breakAfterChunks: 2, chunkSize: 10 },
      ],
      ['malformed JSON in the stream, once', { text: 'Broken stream answer text [1].', malformed: true, chunkSize: 8 }],
    ] as const) {
      const r = await ask(name, failing(fault, 1));
      expect(r, name).toMatchObject({ labelled: false, sources: true });
      expect(r.text, name).toMatch(/chess championship/);
      // A restarted stream's notice is only shown while streaming, never in the final answer.
      expect(r.text, name).not.toMatch(/interrupted/);
    }
  });

  it('a follow-up whose rewrite call fails still gets a cited answer about the right thing', async () => {
    // Only the condense request (the first one) fails; the rewrite falls back to carrying key terms.
    const r = await ask('500 on the follow-up rewrite', failing({ status: 500 }, 1), 'Where did she train?', [
      'Who won the national chess championship?',
    ]);
    expect(r).toMatchObject({ labelled: false, sources: true });
    expect(r.text).toMatch(/chess/i);
  });
});

describe('faults that do not clear: the extractive answer, labelled, with sources', () => {
  for (const [name, fault] of [
    ['429 with retry-after: 1, always', { status: 429, headers: { 'retry-after': '1' } }],
    ['500, always', { status: 500 }],
    ['503 with an HTML error page, always', { status: 503, headers: { 'content-type': 'text/html' }, body: '<html>upstream down</html>' }],
    ['timeout (no reply for 5 s), always', { delayMs: 5000, text: 'late' }],
    [
      'stream broken after 2 chunks, always',
      { text: 'Partial answer that never finishes because the connection drops here [1].', breakAfterChunks: 2, chunkSize: 10 },
    ],
    ['connection dropped before any byte, always', { text: 'x', breakAfterChunks: 0 }],
    ['malformed JSON in the stream, always', { text: 'Broken stream answer text [1].', malformed: true, chunkSize: 8 }],
    [
      '401 invalid API key (not retried)',
      { status: 401, body: { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } } },
    ],
  ] as const) {
    it(name, async () => {
      const r = await ask(name, failing(fault as FakeReply));
      expect(r).toMatchObject({ labelled: true, sources: true });
      expect(r.text).toMatch(/chess championship/);
      // Bounded: the first attempt plus at most LLM_MAX_RETRIES retries (401 is not retried).
      expect(r.requests.length).toBeLessThanOrEqual(3);
      if (name.startsWith('401')) expect(r.requests).toHaveLength(1);
    });
  }
});

describe('afterwards', () => {
  it('every reply was valid, and no update failed', async () => {
    expect(badPayloads(s.h)).toEqual([]);
    expect(s.h.logEvents().filter((e) => e.event === 'bot.update_failed')).toEqual([]);
    expect(unexpectedErrors(s.h)).toEqual([]);
    const r = await ask('healthy again', ok);
    expect(r).toMatchObject({ labelled: false, sources: true });
  });
});
