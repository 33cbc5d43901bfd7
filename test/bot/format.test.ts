import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  escapeHtml,
  htmlToPlain,
  renderAnswerHtml,
  renderQuotesHtml,
  renderSummaryHtml,
  splitHtml,
  splitPlain,
} from '../../src/bot/format.js';
import { EXTRACTIVE_LABEL, NOTE_NO_LLM } from '../../src/answering/extractive.js';
import { checkTelegramHtml } from '../support/telegram-html.js';
import { FAKE_ARTICLES, citationOf, makeAnswer, summary } from '../support/telegram-fakes.js';

const visible = (html: string) => {
  const r = checkTelegramHtml(html);
  if (!r.ok) throw new Error(`invalid HTML (${r.error}): ${html.slice(0, 200)}`);
  return r.text;
};
const [flood, , bistro] = FAKE_ARTICLES as [(typeof FAKE_ARTICLES)[0], (typeof FAKE_ARTICLES)[0], (typeof FAKE_ARTICLES)[0]];

describe('rendering answers', () => {
  it('escapes the three characters Telegram HTML reserves, and quotes for attributes', () => {
    expect(escapeHtml('a < b > c & "d"')).toBe('a &lt; b &gt; c &amp; &quot;d&quot;');
  });

  it('replaces lone surrogates (invalid UTF-8 for Telegram) and keeps real pairs', () => {
    expect(escapeHtml('a\uD800b\uDC00c😀')).toBe('a\uFFFDb\uFFFDc😀');
  });

  it('renders the answer text with its [n] markers and a Sources block with linked title and date', () => {
    const html = renderAnswerHtml(makeAnswer({ text: 'The mayor asked for barriers [1].', citations: [citationOf(1, flood)] }));
    expect(html).toContain('The mayor asked for barriers [1].');
    expect(html).toContain(
      '<b>Sources</b>\n[1] <a href="https://news.example/flood-barriers">Mayor Alice Park asks council for flood barriers</a> · 2024-03-02',
    );
    expect(visible(html)).toContain('Sources');
  });

  it('escapes markup in article titles, text and URLs so it shows literally', () => {
    const html = renderAnswerHtml(makeAnswer({ text: 'It serves <b>fish & chips</b> [1].', citations: [citationOf(1, bistro)] }));
    expect(html).toContain('&lt;b&gt;fish &amp; chips&lt;/b&gt;');
    expect(html).toContain('href="https://news.example/bistro?a=1&amp;b=2"');
    expect(visible(html)).toContain('Chef opens <b>Bold</b> Bistro & Bar');
  });

  it('never turns a non-http URL into a link', () => {
    const html = renderAnswerHtml(makeAnswer({ text: 'x [1]', citations: [{ ...citationOf(1, flood), url: 'javascript:alert(1)' }] }));
    expect(html).not.toContain('<a ');
    expect(visible(html)).toContain('Mayor Alice Park');
  });

  it('opens an extractive answer with the answer sentence and labels it once, in italics after the quotes', () => {
    const text = '\u201CMayor Alice Park asked for flood barriers.\u201D [1]';
    const html = renderAnswerHtml(makeAnswer({ text, mode: 'extractive', note: NOTE_NO_LLM, citations: [citationOf(1, flood)] }));
    const shown = visible(html);
    expect(html.startsWith('\u201CMayor Alice Park asked for flood barriers.\u201D [1]\n\n')).toBe(true);
    expect(html).toContain(`[1]\n\n<i>${escapeHtml(NOTE_NO_LLM)}</i>\n\n<b>Sources</b>`);
    expect(shown.split(EXTRACTIVE_LABEL)).toHaveLength(2);
    expect(shown.split(NOTE_NO_LLM)).toHaveLength(2);
    expect(shown).not.toMatch(/Extractive answer|\.\)\.|\.\./);
  });

  it('shows the note of a model answer that could not be cited before its text', () => {
    const html = renderAnswerHtml(
      makeAnswer({ text: 'Flood barriers.', mode: 'llm', note: 'The answer could not be tied to a source.', citations: [] }),
    );
    expect(html).toBe('<i>The answer could not be tied to a source.</i>\n\nFlood barriers.');
  });

  it('keeps not-covered answers plain: no markup, no Sources', () => {
    const html = renderAnswerHtml(
      makeAnswer({ text: 'Nothing on <that> & more.', mode: 'not-covered', citations: [citationOf(1, flood)] }),
    );
    expect(html).toBe('Nothing on &lt;that&gt; &amp; more.');
  });

  it('renders quotes in blockquotes, escaped', () => {
    const html = renderQuotesHtml([citationOf(1, bistro)]);
    expect(html).toContain('<blockquote>The bistro menu lists &lt;b&gt;fish &amp; chips&lt;/b&gt;');
    expect(visible(html)).toContain('<script>alert(1)</script>');
  });

  it('lists skipped files with their reasons in a reindex summary', () => {
    const html = renderSummaryHtml('Reindex done', summary({ added: 2, skipped: [{ file: 'a<b>.pdf', reason: 'encrypted & locked' }] }));
    expect(visible(html)).toContain('added 2 · changed 0 · removed 0 · unchanged 0 · skipped 1');
    expect(visible(html)).toContain('• a<b>.pdf: encrypted & locked');
  });
});

describe('splitting long messages', () => {
  const paragraphs = Array.from({ length: 40 }, (_, i) => `Paragraph ${i} says <${i}> & more. ` + 'word '.repeat(40 + (i % 7) * 10).trim());
  const html = paragraphs.map(escapeHtml).join('\n\n');

  it('keeps short messages whole', () => {
    expect(splitHtml('<b>short</b> text')).toEqual(['<b>short</b> text']);
  });

  it('splits on paragraph boundaries into parts of at most 4096 characters', () => {
    expect(html.length).toBeGreaterThan(3 * 4096);
    const parts = splitHtml(html);
    expect(parts.length).toBeGreaterThanOrEqual(4);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(4096);
      // Each part is made of whole paragraphs.
      for (const para of visible(p).split('\n\n')) expect(paragraphs).toContain(para);
    }
    expect(parts.map(visible).join('\n\n')).toBe(paragraphs.join('\n\n'));
  });

  it('closes and reopens a tag that spans a split instead of breaking it', () => {
    const long = `<i>${'lorem ipsum dolor sit amet. '.repeat(400)}</i><a href="https://x.example/?a=1&amp;b=2">${'link text '.repeat(300)}</a>`;
    const parts = splitHtml(long, 1000);
    expect(parts.length).toBeGreaterThan(10);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(1000);
      visible(p);
    }
    expect(parts[1]).toMatch(/^<i>.*<\/i>$/s);
    expect(parts[parts.length - 1]).toMatch(/^<a href="https:\/\/x.example\/\?a=1&amp;b=2">.*<\/a>$/s);
  });

  it('does not spend every part re-opening a huge tag', () => {
    // A link whose opening tag is most of the limit: re-opening it would leave a few visible characters per part.
    const label = Array.from({ length: 60 }, (_, k) => `word${k}`).join(' ');
    const html = `<b>Sources</b>\n[1] <a href="https://news.example/${'x'.repeat(150)}">${label}</a> · 2024-03-02`;
    const parts = splitHtml(html, 200);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(200);
    const shown = parts.map(visible);
    expect(shown.join(' ').replace(/\s+/g, ' ')).toContain(label);
    expect(parts.length).toBeLessThanOrEqual(Math.ceil(visible(html).length / 100) + 1);
  });

  it('shows a link with an overlong URL as plain title, so the Sources block stays one message', () => {
    const long = { ...flood, url: `https://news.example/${'a'.repeat(5000)}` };
    const html = renderAnswerHtml(makeAnswer({ text: 'Flood barriers [1]', citations: [citationOf(1, long)] }));
    const parts = splitHtml(html);
    expect(parts).toHaveLength(1);
    expect(parts[0]).not.toContain('<a ');
    expect(visible(parts[0]!)).toContain(`[1] ${flood.title} · 2024-03-02`);
  });

  it('never cuts an entity or a surrogate pair, even in text without spaces', () => {
    const dense = '&amp;😀'.repeat(2000);
    const parts = splitHtml(dense, 100);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(100);
      expect(visible(p)).toMatch(/^(&😀)+$/u);
    }
    expect(parts.map(visible).join('')).toBe('&😀'.repeat(2000));
  });

  it('keeps any escaped text with random markup valid when split at any size', () => {
    const tags = ['b', 'i', 'u', 's', 'code', 'blockquote'];
    const segment = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 80 }).map(escapeHtml),
      fc.tuple(fc.constantFrom(...tags), fc.string({ unit: 'grapheme', maxLength: 80 })).map(([t, s]) => `<${t}>${escapeHtml(s)}</${t}>`),
      fc.constantFrom('\n\n', '\n', '. ', ' '),
    );
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 60 }), fc.integer({ min: 60, max: 600 }), (segments, limit) => {
        const input = segments.join('');
        const parts = splitHtml(input, limit);
        for (const p of parts) {
          expect(p.length).toBeLessThanOrEqual(limit);
          expect(visible(p).trim()).not.toBe('');
        }
        // Splitting only ever drops whitespace at the cut points.
        expect(parts.map(visible).join('').replace(/\s+/g, '')).toBe(visible(input).replace(/\s+/g, ''));
      }),
      { numRuns: 300 },
    );
  });

  it('splits plain text the same way and shows links as "title (url)" in plain text', () => {
    const parts = splitPlain('x'.repeat(5000) + '\n\n' + 'y'.repeat(100));
    expect(parts.map((p) => p.length)).toEqual([4096, 1006]);
    expect(htmlToPlain('<b>A</b> <a href="https://e.example/?a=1&amp;b=2">T &amp; U</a>')).toBe('A T & U (https://e.example/?a=1&b=2)');
  });
});
