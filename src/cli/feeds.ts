/** `npm run index -- --feeds`: polls every feed once and indexes what is new (for cron, and for tests). */
import type { App } from '../app.js';
import { openFeedPoller } from '../feeds/index.js';
import type { IndexProgress } from '../types.js';
import { UserError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { formatSummary } from './format.js';

/** Polls the feeds, prints one line per feed and the index summary. */
export async function indexFeeds(app: App, logger: Logger, onProgress: (p: IndexProgress) => void): Promise<void> {
  const poller = openFeedPoller(app.config, await app.state.feeds(), app.library, logger);
  try {
    const feeds = await poller.store.list();
    if (feeds.length === 0)
      throw new UserError('No feeds to poll: set FEED_URLS (comma-separated) or add one in the bot with /feed add <url>.');
    // Dedupe against the folder's articles needs the current index; a missing one is built by the import below.
    await app.library.open(false);
    const report = await poller.pollAll();
    for (const f of report.feeds) {
      const what = f.ok ? (f.notModified ? 'not modified' : `${f.added} new article${f.added === 1 ? '' : 's'}`) : `FAILED: ${f.error}`;
      process.stdout.write(`${f.url}: ${what}\n`);
    }
    // Nothing new from the feeds: still index the folder, as `npm run index` would.
    const summary = report.summary ?? (await app.library.reindex({ onProgress }));
    process.stdout.write(formatSummary(summary) + '\n');
  } finally {
    await poller.store.close();
  }
}
