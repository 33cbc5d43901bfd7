import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countStoredStems, encodeStems, stemSet } from '../../src/util/stems.js';

const words = ['erupted', 'eruption', 'volcano', "Tamuna's", 'O’Brien', 'élan', 'Россия', '2024', 'knives', 'the', 'a', 'don’t'];

describe('stored stems', () => {
  it('count exactly the wanted stems stemming the text would find', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...words), fc.string({ maxLength: 8 })), { maxLength: 40 }),
        fc.array(fc.oneof(fc.constantFrom(...words), fc.string({ maxLength: 6 })), { maxLength: 6 }),
        (textWords, queryWords) => {
          const text = textWords.join(' ');
          const want = [...new Set(queryWords.flatMap((w) => [...stemSet(w)]))];
          const have = stemSet(text);
          expect(countStoredStems(encodeStems(text), want)).toBe(want.filter((s) => have.has(s)).length);
        },
      ),
    );
  });

  it('match whole stems only, never a stem inside a longer one', () => {
    const stored = encodeStems('Volcanologists watched the volcano');
    expect(countStoredStems(stored, ['volcano'])).toBe(1);
    expect(countStoredStems(encodeStems('Volcanologists watched'), ['volcano', 'watch', 'olog'])).toBe(1);
    expect(countStoredStems('', ['volcano'])).toBe(0);
  });
});
