/**
 * Telegram HTML rendering. Every piece of article or model text passes through
 * `escapeHtml`; the only tags in the output are the ones built here, so a
 * message can always be split and still parse.
 */
import { english, type Translate } from '../i18n/index.js';
import type { Answer, ArticleInfo, Citation, IndexProgress, IndexSummary, LibraryStats } from '../types.js';
import { formatBytes, formatSeconds } from '../util/format.js';
import type { AuditEntry } from './audit.js';

/** Telegram's limit for one message, in characters. */
export const TELEGRAM_MAX_CHARS = 4096;

/** Replaces lone UTF-16 surrogates, which Telegram refuses as invalid UTF-8, with U+FFFD. */
export function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** Escapes text for Telegram HTML (text content and attribute values); lone surrogates become U+FFFD. */
export function escapeHtml(text: string): string {
  return wellFormed(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Longer URLs are shown as plain titles: the tag would crowd out the text, and splitHtml re-opens it in every part. */
const MAX_LINK_URL_CHARS = 2048;

/** A link when the URL is http(s), otherwise just the escaped label (javascript: and friends never become links). */
export function link(label: string, url: string | null): string {
  if (url && url.length <= MAX_LINK_URL_CHARS && /^https?:\/\/\S+$/i.test(url))
    return `<a href="${escapeHtml(url)}">${escapeHtml(label)}</a>`;
  return escapeHtml(label);
}

/**
 * Renders a finished answer: the text with its [n] markers, its note in italics, then a Sources
 * block. A model answer that could not be cited shows its note first; an extractive answer opens
 * with the answering sentence and says what it is (its note) after the quotes. The labels are in
 * `t`'s language (English by default).
 */
export function renderAnswerHtml(answer: Answer, locate?: (articleId: string) => string | null, t: Translate = english): string {
  const text = escapeHtml(answer.text.trim() || t('no-answer'));
  if (answer.mode === 'not-covered') return text;
  const parts: string[] = [text];
  const note = answer.note?.trim() ? `<i>${escapeHtml(answer.note.trim())}</i>` : null;
  // A model answer that could not be tied to a source must not pass for a cited one: its note comes first.
  if (note && answer.mode === 'extractive') parts.push(note);
  else if (note) parts.unshift(note);
  if (answer.citations.length > 0) parts.push(renderSourcesHtml(answer.citations, t, locate));
  return parts.join('\n\n');
}

/** The "Sources" block: one line per cited article with its number, linked title and date (and its file when it has no URL). */
function renderSourcesHtml(citations: readonly Citation[], t: Translate, locate?: (articleId: string) => string | null): string {
  const lines = [...citations]
    .sort((a, b) => a.n - b.n)
    .map((c) => {
      const where = c.url ? null : (locate?.(c.articleId) ?? null);
      return `[${c.n}] ${link(c.title || c.articleId, c.url)} · ${escapeHtml(c.date ?? t('date-unknown'))}${where ? ` · <code>${escapeHtml(where)}</code>` : ''}`;
    });
  return [`<b>${escapeHtml(t('sources-title'))}</b>`, ...lines].join('\n');
}

/** The passages behind each citation, shown when the user taps "Show quotes". */
export function renderQuotesHtml(citations: readonly Citation[], t: Translate = english): string {
  const blocks = [...citations]
    .sort((a, b) => a.n - b.n)
    .map((c) => {
      const head = `[${c.n}] <b>${escapeHtml(c.title || c.articleId)}</b> · ${escapeHtml(c.date ?? t('date-unknown'))}`;
      const quote = c.quote.trim() ? `<blockquote>${escapeHtml(c.quote.trim())}</blockquote>` : `<i>${escapeHtml(t('no-quote'))}</i>`;
      return `${head}\n${quote}`;
    });
  return [`<b>${escapeHtml(t('quotes-title'))}</b>`, ...blocks].join('\n\n');
}

/** One page of the article list for /sources. */
export function renderSourcesPage(page: { total: number; items: ArticleInfo[] }, offset: number, t: Translate = english): string {
  if (page.total === 0) return escapeHtml(t('sources-none'));
  const first = offset + 1;
  const last = offset + page.items.length;
  const lines = page.items.map(
    (a, i) =>
      `${first + i}. ${link(a.title || a.id, a.url)} · ${escapeHtml(a.date ?? t('date-unknown'))} · <code>${escapeHtml(a.id)}</code>`,
  );
  return [t('sources-page', { first: String(first), last: String(last), total: String(page.total) }), ...lines].join('\n');
}

const PHASES: Record<IndexProgress['phase'], string> = {
  load: 'loading articles',
  chunk: 'splitting into chunks',
  embed: 'embedding',
  write: 'writing the index',
  done: 'finishing',
};

/** The text of the edited progress message while a reindex runs. */
export function renderProgress(full: boolean, p: IndexProgress | null): string {
  const what = full ? 'Full reindex' : 'Reindex';
  if (!p) return `${what} started…`;
  const count = p.total > 0 ? ` ${p.done}/${p.total}` : '';
  return `${what}: ${PHASES[p.phase]}${count}…`;
}

/** A reindex summary: counts, then every skipped file with its reason (capped). */
export function renderSummaryHtml(title: string, s: IndexSummary): string {
  const lines = [
    `<b>${escapeHtml(title)}</b> in ${formatSeconds(s.seconds)}`,
    `added ${s.added} · changed ${s.changed} · removed ${s.removed} · unchanged ${s.unchanged} · skipped ${s.skipped.length}`,
    `Index: ${s.articles} articles, ${s.chunks} chunks${s.dense ? '' : ' (keyword search only, no vectors)'}`,
  ];
  const issueList = (label: string, issues: IndexSummary['skipped']) => {
    if (issues.length === 0) return;
    const shown = issues.slice(0, 15).map((i) => `• ${escapeHtml(i.file)}: ${escapeHtml(i.reason)}`);
    if (issues.length > shown.length) shown.push(`… and ${issues.length - shown.length} more`);
    lines.push('', `<b>${label}</b>`, ...shown);
  };
  issueList('Skipped', s.skipped);
  issueList('Warnings', s.warnings);
  return lines.join('\n');
}

/** What /stats shows. */
export function renderStatsHtml(s: LibraryStats, uptimeMs: number, answered: { total: number; sinceStart: number }): string {
  const range = s.firstDate || s.lastDate ? `${s.firstDate ?? '?'} to ${s.lastDate ?? '?'}` : 'unknown';
  return [
    '<b>Stats</b>',
    `Articles: ${s.articles} (${escapeHtml(range)})`,
    `Chunks: ${s.chunks}`,
    `Index size: ${formatBytes(s.indexBytes)}${s.builtAt ? `, built ${escapeHtml(s.builtAt)}` : ''}`,
    `Embedding model: ${escapeHtml(s.embeddingModel ?? 'none')}${s.dense ? '' : ' (keyword search only)'}`,
    `Uptime: ${formatDuration(uptimeMs)}`,
    `Questions answered: ${answered.total} (${answered.sinceStart} since start)`,
  ].join('\n');
}

/** Human-readable duration (2d 3h 4m, 5m 6s, 7s). */
export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

// ---------------------------------------------------------------------------
// Splitting

interface Token {
  raw: string;
  /** Set for tags: the tag name, and whether it closes. */
  tag?: { name: string; close: boolean };
}

const TOKEN = /<\/?([a-zA-Z][a-zA-Z0-9-]*)(?:\s[^<>]*)?>|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);|[\uD800-\uDBFF][\uDC00-\uDFFF]|[\s\S]/g;

function tokenize(html: string): Token[] {
  const out: Token[] = [];
  for (const m of html.matchAll(TOKEN)) {
    const raw = m[0];
    if (m[1] !== undefined) out.push({ raw, tag: { name: m[1].toLowerCase(), close: raw.startsWith('</') } });
    else out.push({ raw });
  }
  return out;
}

/** Lower is a better place to split: paragraph, line, sentence, word, anywhere. */
function breakRank(tokens: Token[], j: number): number {
  const prev = tokens[j - 1]?.raw;
  const prev2 = tokens[j - 2]?.raw;
  if (prev === '\n' && prev2 === '\n') return 0;
  if (prev === '\n') return 1;
  if (prev !== undefined && /\s/.test(prev) && prev2 !== undefined && /[.!?…]/.test(prev2)) return 2;
  if (prev !== undefined && /\s/.test(prev)) return 3;
  return 4;
}

const isBlank = (t: Token) => !t.tag && /^\s$/.test(t.raw);

/**
 * Splits Telegram HTML into messages of at most `limit` characters, preferring
 * paragraph, then line, sentence and word boundaries. Tags are never cut: tags
 * open at a split are closed at the end of one part and reopened at the start of
 * the next, so every part parses on its own.
 */
export function splitHtml(html: string, limit = TELEGRAM_MAX_CHARS): string[] {
  const tokens = tokenize(html);
  const parts: string[] = [];
  let stack: Token[] = [];
  let i = 0;
  while (i < tokens.length) {
    while (i < tokens.length && isBlank(tokens[i]!)) i++;
    if (i >= tokens.length) break;
    stack = reopenable(stack, tokens, i, Math.floor(limit / 2));
    const prefix = stack.map((t) => t.raw).join('');
    const st = [...stack];
    let closers = st.reduce((n, t) => n + t.tag!.name.length + 3, 0);
    let len = prefix.length;
    const best: number[] = [-1, -1, -1, -1];
    const minUseful = Math.floor(limit * 0.3);
    let j = i;
    for (; j < tokens.length; j++) {
      const t = tokens[j]!;
      let nextClosers = closers;
      if (t.tag && !t.tag.close) nextClosers += t.tag.name.length + 3;
      if (t.tag?.close) nextClosers -= t.tag.name.length + 3;
      if (len + t.raw.length + nextClosers > limit && j > i) break;
      len += t.raw.length;
      closers = nextClosers;
      if (t.tag && !t.tag.close) st.push(t);
      else if (t.tag?.close) popTag(st, t.tag.name);
      const rank = breakRank(tokens, j + 1);
      if (rank < 4 && len >= minUseful) best[rank] = j + 1;
    }
    let end = j;
    if (j < tokens.length) {
      const ranked = best.find((p) => p > i);
      if (ranked !== undefined) end = ranked;
    }
    const chunk = tokens.slice(i, end);
    const endStack = [...stack];
    for (const t of chunk) {
      if (t.tag && !t.tag.close) endStack.push(t);
      else if (t.tag?.close) popTag(endStack, t.tag.name);
    }
    while (chunk.length > 0 && isBlank(chunk[chunk.length - 1]!)) chunk.pop();
    const body =
      prefix +
      chunk.map((t) => t.raw).join('') +
      [...endStack]
        .reverse()
        .map((t) => `</${t.tag!.name}>`)
        .join('');
    if (htmlToPlain(body).trim()) parts.push(body);
    stack = endStack;
    i = end;
  }
  return parts;
}

/**
 * The open tags worth re-opening at the start of a part: those that fit, in total, in
 * `budget` characters. A dropped tag's closing tag (from `from` on) is blanked out so
 * the parts still parse; its text just loses the formatting or link.
 */
function reopenable(stack: Token[], tokens: Token[], from: number, budget: number): Token[] {
  const keep: Token[] = [];
  const dropped: Token[] = [];
  let used = 0;
  for (const t of stack) {
    if (used + t.raw.length <= budget) {
      keep.push(t);
      used += t.raw.length;
    } else dropped.push(t);
  }
  // Innermost first, so each finds its own closing tag.
  for (const t of dropped.reverse()) {
    let depth = 0;
    for (let k = from; k < tokens.length; k++) {
      const tag = tokens[k]!.tag;
      if (!tag || tag.name !== t.tag!.name) continue;
      if (!tag.close) depth++;
      else if (depth-- === 0) {
        tokens[k] = { raw: '' };
        break;
      }
    }
  }
  return keep;
}

function popTag(stack: Token[], name: string): void {
  for (let k = stack.length - 1; k >= 0; k--) {
    if (stack[k]!.tag!.name === name) {
      stack.splice(k, 1);
      return;
    }
  }
}

/** Splits plain text into messages of at most `limit` characters on the same boundaries as `splitHtml`. */
export function splitPlain(text: string, limit = TELEGRAM_MAX_CHARS): string[] {
  return splitHtml(escapeHtml(text), limit).map(htmlToPlain);
}

/** Turns our HTML into readable plain text: tags dropped, links shown as "title (url)", entities decoded. */
export function htmlToPlain(html: string): string {
  return html
    .replace(/<a\s+href="([^"]*)"\s*>([\s\S]*?)<\/a>/gi, (_m, href: string, label: string) => {
      const url = unescapeHtml(href);
      const text = label.replace(/<[^>]*>/g, '');
      return unescapeHtml(text) === url ? text : `${text} (${href})`;
    })
    .replace(/<[^>]*>/g, '')
    .replace(/&(#\d+|#x[0-9a-fA-F]+|lt|gt|quot|amp);/g, (_m, e: string) => unescapeEntity(e));
}

function unescapeHtml(s: string): string {
  return s.replace(/&(#\d+|#x[0-9a-fA-F]+|lt|gt|quot|amp);/g, (_m, e: string) => unescapeEntity(e));
}

function unescapeEntity(e: string): string {
  if (e === 'lt') return '<';
  if (e === 'gt') return '>';
  if (e === 'quot') return '"';
  if (e === 'amp') return '&';
  const code = e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
  return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : '';
}

/** The /audit list: one line per admin action, newest first, times in UTC. */
export function renderAuditHtml(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return 'No admin actions recorded yet.';
  const lines = entries.map((e) => {
    const when = new Date(e.at).toISOString().slice(0, 16).replace('T', ' ');
    const who = e.userName ? `${escapeHtml(e.userName)} (${e.userId})` : String(e.userId);
    const what = e.target ? `${escapeHtml(e.action)} <code>${escapeHtml(cut(e.target))}</code>` : escapeHtml(e.action);
    return `${when} · ${who} · ${what} → ${escapeHtml(cut(e.outcome))}`;
  });
  return ['<b>Admin actions</b> (newest first, UTC)', ...lines].join('\n');
}

/** Keeps one audit field short enough that 20 lines fit one message. */
function cut(s: string, max = 120): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
