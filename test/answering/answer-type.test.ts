/** What a question asks for, the words that say the same thing, and how extractive answers use them. */
import { describe, expect, it } from 'vitest';
import { answerTypeOf, answerTypePositions, paraphrases, tokenize } from '../../src/answering/answer-type.js';
import { selectExtractiveSentences } from '../../src/answering/index.js';
import { stem } from '../../src/util/text.js';
import type { Passage } from '../../src/types.js';
import { P_ARRIVAL, paragraphs } from './support.js';

const positions = (question: string, sentence: string) => {
  const type = answerTypeOf(question);
  const asked = new Set(question.toLowerCase().split(/\W+/));
  return answerTypePositions(type, sentence, tokenize(sentence), asked).map((i) => tokenize(sentence)[i]?.word);
};

describe('answer types', () => {
  it('reads what the question asks for', () => {
    expect(answerTypeOf('How much did the bridge cost?')).toBe('number');
    expect(answerTypeOf('how many people died?')).toBe('number');
    expect(answerTypeOf('When does the warning run out?')).toBe('time');
    expect(answerTypeOf('Why was it delayed?')).toBe('cause');
    expect(answerTypeOf('What caused the crash?')).toBe('cause');
    expect(answerTypeOf('Where was the bus going?')).toBe('place');
    expect(answerTypeOf('In which Andalusian city was the bomb found?')).toBe('place');
    expect(answerTypeOf("who's going to chair it?")).toBe('name');
    expect(answerTypeOf('Which militant group is blamed?')).toBe('name');
    expect(answerTypeOf("what's the latest coronavirus death toll in china?")).toBe('number');
    expect(answerTypeOf('what was the vote on gay marriage in taiwan?')).toBe('number');
    expect(answerTypeOf('What did he ask for?')).toBeNull();
  });

  it('finds an amount for a money question, not a year or a count', () => {
    expect(positions('How much did the bridge cost?', 'The bridge opened in 2024 after two years of work.')).toEqual([]);
    expect(positions('How much did the bridge cost?', 'The bridge cost 410 million euros.')).toEqual(['410', 'million']);
    expect(positions('How much was pledged?', 'Donors pledged $8 million.')).toEqual(['8']);
    // Any number the question does not give, for a count.
    expect(positions('Of the 40 passengers, how many were Cuban?', 'Of the 40 passengers, 22 were Cuban.')).toEqual(['22']);
  });

  it('finds dates, causes, names and places', () => {
    expect(positions('When is the vote?', 'The vote is on Monday, 12 May.')).toEqual(['Monday', 'May']);
    // Dates said without a month or day name, read by chrono-node.
    expect(positions('When will the bridge reopen?', 'The bridge will reopen in two weeks.')).toEqual(['two']);
    expect(positions('When was the ruling?', 'The court ruled on 2021-05-04.')).toEqual(['2021']);
    expect(positions('When was the ruling in May?', 'The court ruled in May.')).toEqual([]);
    expect(positions('Why was it delayed?', 'Work was delayed because engineers found clay.')).toEqual(['because']);
    expect(positions('Why was it delayed?', 'Work was delayed for a year.')).toEqual([]);
    expect(positions('Who will chair it?', 'Edward Lampert will chair the company.')).toEqual(['Lampert']);
    expect(positions('Where did the bomb go off?', 'The bomb was found in Almería by police.')).toEqual(['Almería']);
  });
});

describe('paraphrases', () => {
  it('matches words of one meaning and stems that start one another', () => {
    expect(paraphrases(stem('cost'), stem('price'))).toBe(true);
    expect(paraphrases(stem('died'), stem('killed'))).toBe(true);
    expect(paraphrases(stem('chair'), stem('chairman'))).toBe(true);
    expect(paraphrases(stem('survive'), stem('survivor'))).toBe(true);
  });

  it('does not match unrelated words, short stems or the same stem', () => {
    expect(paraphrases(stem('cost'), stem('bridge'))).toBe(false);
    expect(paraphrases(stem('art'), stem('artist'))).toBe(false);
    expect(paraphrases(stem('cost'), stem('cost'))).toBe(false);
  });

  it('lets a sentence that says the question in other words answer it', () => {
    const text = 'Shares of both firms rose on the news. Edward Lampert will become chairman of the merged company.';
    const p: Passage = { ...P_ARRIVAL, text, start: 0, end: text.length };
    expect(selectExtractiveSentences('Who will chair the merged firm?', [p])[0]?.sentence).toContain('Edward Lampert');
  });
});

describe('follow-ups', () => {
  const seed: Passage = { ...P_ARRIVAL, text: paragraphs.join('\n\n'), start: 0, score: 1 };
  const meeting =
    '\u201CIn Moscow, ministry spokeswoman Irina Volk said today Kolokoltsev will hold bilateral meetings with UN Under-Secretary-General for Peacekeeping Operations Jean-Pierre Lacroix.\u201D [1]';

  it('does not quote again what the reply before already quoted', () => {
    const query = 'What did he ask the UN for? Kolokoltsev hold bilateral meetings';
    const picked = selectExtractiveSentences(query, [seed], 'What did he ask the UN for?', meeting);
    expect(picked[0]?.sentence).toContain('asked for a UN assessment');
    expect(picked.map((p) => p.sentence).join(' ')).not.toContain('bilateral meetings');
  });

  it('quotes it again when it is still the answer to what the follow-up asks', () => {
    const query = 'And who is he meeting? Kolokoltsev hold bilateral meetings';
    const picked = selectExtractiveSentences(query, [seed], 'And who is he meeting?', meeting);
    expect(picked[0]?.sentence).toContain('bilateral meetings with UN');
  });
});

describe('what the question asks about', () => {
  const article = (text: string): Passage => ({ ...P_ARRIVAL, text, start: 0, end: text.length, score: 1 });

  it('answers "how old" with the sentence giving an age, not another number', () => {
    const p = article(
      'Former Chilean dictator Augusto Pinochet was placed under house arrest after the court upheld one count of murder and nine counts of kidnapping. ' +
        'The 89-year-old retired general has been at his home recovering from a stroke.',
    );
    const question = "how old is chile's ex-dictator? heard he got house arrest this week";
    expect(selectExtractiveSentences(question, [p])[0]?.sentence).toContain('89-year-old');
  });

  it('reads an asking word at the end of the question as asking about the words before it', () => {
    const p = article(
      'Today, the state of Wisconsin held elections following a court battle over attempts to delay the voting. ' +
        "A number of poll workers quit ahead of Wisconsin's election, leading to the state using the National Guard to man polling booths. " +
        'The city of Milwaukee reduced the number of polling stations from 180 to 5, leading to lines multiple blocks long outside of the polling stations. ' +
        'Over a million people requested absentee ballots to vote by mail.',
    );
    const question = "Milwaukee cut its polling places from 180 down to how many for yesterday's vote?";
    expect(selectExtractiveSentences(question, [p])[0]?.sentence).toContain('from 180 to 5');
  });
});
