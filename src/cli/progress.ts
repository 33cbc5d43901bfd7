/**
 * Indexing progress on stderr. On a terminal: one live line redrawn in place (carriage return,
 * clear to the end of the line) with a bar, counts and the time left, cleared when the run ends so
 * the summary stands alone. Elsewhere (a pipe, a CI log): a few plain lines, one as each step
 * starts plus quarter-way lines with the time left for the one long step, embedding.
 */
import type { IndexProgress } from '../types.js';

/** Where progress goes (process.stderr, or a test's stand-in). */
export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** A progress callback for `Library.reindex`, plus `clear()` for a run that ends early (an error). */
export type ProgressPrinter = ((p: IndexProgress) => void) & { clear(): void };

const LABELS: Record<IndexProgress['phase'], string> = {
  load: 'Reading the articles',
  chunk: 'Chunking',
  embed: 'Embedding',
  write: 'Writing the index',
  done: 'Done',
};
const UNITS: Record<IndexProgress['phase'], string> = { load: '', chunk: 'articles', embed: 'chunks', write: 'chunks', done: '' };
const CLEAR_LINE = '\r\x1b[K';
const BAR_WIDTH = 24;
/** A terminal is redrawn at most this often (the last step of a phase is always drawn). */
const REDRAW_MS = 100;

/** The printer whose live line is on screen, so a message from elsewhere (an interrupt) can clear it first. */
let onScreen: ProgressPrinter | null = null;

/** Clears a live progress line, if one is showing, so the next message starts at the left margin. */
export function clearProgressLine(): void {
  onScreen?.clear();
}

/** Time left, for people: `<1 s`, `12 s`, `3 min 05 s`. */
export function formatEta(seconds: number): string {
  if (seconds < 1) return '<1 s';
  const s = Math.ceil(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** Creates the printer for `out`; `now` (ms) is injectable for tests. */
export function progressPrinter(out: ProgressOutput, now: () => number = () => performance.now()): ProgressPrinter {
  const tty = out.isTTY === true;
  let phase: IndexProgress['phase'] | null = null;
  /** A phase's first event (it arrives after its first batch): the rate is measured from there. */
  let first = { at: 0, done: 0 };
  let lastDraw = -Infinity;
  let quarter = 0;
  let live = false;

  /** Time left at the rate since the phase's first event; shown once the phase has run a second (shorter ones need none). */
  const eta = (p: IndexProgress): string => {
    const elapsed = (now() - first.at) / 1000;
    if (p.done <= first.done || p.done >= p.total || elapsed < 1) return '';
    return ` · about ${formatEta((elapsed * (p.total - p.done)) / (p.done - first.done))} left`;
  };

  const drawTty = (p: IndexProgress, changed: boolean) => {
    const t = now();
    if (!changed && p.done < p.total && t - lastDraw < REDRAW_MS) return;
    lastDraw = t;
    let line: string;
    if (p.total === 0) line = `${LABELS[p.phase]}…`;
    else if (p.phase === 'write') line = `${LABELS.write}: ${p.total} ${UNITS.write}…`;
    else {
      const filled = Math.round((BAR_WIDTH * p.done) / p.total);
      const pct = Math.floor((100 * p.done) / p.total);
      line = `${LABELS[p.phase]} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${p.done}/${p.total} ${UNITS[p.phase]} ${pct}%${eta(p)}`;
    }
    // A pseudo-terminal without a size reports 0 columns.
    const max = (out.columns && out.columns > 20 ? out.columns : 80) - 1;
    out.write(CLEAR_LINE + (line.length > max ? line.slice(0, max) : line));
    live = true;
    onScreen = result;
  };

  const drawPlain = (p: IndexProgress, changed: boolean) => {
    if (changed) {
      quarter = 0;
      if (p.total === 0) out.write(`${LABELS[p.phase]}…\n`);
      else out.write(`${LABELS[p.phase]}: ${p.total} ${UNITS[p.phase]}…\n`);
      return;
    }
    if (p.phase !== 'embed' || p.total === 0) return;
    const reached = Math.floor((4 * p.done) / p.total);
    if (reached <= quarter || reached >= 4) return;
    quarter = reached;
    out.write(`${LABELS.embed}: ${p.done}/${p.total} ${UNITS.embed} (${reached * 25}%)${eta(p)}\n`);
  };

  const clear = () => {
    if (live) out.write(CLEAR_LINE);
    live = false;
    if (onScreen === result) onScreen = null;
  };

  const printer = (p: IndexProgress) => {
    if (p.phase === 'done') {
      clear();
      phase = 'done';
      return;
    }
    const changed = p.phase !== phase;
    if (changed) {
      phase = p.phase;
      first = { at: now(), done: p.done };
    }
    if (tty) drawTty(p, changed);
    else drawPlain(p, changed);
  };
  const result: ProgressPrinter = Object.assign(printer, { clear });
  return result;
}
