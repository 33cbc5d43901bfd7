/**
 * Prometheus metrics (prom-client) for one process. `createApp` builds one `Metrics` per app, with a
 * registry of its own (never prom-client's global one, so two apps in one test process never share
 * counts), and everything that runs in the app reports into it.
 *
 * Most counts come from the structured log events the code already writes: `observing(logger)`
 * returns a logger that, besides logging, updates the metrics listed in `EVENT_METRICS` below (one
 * table: which event moves which metric). The rest is read when Prometheus scrapes (articles,
 * chunks, generation age: `watchLibrary`) or seen on the Bot API calls (`telegramErrors()`).
 *
 * Adding a metric elsewhere (an admission queue, say): `metrics.gauge('admission_queue_length',
 * 'Questions waiting for a slot', { collect: () => queue.length })` or
 * `metrics.histogram('admission_wait_seconds', 'Time a question waited for a slot')`. Names get
 * the `newsdesk_` prefix; asking twice for one name returns the same metric.
 */
import type { Transformer } from 'grammy';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { LibraryStats } from '../types.js';
import type { Logger } from '../util/log.js';

/** What became of a question; `refused` = the allowlist turned it away or it was too long. */
export const QUESTION_OUTCOMES = ['answered', 'not_covered', 'refused', 'rate_limited', 'failed'] as const;
export type QuestionOutcome = (typeof QUESTION_OUTCOMES)[number];

const PREFIX = 'newsdesk_';
/** Seconds: from a fast lexical lookup to a slow model answer (LLM_TIMEOUT_MS is 60 s by default). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];

type Fields = Record<string, unknown>;

/** Options for `Metrics.gauge`: label names, and a callback that sets the value at scrape time. */
export interface GaugeOptions<L extends string = string> {
  labelNames?: readonly L[];
  collect?: (gauge: Gauge<L>) => void | Promise<void>;
}

/** Options for `Metrics.histogram`; buckets default to the latency buckets (seconds). */
export interface HistogramOptions<L extends string = string> {
  labelNames?: readonly L[];
  buckets?: number[];
}

/** A number of milliseconds in a log field, as seconds (undefined when the field is not a number). */
function seconds(ms: unknown): number | undefined {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms / 1000 : undefined;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * Which log event moves which metric. Event names are part of the log's contract (kept across
 * changes); the scripted conversation in test/observability/metrics.test.ts checks these counts.
 */
const EVENT_METRICS: Record<string, (m: Metrics, f: Fields) => void> = {
  // Question to delivered answer, as the user waits for it.
  'bot.answered': (m, f) => {
    m.questions.inc({ outcome: f.mode === 'not-covered' ? 'not_covered' : 'answered' });
    const s = seconds(f.ms);
    if (s !== undefined) m.answerSeconds.observe(s);
  },
  'bot.question_refused': (m) => m.questions.inc({ outcome: 'refused' }),
  'bot.not_allowed': (m) => m.questions.inc({ outcome: 'refused' }),
  // A button pressed too fast is not a question.
  'bot.rate_limited': (m, f) => {
    if (f.kind !== 'callback_query') m.questions.inc({ outcome: 'rate_limited' });
  },
  'bot.update_failed': (m) => m.questions.inc({ outcome: 'failed' }),
  'bot.answer_undelivered': (m) => m.questions.inc({ outcome: 'failed' }),
  'retrieval.done': (m, f) => {
    const s = seconds(f.ms);
    if (s !== undefined) m.retrievalSeconds.observe(s);
  },
  'llm.done': (m, f) => {
    const s = seconds(f.ms);
    if (s !== undefined) m.llmSeconds.observe({ call: String(f.what ?? 'unknown') }, s);
    m.llmTokens.inc({ kind: 'prompt' }, count(f.prompt_tokens));
    m.llmTokens.inc({ kind: 'completion' }, count(f.completion_tokens));
  },
  'llm.retry': (m, f) => m.llmErrors.inc({ kind: String(f.kind ?? 'unknown'), outcome: 'retried' }),
  'llm.failed': (m, f) => m.llmErrors.inc({ kind: String(f.kind ?? 'unknown'), outcome: 'gave_up' }),
  'feeds.polled': (m, f) => {
    m.feedPolls.inc(count(f.feeds));
    m.feedFailures.inc(count(f.failed));
  },
  // The whole poll round failed (not one feed): counted as one failure.
  'feeds.poll_failed': (m) => m.feedFailures.inc(),
  'alerts.sent': (m) => m.alertsSent.inc(),
  // Embedding workers (npm run worker): their own process, so their metrics are created on first use.
  'worker.batch': (m, f) => {
    m.counter('worker_batches_total', 'Embedding batches a worker finished').inc();
    m.counter('worker_chunks_embedded_total', 'Chunks a worker embedded and stored').inc(count(f.chunks));
  },
  'worker.batch_failed': (m) => m.counter('worker_batch_failures_total', 'Embedding batches that failed (retried later)').inc(),
};

/** Loggers already reporting into some `Metrics`, so wrapping twice never counts twice. */
const observed = new WeakMap<Logger, Metrics>();

/** The metrics of one app; see the module comment. */
export class Metrics {
  readonly registry = new Registry();
  readonly questions: Counter<'outcome'>;
  /** Question received to answer delivered (bot), seconds. */
  readonly answerSeconds: Histogram;
  readonly retrievalSeconds: Histogram;
  /** One LLM call (complete or stream) including its retries, seconds. */
  readonly llmSeconds: Histogram<'call'>;
  readonly llmTokens: Counter<'kind'>;
  readonly llmErrors: Counter<'kind' | 'outcome'>;
  readonly feedPolls: Counter;
  readonly feedFailures: Counter;
  readonly alertsSent: Counter;
  readonly telegramApiErrors: Counter<'method' | 'code'>;

  private processCollected = false;

  constructor() {
    this.questions = this.counter('questions_total', 'Questions by outcome', ['outcome']);
    for (const outcome of QUESTION_OUTCOMES) this.questions.inc({ outcome }, 0);
    this.answerSeconds = this.histogram('answer_duration_seconds', 'From a question arriving to its answer delivered');
    this.retrievalSeconds = this.histogram('retrieval_duration_seconds', 'Retrieval (lexical, dense, fusion, rerank) per question');
    this.llmSeconds = this.histogram(
      'llm_duration_seconds',
      'One LLM call including its retries and any wait for a free slot (LLM_MAX_CONCURRENCY), by call (complete, stream)',
      {
        labelNames: ['call'],
      },
    );
    this.llmTokens = this.counter('llm_tokens_total', 'Tokens the LLM server reported, by kind (prompt, completion)', ['kind']);
    for (const kind of ['prompt', 'completion']) this.llmTokens.inc({ kind }, 0);
    this.llmErrors = this.counter(
      'llm_errors_total',
      'Failed LLM attempts by error kind; outcome retried (another attempt followed) or gave_up (the answer fell back to quotes)',
      ['kind', 'outcome'],
    );
    this.feedPolls = this.counter('feed_polls_total', 'Feeds fetched by the poller');
    this.feedFailures = this.counter('feed_poll_failures_total', 'Feed fetches that failed (or whole poll rounds that did)');
    this.alertsSent = this.counter('alerts_sent_total', 'Topic alerts delivered');
    this.telegramApiErrors = this.counter(
      'telegram_api_errors_total',
      'Bot API calls that failed after retries, by method and error code ("network" when no answer came)',
      ['method', 'code'],
    );
  }

  /**
   * Adds CPU, memory, event-loop lag and file descriptors of this process (prom-client's standard
   * set). Only for a process that serves /metrics: the set watches the event loop for good.
   */
  collectProcessMetrics(): void {
    if (this.processCollected) return;
    this.processCollected = true;
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
  }

  /** A counter named `newsdesk_<name>` (the existing one when asked again). */
  counter<L extends string = string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    const existing = this.registry.getSingleMetric(PREFIX + name);
    if (existing) return existing as Counter<L>;
    return new Counter<L>({ name: PREFIX + name, help, labelNames, registers: [this.registry] });
  }

  /** A gauge named `newsdesk_<name>`; `collect` runs on every scrape to set its value. */
  gauge<L extends string = string>(name: string, help: string, options: GaugeOptions<L> = {}): Gauge<L> {
    const existing = this.registry.getSingleMetric(PREFIX + name);
    if (existing) return existing as Gauge<L>;
    const { collect } = options;
    return new Gauge<L>({
      name: PREFIX + name,
      help,
      labelNames: options.labelNames ?? [],
      registers: [this.registry],
      ...(collect
        ? {
            collect(this: Gauge<L>) {
              return collect(this);
            },
          }
        : {}),
    });
  }

  /** A histogram named `newsdesk_<name>` (seconds, latency buckets unless given). */
  histogram<L extends string = string>(name: string, help: string, options: HistogramOptions<L> = {}): Histogram<L> {
    const existing = this.registry.getSingleMetric(PREFIX + name);
    if (existing) return existing as Histogram<L>;
    return new Histogram<L>({
      name: PREFIX + name,
      help,
      labelNames: options.labelNames ?? [],
      buckets: options.buckets ?? LATENCY_BUCKETS,
      registers: [this.registry],
    });
  }

  /** Article, chunk and generation-age gauges read from `stats()` on every scrape (null: no index open). */
  watchLibrary(stats: () => LibraryStats | null): void {
    const read = () => {
      try {
        return stats();
      } catch {
        return null;
      }
    };
    this.gauge('articles', 'Articles in the served index', { collect: (g) => g.set(read()?.articles ?? 0) });
    this.gauge('chunks', 'Chunks (passages) in the served index', { collect: (g) => g.set(read()?.chunks ?? 0) });
    this.gauge('index_generation_age_seconds', 'Time since the served index generation was built (-1: none)', {
      collect: (g) => {
        const builtAt = read()?.builtAt;
        const t = builtAt ? Date.parse(builtAt) : Number.NaN;
        g.set(Number.isFinite(t) ? Math.max(0, (Date.now() - t) / 1000) : -1);
      },
    });
  }

  /** `logger` plus metrics: every event listed in `EVENT_METRICS` also moves its metric. */
  observing(logger: Logger): Logger {
    if (observed.get(logger) === this) return logger;
    const emit = (level: keyof Logger) => (event: string, fields?: Fields) => {
      try {
        EVENT_METRICS[event]?.(this, fields ?? {});
      } catch {
        // A metric must never break the code that logs.
      }
      logger[level](event, fields);
    };
    const wrapped: Logger = { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
    observed.set(wrapped, this);
    return wrapped;
  }

  /** A grammY API transformer counting failed Bot API calls by method and code; install it outermost. */
  telegramErrors(): Transformer {
    return async (prev, method, payload, signal) => {
      try {
        const res = await prev(method, payload, signal);
        if (!res.ok) this.telegramApiErrors.inc({ method, code: String(res.error_code) });
        return res;
      } catch (err) {
        // Polling's own long call is aborted on shutdown: not an error.
        if (!signal?.aborted) {
          const code = (err as { error_code?: unknown }).error_code;
          this.telegramApiErrors.inc({ method, code: typeof code === 'number' ? String(code) : 'network' });
        }
        throw err;
      }
    };
  }

  /** The text format Prometheus scrapes. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** A fresh, empty set of metrics with its own registry. */
export function createMetrics(): Metrics {
  return new Metrics();
}
