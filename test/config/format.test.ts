import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/util/format.js';

describe('formatBytes', () => {
  it('uses decimal units, like the limits users configure, everywhere the same', () => {
    expect(formatBytes(300)).toBe('300 bytes');
    expect(formatBytes(1000)).toBe('1 KB');
    expect(formatBytes(6200)).toBe('6.2 KB');
    expect(formatBytes(20_000_000)).toBe('20 MB');
    expect(formatBytes(52_428_800)).toBe('52.4 MB');
    expect(formatBytes(2_500_000_000)).toBe('2.5 GB');
  });
});
