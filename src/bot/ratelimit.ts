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
    if (++this.hitsSinceSweep >= 1000) this.sweep(now - this.windowMs);
    const next = decideRate(
      { times: this.hits.get(key) ?? [], warnedUntil: this.warnedUntil.get(key) ?? 0 },
      now,
      this.limit,
      this.windowMs,
    );
    this.hits.set(key, next.times);
    if (next.warnedUntil > 0) this.warnedUntil.set(key, next.warnedUntil);
    else this.warnedUntil.delete(key);
    return next.decision;
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

/** One user's window: the times of counted messages, and until when refusals stay quiet. */
export interface RateWindow {
  times: number[];
  /** 0 when the user has not been refused in this window. */
  warnedUntil: number;
}

/**
 * The rate-limit rule on one user's window, shared by the in-memory limiter and the PostgreSQL
 * one (pg-state.ts) so replicas enforce exactly what one process does. Returns the decision and
 * the window to store.
 */
export function decideRate(window: RateWindow, now: number, limit: number, windowMs: number): RateWindow & { decision: RateDecision } {
  const times = window.times.filter((t) => t > now - windowMs);
  if (times.length < limit) return { decision: 'allow', times: [...times, now], warnedUntil: 0 };
  if (window.warnedUntil > now) return { decision: 'drop', times, warnedUntil: window.warnedUntil };
  // Quiet until the oldest counted message leaves the window, i.e. until the user may send again.
  return { decision: 'warn', times, warnedUntil: times[0]! + windowMs };
}
