/** Feed subscriptions: parsing (feedsmith), the feeds' state (SQLite or PostgreSQL), and the poller that turns new items into articles. */
export { parseFeedDocument, type FeedItem, type ParsedFeed } from './parse.js';
export {
  FEED_MAX_BYTES,
  FEEDS_FOLDER,
  type FeedLibrary,
  FeedPoller,
  type FeedPollerOptions,
  type FeedResult,
  normalizeLink,
  type PollReport,
} from './poller.js';
export { type FeedRecord, type FeedStore, SqliteFeedStore } from './store.js';
export { FEEDS_SQL, PgFeedStore } from './pg-store.js';

import type { Config } from '../config/index.js';
import type { Logger } from '../util/log.js';
import { type FeedLibrary, FeedPoller } from './poller.js';
import type { FeedRecord, FeedStore } from './store.js';

/** Builds the poller over `store` (the composition root's choice) with the configured limits. */
export function openFeedPoller(
  config: Config,
  store: FeedStore,
  library: FeedLibrary,
  logger: Logger,
  onProblem?: (feed: FeedRecord) => void,
): FeedPoller {
  return new FeedPoller({
    store,
    library,
    fetch: { timeoutMs: config.intake.fetchTimeoutMs, allowPrivate: config.intake.allowPrivateUrls },
    intervalMs: config.feeds.pollMinutes * 60_000,
    logger,
    ...(onProblem ? { onProblem } : {}),
  });
}
