/** Feed subscriptions: parsing (feedsmith), the feeds database, and the poller that turns new items into articles. */
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
export { type FeedRecord, FeedStore } from './store.js';

import type { Config } from '../config/index.js';
import type { Logger } from '../util/log.js';
import { type FeedLibrary, FeedPoller } from './poller.js';
import { type FeedRecord, FeedStore } from './store.js';

/** Opens the feeds database (FEED_URLS merged in) and builds the poller with the configured limits. */
export function openFeedPoller(config: Config, library: FeedLibrary, logger: Logger, onProblem?: (feed: FeedRecord) => void): FeedPoller {
  const store = FeedStore.open(config.stateDir, config.feeds.urls);
  return new FeedPoller({
    store,
    library,
    fetch: { timeoutMs: config.telegram.fetchTimeoutMs, allowPrivate: config.telegram.allowPrivateUrls },
    intervalMs: config.feeds.pollMinutes * 60_000,
    logger,
    ...(onProblem ? { onProblem } : {}),
  });
}
