import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { articleFromHtml, articleToMarkdown, loadArticles, parseArticleFile } from '../../src/articles/index.js';
import { body, makePdf, tempDir, writeFiles } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const SEED = join(repoRoot, 'seeds', '000_cc2b64a9889106ac.txt');
// A real Wikinews article, copied with its attribution (fixtures/wikinews/SOURCES.md) so no test
// reads outside the repository. Kept out of test/fixtures, whose texts make the fixture model's vocabulary.
const WIKINEWS = join(
  repoRoot,
  'test',
  'articles',
  'fixtures',
  'wikinews',
  '2004-11-13-brazilian-delegation-returns-from-arafat-funeral.md',
);

const enc = (s: string) => new TextEncoder().encode(s);

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

describe('plain text', () => {
  it('reads the shipped seed: date from the prefix, prefix gone from the text', async () => {
    const result = await loadArticles(join(repoRoot, 'seeds'));
    expect(result.skipped).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.articles).toHaveLength(1);
    const a = result.articles[0]!;
    expect(a.id).toBe('000_cc2b64a9889106ac');
    expect(a.path).toBe('000_cc2b64a9889106ac.txt');
    expect(a.date).toBe('2024-06-27');
    expect(a.title.startsWith('A Kolokoltsev’s arrival')).toBe(true);
    expect(a.title.length).toBeLessThanOrEqual(121);
    expect(a.text.startsWith('A Kolokoltsev’s arrival to participate')).toBe(true);
    expect(a.text).not.toContain('2024-06-27');
    expect(a.text).toContain('\n\nIn Moscow, ministry spokeswoman');
    expect(a.url).toBeNull();
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps the seed text byte-for-byte apart from the prefix and whitespace', async () => {
    const raw = (await readFile(SEED, 'utf8')).normalize('NFC');
    const { articles } = await parseArticleFile('seed.txt', enc(raw));
    expect(articles[0]!.text).toBe(raw.replace(/^\s*date 2024-06-27 /, '').trim());
  });

  it('takes a short first line followed by a blank line as the headline', async () => {
    const text = `\uFEFFdate 2023-01-05\nCouncil approves budget\r\n\r\n${body('the budget')}   \r\n\r\n\r\n\r\nSecond paragraph here.\r\n`;
    const { articles, skipped, warnings } = await parseArticleFile('news/budget.txt', enc(text));
    expect(skipped).toEqual([]);
    expect(warnings).toEqual([]);
    expect(articles).toHaveLength(1);
    expect(articles[0]).toMatchObject({
      id: 'news/budget',
      path: 'news/budget.txt',
      title: 'Council approves budget',
      date: '2023-01-05',
      text: `${body('the budget')}\n\nSecond paragraph here.`,
    });
  });

  it('uses the first sentence when the text has no headline', async () => {
    const { articles } = await parseArticleFile('a.txt', enc('Rain fell all day in the capital. Roads were closed.\nMore text.'));
    expect(articles[0]!.title).toBe('Rain fell all day in the capital.');
    expect(articles[0]!.date).toBeNull();
  });

  it('keeps a title abbreviation with the name when guessing the title from the first sentence', async () => {
    const { articles } = await parseArticleFile(
      'clinic.txt',
      enc('Dr. Anna Smith said the clinic will open in May. Patients can book from April.\nMore text follows here.'),
    );
    expect(articles[0]!.title).toBe('Dr. Anna Smith said the clinic will open in May.');
    const { articles: more } = await parseArticleFile(
      'talks.txt',
      enc('Mr. Putin met Prof. Lee and Gen. Ortiz in Moscow on Friday. The talks lasted two hours.'),
    );
    expect(more[0]!.title).toBe('Mr. Putin met Prof. Lee and Gen. Ortiz in Moscow on Friday.');
  });
});

describe('markdown', () => {
  it('reads a real Wikinews file: front matter fields, body without front matter', async () => {
    await copyFile(WIKINEWS, join(dir, 'wikinews.md'));
    const { articles, skipped, warnings } = await loadArticles(dir);
    expect(skipped).toEqual([]);
    expect(warnings).toEqual([]);
    expect(articles).toHaveLength(1);
    const a = articles[0]!;
    expect(a).toMatchObject({
      id: 'wikinews',
      title: 'Brazilian delegation returns from Arafat funeral',
      date: '2004-11-13',
      url: 'https://en.wikinews.org/wiki/Brazilian_delegation_returns_from_Arafat_funeral',
      source: 'Wikinews',
    });
    expect(a.text.startsWith('The delegation representing Brazil')).toBe(true);
    expect(a.text).not.toContain('license');
    expect(a.text).not.toContain('---');
  });

  it('falls back to the opening # heading for the title and removes it from the text', async () => {
    const md = `---\ndate: "June 27, 2024"\nauthor: someone\n---\n\n# Storm hits coast\n\n${body('the **storm**')} See [the report](https://example.org/a_(b)).\n`;
    const { articles, warnings } = await parseArticleFile('storm.markdown', enc(md));
    expect(warnings).toEqual([]);
    expect(articles[0]).toMatchObject({ title: 'Storm hits coast', date: '2024-06-27', url: null });
    expect(articles[0]!.text).toBe(`${body('the storm')} See the report.`);
  });

  it('still loads the body when the front matter is not valid YAML, with a warning', async () => {
    const md = `---\ntitle: [unclosed\n---\n${body('yaml')}`;
    const { articles, warnings } = await parseArticleFile('bad-yaml.md', enc(md));
    expect(articles).toHaveLength(1);
    expect(articles[0]!.text).toBe(body('yaml'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.reason).toMatch(/^front matter is not valid YAML/);
  });
});

describe('articleToMarkdown', () => {
  it('saves an article so that loading the file gives the same article back, markup-like text included', async () => {
    const html = `<html><head><title>Fetched: "quotes" \\ and more</title><meta property="article:published_time" content="2020-02-02"></head>
      <body><p>${body('fetched')} It was **not** a [link](x).</p><p># Not a heading, just a hash</p></body></html>`;
    const fetched = articleFromHtml(html, 'https://news.example/fetched?id=1', 'web/fetched.md')!;
    expect(fetched.text).toContain('**not** a [link](x)');
    await writeFiles(dir, { 'web/fetched.md': articleToMarkdown(fetched) });
    const { articles, skipped, warnings } = await loadArticles(dir);
    expect([skipped, warnings]).toEqual([[], []]);
    expect(articles).toEqual([fetched]);
  });
});

describe('html', () => {
  const page = `<!DOCTYPE html>
<html><head>
  <title>Ignored tab title | The Daily</title>
  <meta property="og:title" content="Bridge &amp; tunnel &quot;plan&quot; approved">
  <meta property="og:site_name" content="The Daily">
  <meta property="article:published_time" content="2024-03-05T08:30:00+01:00">
  <link rel="canonical" href="https://daily.example/news/bridge-plan">
  <script>window.tracking = "SCRIPT NOISE";</script>
  <style>.x { color: red }</style>
</head><body>
  <nav><ul><li><a href="/">Home</a></li><li><a href="/world">World NAVLINK</a></li></ul></nav>
  <header><div class="masthead">The Daily MASTHEAD</div></header>
  <main><article>
    <h1>Bridge &amp; tunnel "plan" approved</h1>
    <p>The city council approved the bridge &amp; tunnel plan on Tuesday, ending a debate that lasted nearly three years. Caf&eacute; owners near the site welcomed the decision.</p>
    <p>Construction is expected to begin in the spring &mdash; officials said the first phase<br>would take eighteen months and cost about &euro;40 million, paid for by regional funds.</p>
    <p>Opponents said they would keep campaigning against the project, arguing that the money should go to public transport instead of new roads.</p>
  </article></main>
  <footer><p>Copyright 2024 The Daily FOOTERTEXT. All rights reserved.</p></footer>
  <script>console.log("MORE SCRIPT NOISE")</script>
</body></html>`;

  it('keeps the article paragraphs, decodes entities and drops nav, footer and scripts', async () => {
    const { articles, skipped } = await parseArticleFile('saved/bridge.html', enc(page));
    expect(skipped).toEqual([]);
    const a = articles[0]!;
    expect(a).toMatchObject({
      id: 'saved/bridge',
      title: 'Bridge & tunnel "plan" approved',
      date: '2024-03-05',
      url: 'https://daily.example/news/bridge-plan',
      source: 'The Daily',
    });
    const paragraphs = a.text.split('\n\n');
    expect(paragraphs).toHaveLength(3);
    expect(paragraphs[0]).toMatch(/^The city council approved the bridge & tunnel plan/);
    expect(a.text).toContain('Café owners');
    expect(a.text).toContain('spring — officials said the first phase\nwould take eighteen months and cost about €40 million');
    for (const noise of ['NAVLINK', 'MASTHEAD', 'FOOTERTEXT', 'SCRIPT NOISE', 'color: red', '&amp;', '&mdash;']) {
      expect(a.text).not.toContain(noise);
    }
  });

  it('articleFromHtml takes the given URL, <title> and a JSON-LD date', () => {
    const html = `<html><head><title>Quiet &lt;day&gt; at the port</title>
      <script type="application/ld+json">{"@graph":[{"@type":"WebPage"},{"@type":"NewsArticle","datePublished":"2022-11-30T10:00:00Z"}]}</script>
      </head><body><div><p>${body('the port')}</p></div></body></html>`;
    const a = articleFromHtml(html, 'https://port.example/quiet', 'url/quiet.html');
    expect(a).toMatchObject({
      id: 'url/quiet',
      path: 'url/quiet.html',
      title: 'Quiet <day> at the port',
      date: '2022-11-30',
      url: 'https://port.example/quiet',
      source: 'port.example',
      text: body('the port'),
    });
  });

  it('falls back to <h1> and <time datetime>, and returns null for a page without text', () => {
    const html = `<body><h1>Harbour reopens</h1><time datetime="2021-07-04">4 July</time><p>${body('the harbour')}</p></body>`;
    expect(articleFromHtml(html, null, 'h.html')).toMatchObject({ title: 'Harbour reopens', date: '2021-07-04', url: null });
    expect(articleFromHtml('<html><body><nav>Home</nav></body></html>', null, 'empty.html')).toBeNull();
  });
});

describe('pdf', () => {
  it('extracts the text of a hand-made PDF with paragraphs and the metadata title', async () => {
    const pdf = makePdf(
      [
        'Mayor opens new bridge',
        '',
        'The mayor opened the new bridge (the longest) on Monday,',
        'saying it would cut travel times.',
        '',
        'Work began in 2021.',
      ],
      { title: 'Bridge opens' },
    );
    const { articles, skipped } = await parseArticleFile('docs/bridge.pdf', pdf);
    expect(skipped).toEqual([]);
    expect(articles[0]).toMatchObject({
      id: 'docs/bridge',
      title: 'Bridge opens',
      text: 'Mayor opens new bridge\n\nThe mayor opened the new bridge (the longest) on Monday, saying it would cut travel times.\n\nWork began in 2021.',
    });
  });

  it('uses the first line as the title when there is no metadata title', async () => {
    const pdf = makePdf(['Mayor opens new bridge', '', 'The mayor opened the new bridge on Monday, saying it would cut travel times.']);
    const { articles } = await parseArticleFile('bridge.pdf', pdf);
    expect(articles[0]).toMatchObject({
      title: 'Mayor opens new bridge',
      text: 'The mayor opened the new bridge on Monday, saying it would cut travel times.',
    });
  });
});

describe('json and jsonl', () => {
  it('loads a JSON array; ids come from the url slug, the title slug, else the position', async () => {
    const records = [
      { title: 'First story', text: body('one'), date: '2024-01-02', url: 'https://ex.example/news/first-story.html', source: 'Ex' },
      { title: 'Second: story!', body: body('two'), date: '3 February 2024' },
      { content: body('three') },
      { title: 'First story', text: body('four') },
    ];
    const { articles, skipped, warnings } = await parseArticleFile('feed/items.json', enc(JSON.stringify(records)));
    expect(skipped).toEqual([]);
    expect(warnings).toEqual([]);
    expect(articles.map((a) => a.id)).toEqual([
      'feed/items/first-story',
      'feed/items/second-story',
      'feed/items/3',
      'feed/items/first-story-2',
    ]);
    expect(articles[0]).toMatchObject({
      title: 'First story',
      date: '2024-01-02',
      url: 'https://ex.example/news/first-story.html',
      source: 'Ex',
      path: 'feed/items.json',
    });
    expect(articles[1]!.date).toBe('2024-02-03');
    expect(articles[2]!.title).toBe('The council met on Tuesday to discuss three.');
  });

  it('reads the date fields news exports use, Unix times included', async () => {
    const records = [
      { title: 'Epoch seconds', text: body('a'), pubDate: 1719446400 },
      { title: 'Epoch millis', text: body('b'), published_date: 1719532800000 },
      { title: 'Publication date', text: body('c'), publication_date: '2024-06-29T08:00:00Z' },
    ];
    const { articles, warnings } = await parseArticleFile('export.json', enc(JSON.stringify(records)));
    expect(warnings).toEqual([]);
    expect(articles.map((a) => a.date)).toEqual(['2024-06-27', '2024-06-28', '2024-06-29']);
  });

  it('loads a single JSON record', async () => {
    const { articles } = await parseArticleFile('one.json', enc(JSON.stringify({ title: 'Solo', text: body('solo') })));
    expect(articles.map((a) => [a.id, a.title])).toEqual([['one/solo', 'Solo']]);
  });

  it('skips exactly the bad JSONL lines, naming file:line, and loads the rest', async () => {
    const lines = [
      JSON.stringify({ title: 'Line one', text: body('line one'), date: '2024-05-01' }),
      '{"title": "broken", "text": ',
      '',
      JSON.stringify(['not', 'an', 'object']),
      JSON.stringify({ title: 'No text here' }),
      JSON.stringify({ title: 'Line six', text: body('line six') }),
    ];
    await writeFiles(dir, { 'wire.jsonl': lines.join('\r\n') + '\n' });
    const { articles, skipped } = await loadArticles(dir);
    expect(articles.map((a) => a.id)).toEqual(['wire/line-one', 'wire/line-six']);
    expect(skipped.map((s) => s.file)).toEqual(['wire.jsonl:2', 'wire.jsonl:4', 'wire.jsonl:5']);
    expect(skipped[0]!.reason).toMatch(/^invalid JSON: /);
    expect(skipped[1]!.reason).toBe('not a JSON object');
    expect(skipped[2]!.reason).toMatch(/^no article text/);
  });
});

describe('a mixed folder', () => {
  it('loads every format, recursively, sorted by id, ignoring docs and dotfiles', async () => {
    await writeFiles(dir, {
      'README.md': '# About this corpus\n\nDocumentation, not news, and long enough to pass.',
      'SOURCES.txt': 'Where these articles came from, one per line, long enough.',
      '.hidden.txt': body('hidden'),
      '.git/x.txt': body('git internals'),
      'b.txt': `Second\n\n${body('b')}`,
      'a/deep/c.md': `---\ntitle: "Deep"\n---\n\n${body('c')}`,
      'a/page.htm': `<html><body><p>${body('page')}</p></body></html>`,
      'a/doc.pdf': makePdf([body('pdf')]),
      'feed.jsonl': JSON.stringify({ title: 'Feed', text: body('feed') }),
    });
    const result = await loadArticles(dir);
    expect(result.skipped).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.articles.map((a) => a.id)).toEqual(['a/deep/c', 'a/doc', 'a/page', 'b', 'feed/feed']);
    const again = await loadArticles(dir);
    expect(again).toEqual(result);
  });

  it('changes the hash when the title, date or text changes, and only then', async () => {
    const load = async (text: string) => (await parseArticleFile('x.txt', enc(text))).articles[0]!.hash;
    const base = await load(`date 2024-01-01\nTitle\n\n${body('x')}`);
    expect(await load(`date 2024-01-01\r\nTitle\r\n\r\n${body('x')}\r\n`)).toBe(base);
    expect(await load(`date 2024-01-02\nTitle\n\n${body('x')}`)).not.toBe(base);
    expect(await load(`date 2024-01-01\nTitle 2\n\n${body('x')}`)).not.toBe(base);
    expect(await load(`date 2024-01-01\nTitle\n\n${body('y')}`)).not.toBe(base);
  });
});
