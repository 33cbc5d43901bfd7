/**
 * Feed documents → items, through feedsmith (RSS 0.9x/2.0, Atom 0.3/1.0, RDF and JSON Feed).
 * Only the fields an article needs are kept: id, link, title, date and the full content when
 * the feed carries it. Anything that is not a feed becomes one `UserError` line saying what it was.
 */
import { DetectError, parseFeed } from 'feedsmith';
import { articleFromHtml, normalizeDate } from '../articles/index.js';
import { UserError } from '../util/errors.js';

/** One feed entry, as much of it as an article needs. */
export interface FeedItem {
  /** The entry's id (RSS guid, Atom id, JSON Feed id), or null when it has none. */
  guid: string | null;
  /** Absolute http(s) link to the story, or null. */
  link: string | null;
  title: string | null;
  /** `YYYY-MM-DD`, or null. */
  date: string | null;
  /** The entry's content as plain text (full content when the feed carries it, else the summary), or null. */
  content: string | null;
  /** True when `content` came from a full-content field (content:encoded, Atom content, content_html/text). */
  fullContent: boolean;
}

/** A parsed feed. */
export interface ParsedFeed {
  format: 'rss' | 'atom' | 'rdf' | 'json';
  title: string | null;
  items: FeedItem[];
}

/** Parses a fetched feed body; throws `UserError` with one line when it is not a feed. */
export function parseFeedDocument(bytes: Uint8Array, feedUrl: string): ParsedFeed {
  const text = new TextDecoder('utf-8').decode(bytes).replace(/^\uFEFF/, '');
  if (!text.trim()) throw new UserError('The feed answered with an empty body.');
  let parsed: ReturnType<typeof parseFeed>;
  try {
    // feedsmith detects JSON Feed only from an object; XML formats from the text.
    parsed = parseFeed(/^\s*[{[]/.test(text) ? safeJson(text) : text);
  } catch (err) {
    if (/^\s*(<!doctype html|<html[\s>])/i.test(text))
      throw new UserError('The address returned an HTML page, not a feed (RSS, Atom or JSON Feed).');
    if (err instanceof DetectError) throw new UserError('The address returned something that is not an RSS, Atom or JSON feed.');
    throw new UserError(`The feed could not be parsed: ${err instanceof Error ? err.message : String(err)}.`);
  }
  const base = feedUrl;
  switch (parsed.format) {
    case 'rss':
    case 'rdf': {
      const feed = parsed.feed as RssLike;
      return { format: parsed.format, title: clean(feed.title), items: (feed.items ?? []).map((i) => rssItem(i, base)) };
    }
    case 'atom': {
      const feed = parsed.feed;
      return { format: 'atom', title: textOf(feed.title), items: (feed.entries ?? []).map((e) => atomEntry(e, base)) };
    }
    case 'json': {
      const feed = parsed.feed;
      return { format: 'json', title: clean(feed.title), items: (feed.items ?? []).map((i) => jsonItem(i, base)) };
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UserError('The address returned broken JSON, not a JSON Feed.');
  }
}

/** The RSS and RDF item fields used here (RDF items are a subset of RSS's). */
interface RssLike {
  title?: string;
  items?: {
    title?: string;
    link?: string;
    description?: string;
    guid?: { value?: string };
    pubDate?: string;
    dc?: { dates?: string[] };
    content?: { encoded?: string };
  }[];
}

function rssItem(item: NonNullable<RssLike['items']>[number], base: string): FeedItem {
  const full = htmlText(item.content?.encoded);
  const date = item.pubDate ?? item.dc?.dates?.[0];
  return {
    guid: clean(item.guid?.value),
    link: absolute(item.link, base),
    title: plainTitle(item.title),
    date: normalizeDate(date ?? null),
    content: full ?? htmlText(item.description),
    fullContent: full !== null,
  };
}

type AtomEntry = NonNullable<Extract<ReturnType<typeof parseFeed>, { format: 'atom' }>['feed']['entries']>[number];

function atomEntry(entry: AtomEntry, base: string): FeedItem {
  const links = entry.links ?? [];
  const link = links.find((l) => !l.rel || l.rel === 'alternate') ?? links[0];
  const content = entry.content?.src ? null : atomText(entry.content);
  return {
    guid: clean(entry.id),
    link: absolute(link?.href, base),
    title: textOf(entry.title),
    date: normalizeDate(entry.published ?? entry.updated ?? null),
    content: content ?? atomText(entry.summary),
    fullContent: content !== null,
  };
}

type JsonItem = NonNullable<Extract<ReturnType<typeof parseFeed>, { format: 'json' }>['feed']['items']>[number];

function jsonItem(item: JsonItem, base: string): FeedItem {
  const full = htmlText(item.content_html) ?? clean(item.content_text);
  return {
    guid: clean(item.id),
    link: absolute(item.url ?? item.external_url, base),
    title: plainTitle(item.title),
    date: normalizeDate(item.date_published ?? item.date_modified ?? null),
    content: full ?? clean(item.summary),
    fullContent: full !== null,
  };
}

/** Atom text constructs are text, html or xhtml. */
function atomText(t: { value?: string; type?: string } | undefined): string | null {
  if (!t?.value) return null;
  return t.type === 'html' || t.type === 'xhtml' ? htmlText(t.value) : clean(t.value);
}

function textOf(t: { value?: string; type?: string } | undefined): string | null {
  const v = atomText(t);
  return v ? v.replace(/\s+/g, ' ') : null;
}

/** Titles may carry markup (`<b>`) or entities in some feeds. */
function plainTitle(title: string | undefined): string | null {
  if (!title) return null;
  return /<[a-z/!]/i.test(title) ? (htmlText(title)?.replace(/\s+/g, ' ') ?? null) : clean(title.replace(/\s+/g, ' '));
}

/** Visible text of an HTML fragment, paragraphs kept, through the same extraction as fetched pages. */
function htmlText(html: string | undefined): string | null {
  if (!html?.trim()) return null;
  const article = articleFromHtml(`<html><body><article>${html}</article></body></html>`, null, 'feed-item.html');
  return clean(article?.text);
}

function clean(s: string | undefined | null): string | null {
  const t = s?.trim();
  return t ? t : null;
}

function absolute(href: string | undefined, base: string): string | null {
  if (!href?.trim()) return null;
  try {
    const u = new URL(href.trim(), base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}
