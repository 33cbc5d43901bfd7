/**
 * Inline mode: typing `@botname words` in any chat lists up to 10 matching articles (title, date,
 * one-line snippet); choosing one posts its title, link and snippet into that chat. It must be
 * switched on with @BotFather (/setinline). No LLM is involved, so answers come in milliseconds.
 */
import { createHash } from 'node:crypto';
import { Composer, type Context, type Filter } from 'grammy';
import type { InlineQueryResultArticle } from 'grammy/types';
import type { SearchHit } from '../search/index.js';
import type { BotDeps } from './deps.js';
import { escapeHtml, link } from './format.js';

/** Most results shown (Telegram allows 50; ten fit a phone screen). */
export const INLINE_RESULTS = 10;
/**
 * Seconds Telegram may reuse an answer for the same words: short enough that a feed item indexed
 * a minute ago shows up, long enough that typing does not search again for every repeat.
 */
export const INLINE_CACHE_SECONDS = 60;
const MAX_QUERY_CHARS = 200;

/** The inline-query handler. */
export function inlineSearch(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.on('inline_query', (ctx) => answer(ctx, deps));
  return composer;
}

async function answer(ctx: Filter<Context, 'inline_query'>, deps: BotDeps): Promise<void> {
  const query = ctx.inlineQuery.query.trim().slice(0, MAX_QUERY_CHARS);
  // With an allowlist, an answer cached by Telegram must not be shown to someone else.
  const personal = deps.config.allowedUserIds.length > 0 || deps.config.allowedChatIds.length > 0;
  const options = { cache_time: INLINE_CACHE_SECONDS, is_personal: personal };
  if (!deps.search || query.length < 2) {
    await ctx.answerInlineQuery([], options);
    return;
  }
  const started = Date.now();
  const hits = await deps.search(query, INLINE_RESULTS);
  await ctx.answerInlineQuery(hits.map(resultOf), options);
  deps.log.info('bot.inline_answered', { user_id: ctx.from.id, results: hits.length, ms: Date.now() - started });
}

/** One result: what the list shows, and the message posted when it is chosen. */
function resultOf(hit: SearchHit): InlineQueryResultArticle {
  const date = hit.date ? ` (${hit.date})` : '';
  const lines = [`<b>${link(hit.title, hit.url)}</b>${escapeHtml(date)}`];
  if (hit.url) lines.push(escapeHtml(hit.url));
  lines.push(`“${escapeHtml(hit.snippet)}”`);
  return {
    type: 'article',
    // Result ids are at most 64 bytes; article ids (paths) can be longer.
    id: createHash('sha1').update(hit.articleId).digest('hex'),
    title: hit.title,
    description: `${hit.date ? `${hit.date} · ` : ''}${hit.snippet}`,
    ...(hit.url ? { url: hit.url } : {}),
    input_message_content: { message_text: lines.join('\n'), parse_mode: 'HTML', link_preview_options: { is_disabled: true } },
  };
}
