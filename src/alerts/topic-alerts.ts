/**
 * Topic alerts: readers follow topics; whenever the index changes (a feed poll, /add, an upload,
 * a reindex here or in another process), the articles not looked at before are matched against
 * every followed topic and each match becomes one alert in the outbox. Delivery (Telegram, rate
 * limits) belongs to the bot; this module knows nothing of grammY.
 */
import type { ArticleInfo } from '../types.js';
import { errorMessage } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import type { TopicMatcher } from './matcher.js';
import type { AlertPayload, AlertStore } from './store.js';

export { createTopicMatcher, DEFAULT_MATCH_THRESHOLDS, type MatchThresholds, type TopicMatch, type TopicMatcher } from './matcher.js';
export {
  type AlertPayload,
  type AlertStore,
  type Follow,
  MAX_FOLLOWS_PER_CHAT,
  type NextAlert,
  normalizeTopic,
  type OutboxRow,
  type SendPace,
  SqliteAlertStore,
} from './store.js';
export { ALERTS_SQL, PgAlertStore } from './pg-store.js';

/** The library as alerts use it. */
export interface AlertLibrary {
  listArticles(offset: number, limit: number): { total: number; items: ArticleInfo[] };
  onIndexChanged(listener: () => void): () => void;
}

/** Matches new articles against followed topics and queues the alerts. */
export class TopicAlerts {
  private readonly log: Logger;
  private unsubscribe: (() => void) | null = null;
  private scanning: Promise<number> | null = null;
  private again = false;
  private readonly queuedListeners = new Set<() => void>();

  constructor(private readonly options: { store: AlertStore; matcher: TopicMatcher; library: AlertLibrary; logger?: Logger }) {
    this.log = options.logger ?? silentLogger;
  }

  get store(): AlertStore {
    return this.options.store;
  }

  /** Scans now and after every index change, until `stop()`. */
  start(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.options.library.onIndexChanged(() => void this.scan());
    void this.scan();
  }

  /** Stops scanning and waits for a scan in progress. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.again = false;
    await this.scanning?.catch(() => undefined);
  }

  /** Called after a scan queued alerts (the bot's sender wakes up). */
  onQueued(listener: () => void): () => void {
    this.queuedListeners.add(listener);
    return () => this.queuedListeners.delete(listener);
  }

  /** Looks at the articles not seen yet and queues their alerts; one scan at a time (a request during one runs once after it). */
  scan(): Promise<number> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    const run = async (): Promise<number> => {
      let queued = 0;
      do {
        this.again = false;
        try {
          queued += await this.scanOnce();
        } catch (err) {
          this.log.error('alerts.scan_failed', { error: errorMessage(err) });
        }
      } while (this.again);
      return queued;
    };
    this.scanning = run().finally(() => {
      this.scanning = null;
    });
    return this.scanning;
  }

  private async scanOnce(): Promise<number> {
    const { store, matcher, library } = this.options;
    const articles = new Map<string, ArticleInfo>();
    const { total } = library.listArticles(0, 1);
    for (let at = 0; at < total; at += 1000) for (const a of library.listArticles(at, 1000).items) articles.set(a.id, a);
    const fresh = await store.unseen([...articles.keys()]);
    if (fresh.length === 0) return 0;
    const candidates = new Set(fresh);
    const alerts: { chatId: number; payload: AlertPayload }[] = [];
    for (const follows of (await store.topics()).values()) {
      const topic = follows[0]!.topic;
      for (const m of await matcher.match(topic, candidates)) {
        const a = articles.get(m.articleId);
        if (!a) continue;
        const payload: AlertPayload = { articleId: a.id, title: a.title, date: a.date, url: a.url, sentence: m.sentence, topic };
        for (const f of follows) alerts.push({ chatId: f.chatId, payload });
      }
    }
    const queued = await store.commit(fresh, alerts);
    this.log.info('alerts.scanned', { new_articles: fresh.length, matches: alerts.length, queued });
    if (queued > 0) for (const listener of this.queuedListeners) listener();
    return queued;
  }
}
