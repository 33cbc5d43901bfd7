/**
 * Admission control for questions in PostgreSQL mode: a bounded FIFO queue in front of the
 * database. At most `concurrency` questions search at once, so their queries never need more
 * connections than the pool has (a question holds at most `CONNECTIONS_PER_QUESTION` at a time,
 * measured by test/db/admission.test.ts); the others wait their turn here instead of in the
 * pool, whose wait is bounded by DATABASE_CONNECT_TIMEOUT_MS and then fails. The queue holds as
 * many questions as can be served within `maxWaitMs` at the measured service time (a moving
 * average of how long questions took), so a reader is refused only when waiting would take longer
 * than that, and is then told when to try again.
 */
import type { Metrics } from '../observability/metrics.js';
import { UserError } from '../util/errors.js';
import { type Logger, silentLogger } from '../util/log.js';

/**
 * The most pool connections one question holds at a time: retrieval runs its two lexical searches
 * (chunks and whole articles) together, and reads the chosen articles' texts and chunks in two
 * queries together; everything else is one query at a time.
 */
export const CONNECTIONS_PER_QUESTION = 2;

/**
 * Connections kept out of the questions' share for everything else a message needs (rate limit,
 * conversation, quotes, counters: one short query at a time each) and for background work.
 */
export const RESERVED_CONNECTIONS = 2;

/** Questions that may search at once with a pool of `poolMax` connections. */
export function questionConcurrency(poolMax: number): number {
  return Math.max(1, Math.floor((poolMax - RESERVED_CONNECTIONS) / CONNECTIONS_PER_QUESTION));
}

/** The queue is full: waiting would take longer than the configured bound. */
export class QueueFullError extends UserError {
  override name = 'QueueFullError';
  constructor(readonly retryAfterSeconds: number) {
    super(
      `Many readers are asking right now, more than I can answer at once. Please wait ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}, then ask again.`,
    );
  }
}

/** Where the queue reports what it does (the logs always; metrics when a registry is wired). */
export interface QueueObserver {
  /** A question started searching (`waitMs` 0 when it did not wait); `queued` is the queue's length after it left. */
  admitted(sample: { waitMs: number; queued: number; active: number }): void;
  /** A question was refused because the queue was full. */
  refused(sample: { queued: number; capacity: number; retryAfterSeconds: number }): void;
}

/** Settings of the queue. */
export interface AdmissionSettings {
  /** Questions searching at once (see `questionConcurrency`). */
  concurrency: number;
  /** Longest a question should wait for its turn; with the measured service time it sizes the queue. */
  maxWaitMs: number;
  /** Service time assumed until the first questions were measured. */
  initialServiceMs?: number;
}

/** Weight of the newest sample in the moving average of service time. */
const ALPHA = 0.2;

/** The bounded question queue. */
export class QuestionQueue {
  private active = 0;
  private readonly waiting: { admit: () => void }[] = [];
  private serviceMs: number;
  private readonly observers: QueueObserver[] = [];

  constructor(
    private readonly settings: AdmissionSettings,
    logger: Logger = silentLogger,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!Number.isInteger(settings.concurrency) || settings.concurrency < 1)
      throw new RangeError(`concurrency must be a positive integer, got ${settings.concurrency}`);
    this.serviceMs = settings.initialServiceMs ?? 250;
    this.observers.push(logObserver(logger));
  }

  /** Adds a place the queue reports to (the metrics registry). */
  observe(observer: QueueObserver): void {
    this.observers.push(observer);
  }

  /** Questions that may wait: as many as the searching ones finish within `maxWaitMs` at the measured pace. */
  get capacity(): number {
    return Math.max(this.settings.concurrency, Math.floor((this.settings.maxWaitMs / this.serviceMs) * this.settings.concurrency));
  }

  /** The queue now: questions searching, waiting, the most that may wait, and the measured service time. */
  stats(): { active: number; queued: number; capacity: number; serviceMs: number } {
    return { active: this.active, queued: this.waiting.length, capacity: this.capacity, serviceMs: this.serviceMs };
  }

  /** Runs `fn` when its turn comes; throws `QueueFullError` at once when the queue is full. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    let waitMs = 0;
    if (this.active < this.settings.concurrency && this.waiting.length === 0) {
      this.active++;
    } else {
      const capacity = this.capacity;
      if (this.waiting.length >= capacity) {
        const retryAfterSeconds = Math.max(1, Math.ceil((this.waiting.length * this.serviceMs) / this.settings.concurrency / 1000));
        for (const o of this.observers) o.refused({ queued: this.waiting.length, capacity, retryAfterSeconds });
        throw new QueueFullError(retryAfterSeconds);
      }
      // The finishing question hands its slot over directly, so `active` stays unchanged.
      const enqueued = this.now();
      await new Promise<void>((admit) => this.waiting.push({ admit }));
      waitMs = this.now() - enqueued;
    }
    const started = this.now();
    for (const o of this.observers) o.admitted({ waitMs, queued: this.waiting.length, active: this.active });
    try {
      return await fn();
    } finally {
      this.serviceMs = (1 - ALPHA) * this.serviceMs + ALPHA * Math.max(1, this.now() - started);
      const next = this.waiting.shift();
      if (next) next.admit();
      else this.active--;
    }
  }
}

/** Questions that waited, and refusals, as log lines (`db.question_queued`, `db.question_refused`). */
function logObserver(log: Logger): QueueObserver {
  return {
    admitted: ({ waitMs, queued, active }) => {
      if (waitMs > 0) log.info('db.question_queued', { wait_ms: Math.round(waitMs), queued, active });
    },
    refused: ({ queued, capacity, retryAfterSeconds }) =>
      log.warn('db.question_refused', { queued, capacity, retry_after_s: retryAfterSeconds }),
  };
}

/**
 * The queue in the app's Prometheus metrics: `newsdesk_question_queue_length` and
 * `newsdesk_question_queue_active` (read at scrape time), `newsdesk_question_queue_wait_seconds`
 * (every question, 0 when it did not wait) and `newsdesk_question_queue_refused_total`.
 */
export function watchQuestionQueue(metrics: Pick<Metrics, 'gauge' | 'histogram' | 'counter'>, queue: QuestionQueue): void {
  metrics.gauge('question_queue_length', 'Questions waiting for their turn at the database', {
    collect: (g) => g.set(queue.stats().queued),
  });
  metrics.gauge('question_queue_active', 'Questions searching the database now', { collect: (g) => g.set(queue.stats().active) });
  const wait = metrics.histogram('question_queue_wait_seconds', 'Time a question waited for its turn at the database');
  const refused = metrics.counter('question_queue_refused_total', 'Questions refused because the question queue was full');
  queue.observe({ admitted: ({ waitMs }) => wait.observe(waitMs / 1000), refused: () => refused.inc() });
}
