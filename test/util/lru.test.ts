import { describe, expect, it } from 'vitest';
import { LruCache } from '../../src/util/lru.js';

describe('LruCache', () => {
  it('never holds more than its limit, dropping the least recently used entry', () => {
    const cache = new LruCache<string, number>(3);
    const loads: string[] = [];
    const load = (k: string) => {
      loads.push(k);
      return k.charCodeAt(0);
    };
    for (const k of ['a', 'b', 'c']) cache.getOrLoad(k, load);
    expect(cache.getOrLoad('a', load)).toBe(97); // a hit: a is now the most recently used
    cache.getOrLoad('d', load); // evicts b, the least recently used
    expect(cache.size).toBe(3);
    expect([cache.has('a'), cache.has('b'), cache.has('c'), cache.has('d')]).toEqual([true, false, true, true]);
    expect(cache.getOrLoad('b', load)).toBe(98); // read again
    expect(loads).toEqual(['a', 'b', 'c', 'd', 'b']);
    for (let i = 0; i < 1000; i++) cache.getOrLoad(`k${i}`, load);
    expect(cache.size).toBe(3);
  });

  it('caches a missing value (undefined) like any other', () => {
    const cache = new LruCache<string, number | undefined>(2);
    let loads = 0;
    const load = () => {
      loads++;
      return undefined;
    };
    expect(cache.getOrLoad('gone', load)).toBeUndefined();
    expect(cache.getOrLoad('gone', load)).toBeUndefined();
    expect(loads).toBe(1);
  });

  it('refuses a limit below one entry', () => {
    expect(() => new LruCache(0)).toThrow(/at least 1/);
    expect(() => new LruCache(1.5)).toThrow(/at least 1/);
  });
});
