/**
 * Fixtures for the answering tests: passages cut from the seed article and a retriever
 * that returns them unchanged (retrieval is tested on its own), recording the queries it got.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LlmOptions } from '../../src/answering/index.js';
import type { Passage, PeriodNote, RetrievalResult, Retriever } from '../../src/types.js';

const SEED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../seeds/000_cc2b64a9889106ac.txt');
const seedText = fs.readFileSync(SEED, 'utf8').replace(/^\s*date \d{4}-\d{2}-\d{2}\s+/, '');
/** The seed article's paragraphs. */
export const paragraphs = seedText
  .split(/\n\s*\n/)
  .map((p) => p.trim())
  .filter(Boolean);

const SEED_ARTICLE = {
  articleId: '000_cc2b64a9889106ac',
  title: 'Kolokoltsev at the UN police chiefs summit',
  date: '2024-06-27',
  url: 'https://example.com/kolokoltsev-uncops',
  source: 'seed',
};

function passage(paragraphIndexes: number[], score: number): Passage {
  const text = paragraphIndexes.map((i) => paragraphs[i] as string).join('\n\n');
  const start = seedText.indexOf(paragraphs[paragraphIndexes[0] as number] as string);
  return {
    ...SEED_ARTICLE,
    chunkIds: paragraphIndexes.map((i) => `${SEED_ARTICLE.articleId}#${i}`),
    start,
    end: start + text.length,
    text,
    score,
  };
}

/** [1]: arrival and the meetings with Lacroix. */
export const P_ARRIVAL = passage([0, 1], 0.9);
/** [2]: what Kolokoltsev asked for (UN assessment), Russophobia. */
export const P_REQUEST = passage([5, 6, 7], 0.8);
/** [3]: the US sanctions. */
export const P_SANCTIONS = passage([2, 3], 0.7);
/** The three seed passages in retrieval order. */
export const SEED_PASSAGES: Passage[] = [P_ARRIVAL, P_REQUEST, P_SANCTIONS];

/** A second, unrelated article for "closest articles" listings. */
export const P_OTHER: Passage = {
  articleId: 'air-defence',
  title: 'Ukraine asks allies for more air defence',
  date: null,
  url: null,
  source: null,
  chunkIds: ['air-defence#0'],
  start: 0,
  end: 80,
  text: 'Ukraine asked its Western allies for more air defence systems after a wave of strikes.',
  score: 0.1,
};

/** A retriever returning fixed passages and recording each query. */
export class FixedRetriever implements Retriever {
  readonly queries: string[] = [];
  /** The `now` each query was asked with. */
  readonly asked: (Date | undefined)[] = [];
  constructor(
    private readonly passages: Passage[] = SEED_PASSAGES,
    private readonly notCovered = false,
    private readonly period?: PeriodNote,
  ) {}

  async retrieve(query: string, options: { now?: Date } = {}): Promise<RetrievalResult> {
    this.queries.push(query);
    this.asked.push(options.now);
    return { passages: this.passages, notCovered: this.notCovered, mode: 'lexical', ...(this.period ? { period: this.period } : {}) };
  }
}

/** LLM options pointing at the fake server, with test-sized timeouts and backoffs. */
export function llmOptions(url: string, overrides: Partial<LlmOptions> = {}): LlmOptions {
  return {
    apiKey: 'sk-test-not-a-real-key',
    baseURL: url,
    model: 'fake-model',
    timeoutMs: 2000,
    maxRetries: 2,
    maxConcurrency: 4,
    retryBaseMs: 5,
    retryMaxDelayMs: 50,
    ...overrides,
  };
}

/** Reads a whole stream of deltas. */
export async function collect(stream: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const d of stream) out.push(d);
  return out;
}
