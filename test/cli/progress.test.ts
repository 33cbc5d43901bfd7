/** The indexing progress printer, driven with a fake clock: the live line's ETA and the plain lines' count. */
import { describe, expect, it } from 'vitest';
import { clearProgressLine, formatEta, progressPrinter } from '../../src/cli/progress.js';
import type { IndexProgress } from '../../src/types.js';

function run(tty: boolean, events: [number, IndexProgress][]): string {
  let out = '';
  let t = 0;
  const print = progressPrinter({ isTTY: tty, columns: 120, write: (s) => (out += s) }, () => t);
  for (const [at, p] of events) {
    t = at;
    print(p);
  }
  return out;
}

/** A build of 40 articles → 1000 chunks embedded in 100 batches, 0.5 s each. */
function build(): [number, IndexProgress][] {
  const events: [number, IndexProgress][] = [[0, { phase: 'load', done: 0, total: 0 }]];
  for (let i = 1; i <= 40; i++) events.push([100, { phase: 'chunk', done: i, total: 40 }]);
  for (let b = 1; b <= 100; b++) events.push([200 + b * 500, { phase: 'embed', done: b * 10, total: 1000 }]);
  events.push([50_300, { phase: 'write', done: 0, total: 1000 }]);
  events.push([50_400, { phase: 'done', done: 1000, total: 1000 }]);
  return events;
}

describe('progress on a terminal', () => {
  it('redraws one line with bar, counts and time left, and clears it at the end', () => {
    const out = run(true, build());
    const frames = out.split('\r\x1b[K').slice(1);
    expect(out).not.toContain('\n');
    expect(frames[0]).toBe('Reading the articles…');
    // Halfway through embedding, 25 s in: 25 s left at the same rate.
    expect(frames).toContain('Embedding [############............] 500/1000 chunks 50% · about 25 s left');
    expect(frames).toContain('Writing the index: 1000 chunks…');
    expect(frames.at(-1)).toBe('');
  });
});

describe('clearProgressLine', () => {
  it('clears the live line for a message from elsewhere, once', () => {
    let out = '';
    const print = progressPrinter({ isTTY: true, write: (s) => (out += s) }, () => 0);
    print({ phase: 'embed', done: 5, total: 10 });
    clearProgressLine();
    clearProgressLine();
    expect(out.endsWith('5/10 chunks 50%\r\x1b[K')).toBe(true);
  });
});

describe('progress in a pipe', () => {
  it('prints a line per step and quarter-way lines for embedding, not one per batch', () => {
    const lines = run(false, build()).trimEnd().split('\n');
    expect(lines).toEqual([
      'Reading the articles…',
      'Chunking: 40 articles…',
      'Embedding: 1000 chunks…',
      'Embedding: 250/1000 chunks (25%) · about 38 s left',
      'Embedding: 500/1000 chunks (50%) · about 25 s left',
      'Embedding: 750/1000 chunks (75%) · about 13 s left',
      'Writing the index: 1000 chunks…',
    ]);
  });
});

describe('formatEta', () => {
  it('rounds up and switches to minutes', () => {
    expect(formatEta(0.4)).toBe('<1 s');
    expect(formatEta(12.2)).toBe('13 s');
    expect(formatEta(185)).toBe('3 min 05 s');
  });
});
