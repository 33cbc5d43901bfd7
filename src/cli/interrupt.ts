/**
 * Ctrl-C (SIGINT) and SIGTERM while the CLI indexes. The run stops at its next step (the pipeline
 * checks an AbortSignal between steps, never inside the write, which publishes a generation or
 * leaves nothing), the lock is released on the way out, and exactly one line says which index is
 * in use. The exit code follows the shell convention, 128 + the signal number (130, 143).
 */
import os from 'node:os';
import { clearProgressLine } from './progress.js';

/** How an interruptible run ended: its value, or the exit code after an interrupt (its line is printed). */
export type Interruptible<T> = { value: T } | { exitCode: number };

/** The one line printed when a run stops before publishing anything. */
export function stillInUseLine(previous: number | null): string {
  return previous === null
    ? 'Interrupted: nothing was indexed (there is no index yet)'
    : `Interrupted: the previous index (${articles(previous)}) is still in use`;
}

/** The one line printed when the interrupt came after the new index was published. */
export function finishedLine(count: number): string {
  return `Interrupted: finished just before the interrupt (${articles(count)})`;
}

function articles(n: number): string {
  return `${n} article${n === 1 ? '' : 's'}`;
}

function nextLoopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** 128 + the signal's number, as shells report a process ended by that signal. */
function exitCodeOf(signal: NodeJS.Signals): number {
  return 128 + (os.constants.signals[signal] ?? 0);
}

/**
 * Watches SIGINT and SIGTERM from construction until its one `run` ends (or `dispose()`). Before `run` starts (while the model
 * loads) and on a second signal, the process exits at once with the "still in use" line: no run
 * holds the lock then, and no generation is half-written between event-loop turns (the write is
 * synchronous). During `run`, the first signal aborts the run cooperatively.
 */
export class InterruptGuard {
  private received: NodeJS.Signals | null = null;
  private readonly controller = new AbortController();
  private running = false;
  private readonly onSignal = (signal: NodeJS.Signals) => this.handle(signal);

  /**
   * @param previous articles in the published index (null when there is none), read when needed
   * @param print writes one line to the user (by default on stderr, after clearing a live progress line)
   */
  constructor(
    private readonly previous: () => number | null,
    private readonly print: (line: string) => void = (line) => {
      clearProgressLine();
      process.stderr.write(`${line}\n`);
    },
  ) {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  /**
   * Runs `job` with an AbortSignal that the first SIGINT/SIGTERM aborts. Returns its value, or, when
   * interrupted, prints the one line (finished or still in use) and returns the exit code.
   */
  async run<T>(job: (signal: AbortSignal) => Promise<T>, articlesOf: (value: T) => number): Promise<Interruptible<T>> {
    this.running = true;
    try {
      const value = await job(this.controller.signal);
      // A signal that arrived during the last, synchronous write is still queued in the event loop:
      // let it be handled, so an interrupt just after publishing is reported rather than lost.
      await nextLoopTurn();
      await nextLoopTurn();
      if (!this.received) return { value };
      this.print(finishedLine(articlesOf(value)));
      return { exitCode: exitCodeOf(this.received) };
    } catch (err) {
      if (!this.received || err !== this.controller.signal.reason) throw err;
      this.print(stillInUseLine(this.previous()));
      return { exitCode: exitCodeOf(this.received) };
    } finally {
      // One run per guard: once it has ended, signals get their default action (or the next owner's handler) again.
      this.running = false;
      this.dispose();
    }
  }

  /** Stops watching the signals (their default action applies again); for a guard whose run never started. */
  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  private handle(signal: NodeJS.Signals): void {
    if (this.running && !this.received) {
      this.received = signal;
      this.controller.abort(new Error(`Interrupted by ${signal}`));
      return;
    }
    // Not running yet (loading the model), or a second signal while a step finishes: stop now.
    this.print(stillInUseLine(this.previous()));
    process.exit(exitCodeOf(this.received ?? signal));
  }
}
