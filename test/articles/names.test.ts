import { describe, expect, it } from 'vitest';
import { articleId, normalizeDate, normalizeText, safeArticleFileName, SUPPORTED_EXTENSIONS } from '../../src/articles/index.js';

describe('articleId', () => {
  it('is the relative path without its extension, folders kept', () => {
    expect(articleId('000_cc2b64a9889106ac.txt')).toBe('000_cc2b64a9889106ac');
    expect(articleId('wikinews/2019-01-04-foo.md')).toBe('wikinews/2019-01-04-foo');
    expect(articleId('./a\\b\\c.v2.html')).toBe('a/b/c.v2');
    expect(articleId('noext')).toBe('noext');
  });
});

describe('safeArticleFileName', () => {
  const safe = (name: string) => {
    const out = safeArticleFileName(name);
    // Whatever comes in, the result is one plain, visible name inside the folder.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must not survive
    expect(out).not.toMatch(/[/\\\u0000-\u001f]/);
    expect(out).not.toContain('..');
    expect(out.startsWith('.')).toBe(false);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(200);
    return out;
  };

  it('removes directories and traversal', () => {
    expect(safe('../../etc/passwd')).toBe('passwd.txt');
    expect(safe('/abs/x.txt')).toBe('x.txt');
    expect(safe('a\\b.md')).toBe('b.md');
    expect(safe('..\\..\\evil.HTML')).toBe('evil.html');
    expect(safe('notes..md')).toBe('notes.md');
  });

  it('generates a name when nothing usable is left', () => {
    for (const name of ['', '..', '/', '...pdf', '\u0000\u0001']) expect(safe(name)).toMatch(/^upload-[0-9a-z]+-[0-9a-f]{6}\.(txt|pdf)$/);
    expect(safe('...pdf')).toMatch(/\.pdf$/);
  });

  it('keeps unicode letters and a supported extension, drops control and reserved characters', () => {
    expect(safe('Новости дня.md')).toBe('Новости дня.md');
    expect(safe('日本語の記事.PDF')).toBe('日本語の記事.pdf');
    expect(safe('a\u0007b:c?.txt')).toBe('ab_c_.txt');
    expect(safe('.hidden.txt')).toBe('hidden.txt');
  });

  it('keeps an unsupported extension visible so callers can refuse it', () => {
    expect(safe('report.docx')).toBe('report.docx');
    expect(safe('Report v1.2 final')).toBe('Report v1.2 final.txt');
    expect(SUPPORTED_EXTENSIONS).not.toContain('.docx');
    expect(SUPPORTED_EXTENSIONS).toEqual(['.txt', '.md', '.markdown', '.html', '.htm', '.pdf', '.json', '.jsonl']);
  });

  it('renames files the loader would ignore as documentation', () => {
    expect(safe('README.md')).toBe('article-README.md');
    expect(safe('SOURCES.txt')).toBe('article-SOURCES.txt');
  });

  it('shortens very long names within the byte limit, extension kept', () => {
    const out = safe('é'.repeat(300) + '.md');
    expect(out.endsWith('.md')).toBe(true);
    expect(out.startsWith('éééé')).toBe(true);
  });
});

describe('normalizeDate', () => {
  it.each([
    ['2024-06-27', '2024-06-27'],
    ['2024-06-27T23:30:00-05:00', '2024-06-27'],
    ['2024-6-7', '2024-06-07'],
    ['2024/06/27', '2024-06-27'],
    ['20240627', '2024-06-27'],
    ['June 27, 2024', '2024-06-27'],
    ['Jun. 27 2024', '2024-06-27'],
    ['27 June 2024', '2024-06-27'],
    ['27th Sept. 2024', '2024-09-27'],
    ['Thu, 27 Jun 2024 10:00:00 GMT', '2024-06-27'],
    ['Thursday, June 27, 2024', '2024-06-27'],
    ['2024-02-29', '2024-02-29'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeDate(input)).toBe(expected);
  });

  it.each(['2023-02-29', '2024-13-01', '2024-06-31', 'June 2024', '06/27/2024', 'Smarch 3, 2024', 'yesterday', '', '2024-06-27abc'])(
    'rejects %j',
    (input) => {
      expect(normalizeDate(input)).toBeNull();
    },
  );

  it('accepts Date objects and rejects other types', () => {
    expect(normalizeDate(new Date(Date.UTC(2020, 0, 31)))).toBe('2020-01-31');
    expect(normalizeDate(new Date('nope'))).toBeNull();
    expect(normalizeDate(20240627)).toBeNull();
    expect(normalizeDate(2024)).toBeNull();
    expect(normalizeDate(null)).toBeNull();
  });

  it('reads a Unix time in seconds or milliseconds, as JSON exports write dates', () => {
    expect(normalizeDate(1719446400)).toBe('2024-06-27');
    expect(normalizeDate(1719446400123)).toBe('2024-06-27');
    expect(normalizeDate(Number.NaN)).toBeNull();
  });
});

describe('normalizeText', () => {
  it('applies NFC, unix newlines, trimmed line ends and at most one blank line', () => {
    const input = '\uFEFF  \r\nCafe\u0301 opens  \r\n\r\n\r\n\r\nSecond\tline \rthird\u0007\n\n\n';
    expect(normalizeText(input)).toBe('Café opens\n\nSecond\tline\nthird');
  });
});
