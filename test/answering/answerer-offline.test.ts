/** The answerer with no LLM configured: everything must still work, deterministically. */
import { describe, expect, it } from 'vitest';
import {
  createAnswerer,
  EXTRACTIVE_LABEL,
  extractiveAnswer,
  NOTE_NO_LLM,
  NOT_COVERED_TEXT,
  answerTypeOf,
  selectExtractiveSentences,
} from '../../src/answering/index.js';
import type { Passage, Retriever, Turn } from '../../src/types.js';
import { collect, FixedRetriever, P_ARRIVAL, P_OTHER, P_REQUEST, paragraphs, SEED_PASSAGES } from './support.js';

function offline(retriever = new FixedRetriever()) {
  return { retriever, qa: createAnswerer({ retriever, llm: null, historyTurns: 6 }) };
}

describe('when the question was asked', () => {
  it('passes the moment a question was asked on to retrieval', async () => {
    const { qa, retriever } = offline();
    const now = new Date('2024-06-30T09:00:00Z');
    await qa.ask('What did Kolokoltsev ask the UN for?', [], { now });
    await qa.ask('What did Kolokoltsev ask the UN for?', []);
    expect(retriever.asked).toEqual([now, undefined]);
  });

  it('opens the answer by saying the collection has nothing from the period asked about, naming its newest date', async () => {
    const period = { matched: 'this week', from: '2026-11-30', to: '2026-12-02', newest: '2024-06-27' };
    const { qa } = offline(new FixedRetriever(SEED_PASSAGES, false, period));
    const answer = await qa.ask('What did Kolokoltsev ask the UN for this week?', []);
    expect(answer.text.startsWith('I have no articles from this week (2026-11-30 to 2026-12-02); the newest is from 2024-06-27.\n\n')).toBe(
      true,
    );
    expect(answer.mode).toBe('extractive');
    const stream = qa.askStream('What did Kolokoltsev ask the UN for this week?', []);
    expect((await collect(stream.text)).join('')).toBe((await stream.result).text);
    const none = await offline(new FixedRetriever(SEED_PASSAGES, true, period)).qa.ask('Who won the final this week?', []);
    expect(none.mode).toBe('not-covered');
    expect(none.text).toMatch(/^I have no articles from this week .*\n\nThe articles I have don't cover this\./s);
  });
});

describe('extractive answers', () => {
  it('does not pad "Who is Kolokoltsev meeting?" with his sanctions, which only name him', () => {
    // The whole seed article as one passage, as retrieval merges its adjacent chunks.
    const text = paragraphs.join('\n\n');
    const seed: Passage = { ...P_ARRIVAL, text, end: P_ARRIVAL.start + text.length, score: 1 };
    const picked = selectExtractiveSentences('Who is Kolokoltsev meeting at the UN?', [seed]);
    expect(picked[0]?.sentence).toContain('bilateral meetings with UN Under-Secretary-General');
    expect(picked.map((p) => p.sentence).join(' ')).not.toMatch(/sanctions/);
  });

  it('quotes the detail a news sentence gives right after naming the topic', () => {
    const text =
      'United States helicopters based on an aircraft carrier off Aceh began dropping food to isolated villages. ' +
      'About 12 Seahawk helicopters are involved in the operation. The carrier arrived off the coast on Monday.';
    const aceh: Passage = { ...P_OTHER, articleId: 'aceh', title: 'US helicopters drop aid in Aceh', text, end: text.length, score: 1 };
    const picked = selectExtractiveSentences('How many helicopters are the Americans using in Aceh?', [aceh]);
    expect(picked[0]?.sentence).toBe('About 12 Seahawk helicopters are involved in the operation.');
  });

  it('quotes first what a follow-up asks, not what the earlier question was about', async () => {
    const { qa, retriever } = offline();
    const history: Turn[] = [
      { role: 'user', content: 'Who is Kolokoltsev meeting at the UN?' },
      { role: 'assistant', content: 'He will hold bilateral meetings with Jean-Pierre Lacroix [1].' },
    ];
    const answer = await qa.ask('What did he ask for?', history);
    // Retrieval got the earlier question's names along with the follow-up.
    expect(retriever.queries.at(-1)).toMatch(/Kolokoltsev/);
    const firstQuote = answer.text.split('\n\n')[0] ?? '';
    expect(firstQuote).toContain('asked for a UN assessment');
  });

  it('quotes the most relevant sentences, the answer first, labelled once in the note, each with a valid citation', async () => {
    const { qa } = offline();
    const answer = await qa.ask('What did Kolokoltsev ask the UN for?', []);

    expect(answer.mode).toBe('extractive');
    expect(answer.note).toBe(NOTE_NO_LLM);
    expect(answer.note).toContain(EXTRACTIVE_LABEL);
    expect(answer.text).not.toContain(EXTRACTIVE_LABEL);
    // The answering sentence is the first line.
    const firstQuote = answer.text.split('\n\n')[0] ?? '';
    expect(firstQuote).toContain('asked for a UN assessment');
    expect(firstQuote.endsWith('[1]')).toBe(true);
    expect(answer.citations[0]?.articleId).toBe(P_REQUEST.articleId);
    expect(answer.passages[0]).toBe(P_REQUEST);

    const quotes = answer.text.split('\n\n');
    expect(quotes.length).toBeGreaterThanOrEqual(1);
    expect(quotes.length).toBeLessThanOrEqual(3);
    const quotedBy = new Map<number, string[]>();
    for (const line of quotes) {
      const n = Number(/\[(\d+)\]$/.exec(line)?.[1]);
      const sentence = line.replace(/\s*\[\d+\]$/, '').slice(1, -1);
      // Every quoted sentence is verbatim from the passage its marker names.
      expect(answer.passages[n - 1]?.text).toContain(sentence);
      quotedBy.set(n, [...(quotedBy.get(n) ?? []), sentence]);
    }
    // A citation's quote is one of the sentences quoted under its number (two may not fit in 300 chars).
    expect([...quotedBy.keys()].sort()).toEqual(answer.citations.map((c) => c.n));
    for (const c of answer.citations) {
      expect(quotedBy.get(c.n)?.some((sentence) => c.quote.includes(sentence.slice(0, 60)))).toBe(true);
    }
  });

  it('quotes nothing when no sentence shares a topic word with the question, so the answer is "not covered"', () => {
    expect(selectExtractiveSentences('zzz qqq', SEED_PASSAGES)).toEqual([]);
    expect(extractiveAnswer('zzz qqq', SEED_PASSAGES)).toBeNull();
  });

  it('quotes only sentences that speak to the question, with no padding from unrelated text', () => {
    const unrelated: Passage = {
      ...P_OTHER,
      text: 'An unrelated opening sentence about the weather today. Nothing else here matters at all.',
    };
    const related: Passage = {
      ...P_ARRIVAL,
      text: 'Kolokoltsev asked Lacroix for a UN assessment of the Sevastopol attack. The minister travelled to New York by plane.',
    };
    const picked = selectExtractiveSentences('What did Kolokoltsev ask Lacroix about the Sevastopol attack assessment?', [
      unrelated,
      related,
    ]);
    expect(picked.map((p) => p.n)).toEqual([2]);
    expect(picked[0]?.sentence).toContain('asked Lacroix');
  });

  it('does not quote an article ranked far below the best one, even when it shares a phrase', () => {
    const best: Passage = {
      ...P_ARRIVAL,
      score: 1,
      text: 'The physicist Ada Moreno, who led the fusion project, retired this year at the age of 70.',
    };
    const weak: Passage = { ...P_OTHER, score: 0.4, text: 'Mir-Mohammadi was 71 years old when he died of the virus in Tehran.' };
    const picked = selectExtractiveSentences('How old was the physicist who led the fusion project?', [best, weak]);
    expect(picked.map((p) => p.n)).toEqual([1]);
  });

  it('prefers the sentence that holds what the question asks for', () => {
    const p: Passage = {
      ...P_ARRIVAL,
      text: 'The strike on Sevastopol drew condemnation from the ministry. The strike on Sevastopol reportedly killed four people and injured 151 others.',
    };
    expect(answerTypeOf('How many people were hurt in the strike on Sevastopol?')).toBe('number');
    expect(answerTypeOf('Who won the election?')).toBe('name');
    expect(answerTypeOf('When did the summit open?')).toBe('time');
    expect(answerTypeOf('Why did the minister travel?')).toBe('cause');
    expect(answerTypeOf('Where did the bus crash?')).toBe('place');
    expect(answerTypeOf('What did the minister say?')).toBeNull();
    const picked = selectExtractiveSentences('How many people were hurt in the strike on Sevastopol?', [p]);
    expect(picked[0]?.sentence).toContain('151');
  });

  it('never quotes the same sentence twice', () => {
    const built = extractiveAnswer('Kolokoltsev Lacroix meetings', [P_ARRIVAL, { ...P_ARRIVAL, articleId: 'copy' }]);
    const lines = built!.text.split('\n\n').map((l) => l.replace(/\s*\[\d+\]$/, ''));
    expect(new Set(lines).size).toBe(lines.length);
  });

  it('streams the final text once', async () => {
    const { qa } = offline();
    const stream = qa.askStream('What did Kolokoltsev ask the UN for?', []);
    const deltas = await collect(stream.text);
    const answer = await stream.result;
    expect(deltas).toEqual([answer.text]);
  });
});

describe('deterministic follow-up condensing', () => {
  it('carries the entity from the previous question into the query', async () => {
    const history: Turn[] = [
      { role: 'user', content: 'Who is Kolokoltsev meeting at the UN?' },
      { role: 'assistant', content: 'He is meeting Jean-Pierre Lacroix [1].' },
    ];
    const { qa, retriever } = offline();
    const answer = await qa.ask('what did he ask for?', history);
    expect(retriever.queries).toHaveLength(1);
    expect(retriever.queries[0]).toContain('Kolokoltsev');
    expect(retriever.queries[0]).toContain('ask for');
    expect(answer.query).toBe(retriever.queries[0]);
    expect(answer.text).toContain('asked for a UN assessment');
  });

  it('uses no history when historyTurns is 0', async () => {
    const retriever = new FixedRetriever();
    const qa = createAnswerer({ retriever, llm: null, historyTurns: 0 });
    await qa.ask('what did he ask for?', [{ role: 'user', content: 'Who is Kolokoltsev meeting at the UN?' }]);
    expect(retriever.queries).toEqual(['what did he ask for?']);
  });
});

describe('not covered', () => {
  it('says so and names the closest articles with their dates', async () => {
    const { qa } = offline(new FixedRetriever([P_ARRIVAL, P_OTHER], true));
    const answer = await qa.ask('What is the weather on Mars?', []);
    expect(answer.mode).toBe('not-covered');
    expect(answer.citations).toEqual([]);
    expect(answer.text.startsWith(NOT_COVERED_TEXT)).toBe(true);
    expect(answer.text).toContain(`${P_ARRIVAL.title} (2024-06-27)`);
    expect(answer.text).toContain(`${P_OTHER.title} (date unknown)`);
    // Suggestions only: no quote from the articles is presented as an answer.
    expect(answer.text).not.toContain(P_ARRIVAL.text.slice(0, 30));
    expect(answer.passages).toEqual([P_ARRIVAL, P_OTHER]);
  });

  it('copes with no passages at all', async () => {
    const { qa } = offline(new FixedRetriever([], false));
    const answer = await qa.ask('Anything?', []);
    expect(answer.mode).toBe('not-covered');
    expect(answer.text.startsWith(NOT_COVERED_TEXT)).toBe(true);
    expect(answer.passages).toEqual([]);
  });
});

describe('retrieval failures', () => {
  it('are not hidden: the result rejects and so does the text stream', async () => {
    const broken: Retriever = {
      retrieve: () => Promise.reject(new Error('index missing: run `npm run index`')),
    };
    const qa = createAnswerer({ retriever: broken, llm: null, historyTurns: 6 });
    await expect(qa.ask('Anything?', [])).rejects.toThrow('index missing');
    const stream = qa.askStream('Anything?', []);
    await expect(collect(stream.text)).rejects.toThrow('index missing');
    await expect(stream.result).rejects.toThrow('index missing');
  });
});

// Keeps the passage type honest for the helpers above.
const _typecheck: Passage[] = SEED_PASSAGES;
void _typecheck;
