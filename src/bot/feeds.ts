/**
 * Feed subscriptions from the chat (admins only): /feeds lists every feed with its state and
 * last error, /feed add <url> subscribes and polls it at once, /feed remove <url | number>
 * unsubscribes. Feeds that start failing are reported to the admins once (see `reportFeedProblems`).
 */
import { type Api, type CommandContext, Composer, type Context } from 'grammy';
import type { FeedRecord, FeedResult } from '../feeds/index.js';
import { adminOnly } from './admin.js';
import type { BotDeps } from './deps.js';
import { escapeHtml, formatDuration } from './format.js';
import { errorFields } from './logging.js';
import { sendHtml } from './send.js';

const USAGE = 'Usage: /feed add <url> or /feed remove <url or number from /feeds>';

/** /feeds and /feed, behind the admin check. */
export function feedCommands(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  const requireAdmin = adminOnly(deps);
  composer.command('feeds', requireAdmin, (ctx) => listFeeds(ctx, deps));
  composer.command('feed', requireAdmin, (ctx) => feedCommand(ctx, deps));
  return composer;
}

function feedLine(f: FeedRecord, n: number, now: number): string {
  const name = f.title ? ` — ${escapeHtml(f.title)}` : '';
  const head = `${n}. <code>${escapeHtml(f.url)}</code>${name}${f.origin === 'config' ? ' (FEED_URLS)' : ''}`;
  const articles = `${f.articles} article${f.articles === 1 ? '' : 's'} added`;
  if (f.lastError) {
    const next = f.nextPollAt > now ? `next try in ${formatDuration(f.nextPollAt - now)}` : 'next try soon';
    return `${head}\n   ⚠️ failing (${f.failures} in a row): ${escapeHtml(f.lastError)}\n   ${articles}; ${next}`;
  }
  if (f.lastCheckedAt === null) return `${head}\n   not polled yet`;
  return `${head}\n   ok, checked ${formatDuration(now - f.lastCheckedAt)} ago; ${articles}`;
}

/** /feeds: every feed with its state. */
async function listFeeds(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  const feeds = deps.feeds;
  if (!feeds) {
    await ctx.reply('Feeds are not enabled in this bot.');
    return;
  }
  const list = await feeds.store.list();
  const minutes = Math.round(feeds.intervalMs / 60_000);
  if (list.length === 0) {
    await ctx.reply(
      `No feeds yet. Add one with /feed add <url> (RSS, Atom or JSON Feed), or set FEED_URLS. They are polled every ${minutes} minutes.`,
    );
    return;
  }
  const now = Date.now();
  const lines = [`<b>Feeds</b> (polled every ${minutes} minutes)`, ...list.map((f, i) => feedLine(f, i + 1, now)), '', escapeHtml(USAGE)];
  await sendHtml(ctx.api, ctx.chat.id, lines.join('\n'), { log: deps.log });
}

/** /feed add <url> and /feed remove <url | n>. */
async function feedCommand(ctx: CommandContext<Context>, deps: BotDeps): Promise<void> {
  const feeds = deps.feeds;
  if (!feeds) {
    await ctx.reply('Feeds are not enabled in this bot.');
    return;
  }
  const [action = '', target = '', ...rest] = ctx.match.trim().split(/\s+/);
  if (!target || rest.length > 0 || (action !== 'add' && action !== 'remove')) {
    await ctx.reply(USAGE);
    return;
  }
  if (action === 'remove') {
    const list = await feeds.store.list();
    const url = /^\d{1,4}$/.test(target) ? list[Number(target) - 1]?.url : target;
    const feed = url ? await feeds.store.get(url) : null;
    if (!feed) await ctx.reply(`No such feed: ${target}. /feeds lists them.`);
    else if (feed.origin === 'config') await ctx.reply('That feed comes from the FEED_URLS setting; remove it there and restart the bot.');
    else {
      await feeds.store.remove(feed.url);
      deps.log.info('bot.feed_removed', { url: feed.url });
      await ctx.reply(`Removed the feed ${feed.url}. Its articles stay in the collection (/remove deletes one).`);
    }
    return;
  }
  if (!/^https?:\/\/\S+$/i.test(target) || !URL.canParse(target)) {
    await ctx.reply(`That does not look like a feed address. ${USAGE}`);
    return;
  }
  if (!(await feeds.store.add(target))) {
    await ctx.reply('That feed is already in the list. /feeds shows its state.');
    return;
  }
  deps.log.info('bot.feed_added', { url: target });
  const result = await feeds.pollOne(target);
  await ctx.reply(addedMessage(target, result));
}

function addedMessage(url: string, result: FeedResult | null): string {
  if (!result) return `Added the feed ${url}.`;
  if (!result.ok) return `Added the feed ${url}, but it does not work yet: ${result.error} I will keep trying; /feeds shows its state.`;
  return `Added the feed ${url}: ${result.added} new article${result.added === 1 ? '' : 's'} indexed. New items are picked up as they appear.`;
}

/** Tells every admin, once, when a feed starts failing (the poller calls this only on the first failure). */
export function reportFeedProblems(api: Api, deps: BotDeps): (feed: FeedRecord) => void {
  return (feed) => {
    const text = `⚠️ The feed ${feed.url} is failing: ${feed.lastError ?? 'unknown error'}\nI will keep retrying, less often; /feeds shows its state.`;
    for (const id of deps.config.adminUserIds) {
      deps.jobs.track(
        api
          .sendMessage(id, text, { link_preview_options: { is_disabled: true } })
          .then(() => undefined)
          .catch((err: unknown) => deps.log.warn('bot.feed_report_failed', { user_id: id, error: errorFields(err) })),
      );
    }
  };
}
