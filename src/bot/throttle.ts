/**
 * Rate-limited "show the latest state" updates (edited progress messages,
 * streamed drafts): at most one call per interval, never two at once, and
 * intermediate states are skipped rather than queued.
 */

/** Runs `run` with the most recent pushed value, at most once per `intervalMs`. */
export class LatestThrottle<T> {
  private last = 0;
  private pending: { value: T } | null = null;
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    public intervalMs: number,
    private readonly run: (value: T) => Promise<void>,
  ) {}

  /** Offers a new state; it replaces any state not yet shown. */
  push(value: T): void {
    if (this.closed) return;
    this.pending = { value };
    this.schedule();
  }

  /** Stops taking updates, drops any state not yet shown and waits for the call in progress. */
  async close(): Promise<void> {
    this.closed = true;
    this.pending = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(): void {
    if (this.running || this.timer || !this.pending) return;
    const wait = Math.max(0, this.last + this.intervalMs - Date.now());
    this.timer = setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    this.timer = null;
    const next = this.pending;
    if (!next || this.closed) return;
    this.pending = null;
    this.last = Date.now();
    // The callers report their own failures; a rejection here must not stop later updates.
    this.running = this.run(next.value)
      .catch(() => undefined)
      .finally(() => {
        // Count the interval from the end of the call too: Telegram sees a call when it arrives,
        // and a slow call followed by a fast one would otherwise land less than the interval apart.
        this.last = Date.now();
        this.running = null;
        this.schedule();
      });
  }
}
