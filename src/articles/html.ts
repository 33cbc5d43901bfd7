/**
 * HTML pages (saved files or fetched URLs): Readability finds the main content, linkedom
 * provides the DOM; this file only reads metadata and turns block elements into paragraphs.
 */

import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import type { Article } from '../types.js';
import { emptyOutput, finishDraft, MIN_TEXT_CHARS, type Draft } from './build.js';
import { articleId, toPosixPath } from './files.js';
import { normalizeText, oneLine } from './text.js';

// The project compiles without the DOM lib, so the few DOM members used here are declared.
interface DomNode {
  nodeType: number;
  nodeName: string;
  textContent: string | null;
  childNodes: ArrayLike<DomNode>;
}
interface DomElement extends DomNode {
  getAttribute(name: string): string | null;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  remove(): void;
}
interface DomDocument {
  title: string;
  body: DomElement | null;
  documentElement: DomElement | null;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
}

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;

/** Elements that end one paragraph and start another. */
const BLOCK = new Set([
  'ADDRESS',
  'ARTICLE',
  'ASIDE',
  'BLOCKQUOTE',
  'DD',
  'DETAILS',
  'DIV',
  'DL',
  'DT',
  'FIELDSET',
  'FIGCAPTION',
  'FIGURE',
  'FOOTER',
  'FORM',
  'H1',
  'H2',
  'H3',
  'H4',
  'H5',
  'H6',
  'HEADER',
  'HR',
  'LI',
  'MAIN',
  'NAV',
  'OL',
  'P',
  'PRE',
  'SECTION',
  'SUMMARY',
  'TABLE',
  'TBODY',
  'TD',
  'TH',
  'THEAD',
  'TFOOT',
  'TR',
  'UL',
]);
/** Elements whose content is never article text. */
const NOT_TEXT = new Set([
  'SCRIPT',
  'STYLE',
  'NOSCRIPT',
  'TEMPLATE',
  'SVG',
  'CANVAS',
  'IFRAME',
  'OBJECT',
  'BUTTON',
  'SELECT',
  'TEXTAREA',
  'HEAD',
]);
/** Page furniture removed when Readability finds no article and the whole body is used. */
const BOILERPLATE =
  'script, style, noscript, template, nav, header, footer, aside, form, iframe, svg, button, [role="navigation"], [role="banner"], [role="contentinfo"], [aria-hidden="true"]';

function parseDocument(html: string): DomDocument {
  // linkedom treats a bare fragment as the whole document; wrapping gives it a body.
  const source = /<html[\s>]/i.test(html) ? html : `<!DOCTYPE html><html><head></head><body>${html}</body></html>`;
  return parseHTML(source).document as unknown as DomDocument;
}

/** Paragraph text of a DOM subtree: blocks separated by blank lines, `<br>` kept as a line break. */
function blockText(root: DomNode): string {
  const paragraphs: string[] = [];
  let current = '';
  const flush = () => {
    const p = current
      .replace(/[^\S\n]+/g, ' ')
      .replace(/ ?\n ?/g, '\n')
      .trim();
    if (p !== '') paragraphs.push(p);
    current = '';
  };
  const walk = (node: DomNode) => {
    if (node.nodeType === TEXT_NODE) {
      // Line breaks in HTML source are just spaces.
      current += (node.textContent ?? '').replace(/\s+/g, ' ');
      return;
    }
    if (node.nodeType !== ELEMENT_NODE) return;
    const tag = node.nodeName.toUpperCase();
    if (NOT_TEXT.has(tag)) return;
    if (tag === 'BR') {
      current += '\n';
      return;
    }
    const block = BLOCK.has(tag);
    if (block) flush();
    for (const child of Array.from(node.childNodes)) walk(child);
    if (block) flush();
  };
  walk(root);
  flush();
  return paragraphs.join('\n\n');
}

function meta(doc: DomDocument, ...keys: string[]): string | null {
  for (const key of keys) {
    for (const attr of ['property', 'name', 'itemprop']) {
      const value = doc.querySelector(`meta[${attr}="${key}"]`)?.getAttribute('content');
      if (value?.trim()) return value.trim();
    }
  }
  return null;
}

/** datePublished from JSON-LD blocks, which may nest it in `@graph` or arrays. */
function jsonLdDate(doc: DomDocument): string | null {
  const find = (value: unknown, depth: number): string | null => {
    if (depth > 6 || value === null || typeof value !== 'object') return null;
    if (Array.isArray(value)) {
      for (const v of value) {
        const d = find(v, depth + 1);
        if (d) return d;
      }
      return null;
    }
    const record = value as Record<string, unknown>;
    if (typeof record.datePublished === 'string') return record.datePublished;
    for (const v of Object.values(record)) {
      const d = find(v, depth + 1);
      if (d) return d;
    }
    return null;
  };
  for (const script of Array.from(doc.querySelectorAll('script[type="application/ld+json"]'))) {
    try {
      const d = find(JSON.parse(script.textContent ?? ''), 0);
      if (d) return d;
    } catch {
      // Broken JSON-LD is common on the web; the other date sources still apply.
    }
  }
  return null;
}

function absoluteHttpUrl(value: string | null | undefined): string | null {
  if (!value) return null;
  try {
    const u = new URL(value.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/** Main text via Readability (with its cleaned-up title), else the body minus page furniture. */
function mainContent(html: string): { title: string | null; text: string } {
  const doc = parseDocument(html);
  let title: string | null = null;
  try {
    const result = new Readability<DomNode>(doc as never, { serializer: (node) => node as unknown as DomNode }).parse();
    title = oneLine(result?.title ?? '') || null;
    const text = result?.content ? normalizeText(blockText(result.content)) : '';
    if (text.length >= MIN_TEXT_CHARS) return { title, text };
  } catch {
    // Readability gives up on some odd documents; the plain body below is the fallback.
  }
  const fresh = parseDocument(html);
  const body = fresh.body ?? fresh.documentElement;
  if (!body) return { title, text: '' };
  for (const el of Array.from(body.querySelectorAll(BOILERPLATE))) el.remove();
  return { title, text: normalizeText(blockText(body)) };
}

/**
 * Extracts the article fields of an HTML page: title (og:title, then `<title>` as Readability
 * cleans it, then the first `<h1>`), the date as written (article:published_time, JSON-LD
 * datePublished, date meta tags, `<time datetime>`),
 * URL (given, else canonical), source (og:site_name, else host) and main text.
 */
export function htmlDraft(html: string, url: string | null): Draft {
  const doc = parseDocument(html);
  const content = mainContent(html);
  // Readability's title is <title> with the " | Site name" part removed when it can tell.
  const title =
    meta(doc, 'og:title') ?? content.title ?? (oneLine(doc.title ?? '') || null) ?? oneLine(doc.querySelector('h1')?.textContent ?? '');
  const date =
    meta(doc, 'article:published_time') ??
    jsonLdDate(doc) ??
    meta(doc, 'datePublished', 'date', 'pubdate', 'publish-date', 'dc.date') ??
    doc.querySelector('article time[datetime], time[pubdate]')?.getAttribute('datetime') ??
    doc.querySelector('time[datetime]')?.getAttribute('datetime') ??
    undefined;
  const pageUrl =
    absoluteHttpUrl(url) ??
    absoluteHttpUrl(doc.querySelector('link[rel="canonical"]')?.getAttribute('href')) ??
    absoluteHttpUrl(meta(doc, 'og:url'));
  let source = meta(doc, 'og:site_name');
  if (!source && pageUrl) source = new URL(pageUrl).hostname.replace(/^www\./, '');
  return { title: title || undefined, date, url: pageUrl ?? url ?? undefined, source, text: content.text };
}

/**
 * Builds an article from an HTML page (a saved file or a fetched URL); null when the page
 * has no article text. `relPath` is where the page is (or will be) saved in the articles folder.
 */
export function articleFromHtml(html: string, url: string | null, relPath: string): Article | null {
  const out = emptyOutput();
  const path = toPosixPath(relPath);
  finishDraft(htmlDraft(html, url), { id: articleId(path), path, label: path }, out);
  return out.entries[0]?.article ?? null;
}
