import { describe, expect, it } from 'vitest';
import { parseTimeFilter } from '../../src/retrieval/time.js';

// A Thursday; its ISO week runs Monday 24 June to Sunday 30 June.
const REF = '2024-06-27';

function range(query: string, reference: Date | string = REF): [string, string] | null {
  const f = parseTimeFilter(query, reference);
  return f ? [f.from, f.to] : null;
}

describe('parseTimeFilter: absolute dates', () => {
  it.each([
    ['What happened in June 2024?', '2024-06-01', '2024-06-30'],
    ['June 2024 sanctions', '2024-06-01', '2024-06-30'],
    ['sanctions in Feb 2024', '2024-02-01', '2024-02-29'],
    ['news from Sept 2023', '2023-09-01', '2023-09-30'],
    ['dec. 2023 strikes', '2023-12-01', '2023-12-31'],
    ['What did the G20 say in 2019?', '2019-01-01', '2019-12-31'],
    ['2019 G20 summit', '2019-01-01', '2019-12-31'],
    ['the war of 1939', '1939-01-01', '1939-12-31'],
    ['What did Volk say on 27 June 2024?', '2024-06-27', '2024-06-27'],
    ['on the 1st of March 2022', '2022-03-01', '2022-03-01'],
    ['June 27, 2024 summit', '2024-06-27', '2024-06-27'],
    ['Feb 25 2022 sanctions', '2022-02-25', '2022-02-25'],
    ['on 2024-06-27', '2024-06-27', '2024-06-27'],
    ['2024-02-29 leap day', '2024-02-29', '2024-02-29'],
    ['since March 2024', '2024-03-01', REF],
    ['since 2022', '2022-01-01', REF],
  ])('%s → %s..%s', (query, from, to) => {
    expect(range(query)).toEqual([from, to]);
  });

  it('reads a bare month as its latest occurrence on or before the reference', () => {
    expect(range('What happened in March?')).toEqual(['2024-03-01', '2024-03-31']);
    expect(range('in June')).toEqual(['2024-06-01', '2024-06-30']);
    expect(range('during August')).toEqual(['2023-08-01', '2023-08-31']);
    expect(range('in dec')).toEqual(['2023-12-01', '2023-12-31']);
  });

  it('reads a day without a year as its latest occurrence on or before the reference', () => {
    expect(range('What happened on June 26?')).toEqual(['2024-06-26', '2024-06-26']);
    expect(range('on 28 June')).toEqual(['2023-06-28', '2023-06-28']);
    expect(range('on 29 February', '2025-06-01')).toEqual(['2024-02-29', '2024-02-29']);
  });

  it('tells recent time with no calendar edge ("the latest") from a calendar period ("this week")', () => {
    for (const q of ['what happened recently?', 'the latest on Brexit', 'lately', 'these days']) {
      expect(parseTimeFilter(q, REF)?.vague, q).toBe(true);
    }
    for (const q of ['this week', 'yesterday', 'last weekend', 'last month', 'in the past 3 days', 'today', 'in June 2024']) {
      expect(parseTimeFilter(q, REF)?.vague, q).toBe(false);
    }
  });

  it('reports the phrase with its preposition and removes it from the query', () => {
    expect(parseTimeFilter('What happened in June 2024?', REF)).toEqual({
      from: '2024-06-01',
      to: '2024-06-30',
      matched: 'in June 2024',
      cleanedQuery: 'What happened?',
      kind: 'absolute',
      vague: false,
    });
    expect(parseTimeFilter('In 2019, what did the G20 say?', REF)?.cleanedQuery).toBe('what did the G20 say?');
    const f = parseTimeFilter('What did Volk say on 27 June 2024 about Lacroix?', REF);
    expect(f?.matched).toBe('on 27 June 2024');
    expect(f?.cleanedQuery).toBe('What did Volk say about Lacroix?');
  });

  it('prefers the full date over the month or year inside it', () => {
    expect(parseTimeFilter('June 27, 2024', REF)?.matched).toBe('June 27, 2024');
    expect(parseTimeFilter('in June 2024', REF)?.matched).toBe('in June 2024');
  });

  it('is case-insensitive', () => {
    expect(range('IN JUNE 2024')).toEqual(['2024-06-01', '2024-06-30']);
    expect(range('LAST WEEK')).toEqual(['2024-06-17', '2024-06-23']);
    expect(range('Recently')).toEqual(['2024-05-29', REF]);
  });
});

describe('parseTimeFilter: relative to the newest article', () => {
  it.each([
    ['What happened last week?', '2024-06-17', '2024-06-23'],
    ['this week', '2024-06-24', REF],
    ['last month', '2024-05-01', '2024-05-31'],
    ['this month', '2024-06-01', REF],
    ['last year', '2023-01-01', '2023-12-31'],
    ['this year', '2024-01-01', REF],
    ['yesterday', '2024-06-26', '2024-06-26'],
    ['What did Volk say today?', REF, REF],
    ['What happened recently?', '2024-05-29', REF],
    ['What is the latest on Ukraine?', '2024-05-29', REF],
    ['in the last 10 days', '2024-06-18', REF],
    ['in the past 2 weeks', '2024-06-14', REF],
    ['in the last 3 months', '2024-03-28', REF],
    ['over the past two years', '2022-06-28', REF],
    ['in the last week', '2024-06-21', REF],
    ['the past month', '2024-05-28', REF],
  ])('%s → %s..%s', (query, from, to) => {
    expect(range(query)).toEqual([from, to]);
  });

  it('uses the reference date, not the wall clock', () => {
    expect(range('yesterday', '2019-03-01')).toEqual(['2019-02-28', '2019-02-28']);
    expect(range('last month', '2024-01-15')).toEqual(['2023-12-01', '2023-12-31']);
    expect(range('last week', '2024-01-01')).toEqual(['2023-12-25', '2023-12-31']);
    expect(range('this week', '2024-06-30')).toEqual(['2024-06-24', '2024-06-30']);
    expect(range('in March', '2024-03-10')).toEqual(['2024-03-01', '2024-03-31']);
  });

  it('clamps month arithmetic to the end of shorter months', () => {
    expect(range('in the last month', '2024-03-31')).toEqual(['2024-03-01', '2024-03-31']);
  });

  it('accepts a Date reference by its UTC calendar day', () => {
    expect(range('today', new Date('2024-06-27T23:30:00Z'))).toEqual([REF, REF]);
    expect(range('today', '2024-06-27T23:30:00Z')).toEqual([REF, REF]);
  });

  it('rejects an invalid reference', () => {
    expect(() => parseTimeFilter('today', 'not a date')).toThrow(RangeError);
  });
});

describe('parseTimeFilter: no time expression', () => {
  it.each([
    'What did the G20 say?',
    'Boeing 737',
    'growth of 2019.5 percent',
    'US$2019 in aid',
    'a budget of 1,2019 units',
    'the 2019-20 season',
    'a 12345 figure',
    'the year 2150',
    'killed 151 others',
    'on 2023-02-29',
    'May I ask about sanctions?',
    'Who will march in Moscow?',
    'the last word on sanctions',
    '',
  ])('%j → null', (query) => {
    expect(parseTimeFilter(query, REF)).toBeNull();
  });
});
