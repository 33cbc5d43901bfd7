/**
 * A news site on 127.0.0.1 for feed tests: serves RSS, Atom and JSON feeds built from items the
 * test adds, answers conditional requests (ETag / If-Modified-Since → 304) like a real server,
 * serves article pages, and can misbehave on any path (garbage, HTML, huge bodies, redirect loops).
 * Every request is recorded with its headers.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One story in a test feed. */
export interface StoryItem {
  guid: string;
  title: string;
  /** ISO date-time. */
  date: string;
  /** Path of the story's page on this server (its link). */
  path: string;
  /** Full text carried in the feed (content:encoded / Atom content / content_html); omitted = teaser only. */
  content?: string;
  summary?: string;
}

/** A recorded request. */
export interface SeenRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  status: number;
}

type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const paragraphs = (text: string) =>
  text
    .split(/\n+/)
    .map((p) => `<p>${esc(p)}</p>`)
    .join('');

/** The site; `url(path)` gives absolute links. */
export class FeedSite {
  readonly requests: SeenRequest[] = [];
  private readonly routes = new Map<string, Route>();
  private constructor(
    private readonly server: http.Server,
    readonly origin: string,
  ) {}

  static async start(): Promise<FeedSite> {
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const site = new FeedSite(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => site.serve(req, res));
    return site;
  }

  url(path: string): string {
    return this.origin + path;
  }

  /** Serves `body` at `path` with conditional-request support. */
  document(path: string, contentType: string, body: () => string, lastModified = 'Mon, 01 Jul 2024 10:00:00 GMT'): void {
    this.routes.set(path, (req, res) => {
      const text = body();
      const etag = `"${createHash('sha1').update(text).digest('hex').slice(0, 16)}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag }).end();
        return;
      }
      res.writeHead(200, { 'content-type': contentType, etag, 'last-modified': lastModified }).end(text);
    });
  }

  /** An RSS 2.0 feed of `items` (read on every request, so tests can add items). */
  rss(path: string, title: string, items: StoryItem[]): void {
    this.document(path, 'application/rss+xml; charset=utf-8', () => {
      const entries = items.map(
        (i) => `<item><title>${esc(i.title)}</title><link>${this.url(i.path)}</link><guid isPermaLink="false">${esc(i.guid)}</guid>
<pubDate>${new Date(i.date).toUTCString()}</pubDate><description>${esc(i.summary ?? i.title)}</description>
${i.content ? `<content:encoded><![CDATA[${paragraphs(i.content)}]]></content:encoded>` : ''}</item>`,
      );
      return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>${esc(title)}</title>
<link>${this.origin}/</link><description>Test news</description>${entries.join('\n')}</channel></rss>`;
    });
  }

  /** An Atom 1.0 feed of `items`. */
  atom(path: string, title: string, items: StoryItem[]): void {
    this.document(path, 'application/atom+xml', () => {
      const entries = items.map(
        (i) => `<entry><title>${esc(i.title)}</title><id>${esc(i.guid)}</id><link href="${this.url(i.path)}"/>
<published>${i.date}</published><updated>${i.date}</updated>
${i.content ? `<content type="html">${esc(paragraphs(i.content))}</content>` : `<summary>${esc(i.summary ?? i.title)}</summary>`}</entry>`,
      );
      return `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>${esc(title)}</title>
<id>${this.url(path)}</id><updated>2024-07-01T00:00:00Z</updated>${entries.join('\n')}</feed>`;
    });
  }

  /** A JSON Feed 1.1 of `items`. */
  json(path: string, title: string, items: StoryItem[]): void {
    this.document(path, 'application/feed+json', () =>
      JSON.stringify({
        version: 'https://jsonfeed.org/version/1.1',
        title,
        items: items.map((i) => ({
          id: i.guid,
          url: this.url(i.path),
          title: i.title,
          date_published: i.date,
          ...(i.content ? { content_html: paragraphs(i.content) } : { summary: i.summary ?? i.title }),
        })),
      }),
    );
  }

  /** An article page (for items whose feed carries no full text). */
  page(path: string, title: string, date: string, text: string): void {
    this.routes.set(path, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<html><head><title>${esc(title)}</title><meta property="article:published_time" content="${date}"></head>
<body><nav>Home · World · Sport</nav><article><h1>${esc(title)}</h1>${paragraphs(text)}</article><footer>© Test News</footer></body></html>`);
    });
  }

  /** Any handler (misbehaving servers). */
  route(path: string, handler: Route): void {
    this.routes.set(path, handler);
  }

  /** Answers `req` as the route at `path` would (one path serving another's content). */
  serveAt(path: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    this.routes.get(path)?.(req, res);
  }

  /** Requests made to `path`. */
  requestsTo(path: string): SeenRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = new URL(req.url ?? '/', this.origin).pathname;
    res.on('finish', () => this.requests.push({ path, headers: req.headers, status: res.statusCode }));
    const route = this.routes.get(path);
    if (route) route(req, res);
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
}

/** A few paragraphs long enough to count as a full article in a feed. */
export function storyText(lead: string): string {
  return [
    lead,
    'Officials said the decision followed months of consultation with residents and local businesses.',
    'A spokesperson added that further details would be published on the council website next week.',
  ].join('\n');
}
