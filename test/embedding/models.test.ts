import { describe, expect, it } from 'vitest';
import { knownModelProfile, resolveModelProfile } from '../../src/embedding/models.js';

const BGE_PREFIX = 'Represent this sentence for searching relevant passages: ';

describe('model profiles', () => {
  it.each([
    'Xenova/bge-small-en-v1.5',
    'Xenova/bge-base-en-v1.5',
    'BAAI/bge-small-en-v1.5',
    'BAAI/bge-large-en-v1.5',
    'Xenova/bge-small-en',
  ])('%s uses CLS pooling and the bge query instruction, no passage prefix', (model) => {
    expect(resolveModelProfile(model)).toEqual({
      pooling: 'cls',
      normalize: true,
      queryPrefix: BGE_PREFIX,
      passagePrefix: '',
      known: true,
      multilingual: false,
      poolingOverridden: false,
    });
  });

  it.each([
    'Xenova/all-MiniLM-L6-v2',
    'sentence-transformers/all-MiniLM-L6-v2',
    'Xenova/all-mpnet-base-v2',
    'Xenova/paraphrase-multilingual-MiniLM-L12-v2',
  ])('%s uses mean pooling without prefixes', (model) => {
    expect(resolveModelProfile(model)).toMatchObject({ pooling: 'mean', normalize: true, queryPrefix: '', passagePrefix: '', known: true });
  });

  it.each(['Xenova/e5-small-v2', 'Xenova/e5-base-v2', 'intfloat/e5-large', 'Xenova/multilingual-e5-small'])(
    '%s uses mean pooling with query:/passage: prefixes',
    (model) => {
      expect(resolveModelProfile(model)).toMatchObject({
        pooling: 'mean',
        queryPrefix: 'query: ',
        passagePrefix: 'passage: ',
        known: true,
      });
    },
  );

  it.each([
    ['Xenova/multilingual-e5-small', true],
    ['Xenova/multilingual-e5-base', true],
    ['Xenova/bge-m3', true],
    ['Xenova/paraphrase-multilingual-MiniLM-L12-v2', true],
    ['Xenova/e5-small-v2', false],
    ['Xenova/bge-small-en-v1.5', false],
    ['Xenova/all-MiniLM-L6-v2', false],
    ['someone/custom-encoder', false],
  ])('%s matches across languages: %s', (model, multilingual) => {
    expect(resolveModelProfile(model).multilingual).toBe(multilingual);
  });

  it('falls back to mean pooling without prefixes for an unknown model', () => {
    expect(knownModelProfile('someone/custom-encoder')).toBeNull();
    expect(resolveModelProfile('someone/custom-encoder')).toMatchObject({
      pooling: 'mean',
      queryPrefix: '',
      passagePrefix: '',
      known: false,
      poolingOverridden: false,
    });
  });

  it('does not mistake look-alike names for table entries', () => {
    expect(knownModelProfile('someone/bge-small-en-v1.5-finetuned')).toBeNull();
    expect(knownModelProfile('someone/not-e5-small-v2')).toBeNull();
  });

  it('applies EMBEDDING_POOLING and EMBEDDING_QUERY_PREFIX overrides', () => {
    const bgeMean = resolveModelProfile('Xenova/bge-small-en-v1.5', { pooling: 'mean' });
    expect(bgeMean).toMatchObject({ pooling: 'mean', poolingOverridden: true, queryPrefix: BGE_PREFIX });
    expect(resolveModelProfile('Xenova/bge-small-en-v1.5', { pooling: 'auto' })).toMatchObject({
      pooling: 'cls',
      poolingOverridden: false,
    });
    // Asking for what the card already says changes no vector, so it is not an override.
    expect(resolveModelProfile('Xenova/bge-small-en-v1.5', { pooling: 'cls' }).poolingOverridden).toBe(false);
    expect(resolveModelProfile('Xenova/all-MiniLM-L6-v2', { queryPrefix: 'q: ' })).toMatchObject({ queryPrefix: 'q: ', pooling: 'mean' });
    expect(resolveModelProfile('Xenova/bge-small-en-v1.5', { queryPrefix: undefined }).queryPrefix).toBe(BGE_PREFIX);
  });
});
