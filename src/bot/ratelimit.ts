/**
 * Per-user rate limit over a sliding window. The first refused message in a
 * window gets one polite reply; later ones are dropped quietly until the window
 * has room again, so a flood never turns into a flood of refusals.
 */

/** What to do with one incoming message. */
export type RateDecision = 'allow' | 'warn' | 'drop';

/** A sliding-window counter per key. */
export class RateLimiter {
  private readonly hits = new Map<number, number[]>();
  private readonly warnedUntil = new Map<number, number>();
  private hitsSinceSweep = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a message from `key` and decides whether to handle it, refuse it once, or drop it. */
  hit(key: number): RateDecision {
    const now = this.now();
    const since = now - this.windowMs;
    if (++this.hitsSinceSweep >= 1000) this.sweep(since);
    const times = (this.hits.get(key) ?? []).filter((t) => t > since);
    if (times.length < this.limit) {
      times.push(now);
      this.hits.set(key, times);
      this.warnedUntil.delete(key);
      return 'allow';
    }
    this.hits.set(key, times);
    if ((this.warnedUntil.get(key) ?? 0) > now) return 'drop';
    // Quiet until the oldest counted message leaves the window, i.e. until the user may send again.
    this.warnedUntil.set(key, times[0]! + this.windowMs);
    return 'warn';
  }

  /** How many users the limiter currently remembers. */
  get trackedUsers(): number {
    return this.hits.size;
  }

  /** Forgets users with nothing in the window, so memory follows active users only. */
  private sweep(since: number): void {
    this.hitsSinceSweep = 0;
    for (const [key, times] of this.hits) {
      if (times.every((t) => t <= since)) {
        this.hits.delete(key);
        this.warnedUntil.delete(key);
      }
    }
  }
}
