/**
 * Plain text (`.txt`, including the seed format) and Markdown (`.md`) articles.
 */

import { parse as parseYaml } from 'yaml';
import type { Article } from '../types.js';
import type { Draft } from './build.js';
import { normalizeText, oneLine, splitHeadline, takeDatePrefix } from './text.js';
import { errorMessage } from '../util/errors.js';

/**
 * Parses a plain-text article. The seed format opens with `date YYYY-MM-DD` and then the
 * body (on the same line or the next); that prefix becomes the date and leaves the text.
 * A short first line followed by a blank line is taken as the headline.
 */
export function parsePlainText(content: string): Draft {
  let text = normalizeText(content);
  let date: unknown;
  const prefix = takeDatePrefix(text);
  if (prefix) {
    date = prefix.raw;
    text = prefix.rest;
  }
  const headline = splitHeadline(text);
  return headline ? { title: headline.title, date, text: headline.rest } : { date, text };
}

const FRONT_MATTER = /^---[^\S\n]*\n(?:([\s\S]*?)\n)?(?:---|\.\.\.)[^\S\n]*(?:\n|$)/;
const HEADING_LINE = /^#{1,6}[^\S\n]+(.+?)(?:[^\S\n]+#+)?[^\S\n]*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Removes the Markdown markup that would otherwise end up in answers and quotes (heading
 * marks, emphasis, link syntax, images). Anything subtler stays as written.
 */
function stripSimpleMarkdown(body: string): string {
  return body
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/!\[[^\]\n]*\]\([^)\n]*\)/g, '')
    .replace(/\[([^\]\n]+)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+"[^"\n]*")?\)/g, '$1')
    .replace(/^(#{1,6})[^\S\n]+(.+?)(?:[^\S\n]+#+)?[^\S\n]*$/gm, '$2')
    .replace(/^>[^\S\n]?/gm, '')
    .replace(/\*\*([^*\n]+)\*\*/g, '$1')
    .replace(/__([^_\n]+)__/g, '$1')
    .replace(/`([^`\n]+)`/g, '$1');
}

/**
 * Parses a Markdown article: YAML front matter (title, date, url, source, markup; other
 * keys are ignored), then the body. Without a title, the opening heading (or the first `#` heading)
 * is used. A front matter block that is not valid YAML is dropped with a warning.
 */
export function parseMarkdown(content: string): { draft: Draft; warnings: string[] } {
  const warnings: string[] = [];
  let body = normalizeText(content);
  let meta: Record<string, unknown> = {};
  const fm = FRONT_MATTER.exec(body);
  if (fm) {
    body = body.slice(fm[0].length);
    try {
      const parsed: unknown = parseYaml(fm[1] ?? '');
      if (isRecord(parsed)) meta = parsed;
      else if (parsed !== null) warnings.push('front matter is not a YAML mapping; ignored');
    } catch (err) {
      const first = errorMessage(err).split('\n', 1)[0] ?? '';
      warnings.push(`front matter is not valid YAML (${first.slice(0, 80)}); ignored`);
    }
  }
  body = body.trim();
  let title = typeof meta.title === 'string' || typeof meta.title === 'number' ? oneLine(String(meta.title)) : '';
  // `markup: none` marks a body that is plain text (see articleToMarkdown): it is kept exactly.
  const plain = meta.markup === 'none';
  if (!plain) {
    const firstLine = body.split('\n', 1)[0] ?? '';
    const opening = HEADING_LINE.exec(firstLine);
    if (opening) {
      const heading = oneLine(opening[1]!);
      // The opening heading is the title, not body text; with a different explicit title it is a subtitle.
      if (!title || heading === title) {
        title ||= heading;
        body = body.slice(firstLine.length);
      }
    } else if (!title) {
      const h1 = /^#[^\S\n]+(.+?)(?:[^\S\n]+#+)?[^\S\n]*$/m.exec(body);
      if (h1) title = oneLine(h1[1]!);
    }
  }
  const draft: Draft = {
    title: title || undefined,
    date: meta.date,
    url: meta.url,
    source: meta.source,
    text: plain ? body : stripSimpleMarkdown(body),
  };
  return { draft, warnings };
}

/**
 * Serialises an article as a Markdown file with front matter that parseMarkdown reads back
 * to the same title, date, url, source and text: the way to save a fetched page so that
 * its URL and date survive a reindex.
 */
export function articleToMarkdown(article: Pick<Article, 'title' | 'date' | 'url' | 'source' | 'text'>): string {
  // JSON strings are valid YAML double-quoted scalars, escapes included.
  const lines = ['---', `title: ${JSON.stringify(article.title)}`];
  if (article.date) lines.push(`date: ${article.date}`);
  if (article.url) lines.push(`url: ${JSON.stringify(article.url)}`);
  if (article.source) lines.push(`source: ${JSON.stringify(article.source)}`);
  lines.push('markup: none', '---', '', article.text, '');
  return lines.join('\n');
}
