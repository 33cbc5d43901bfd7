/**
 * Small, honest stand-ins for `QuestionAnswerer` and `Library` for the bot's
 * tests: they behave like the real ones at the boundary (streams, BusyError,
 * UserError) and record every call so tests can check what reached them.
 */
import type { BotLibrary, ReindexStatus } from '../../src/bot/index.js';
import type {
  Answer,
  AnswerStream,
  ArticleInfo,
  AskOptions,
  Citation,
  IndexProgress,
  IndexSummary,
  LibraryStats,
  QuestionAnswerer,
  Turn,
} from '../../src/types.js';
import { BusyError, UserError } from '../../src/util/errors.js';

/** An article the fake answerer can cite. */
export interface FakeArticle {
  id: string;
  title: string;
  date: string | null;
  url: string | null;
  text: string;
}

/** Fixed articles: distinct people and topics, and one full of markup-like text. */
export const FAKE_ARTICLES: FakeArticle[] = [
  {
    id: 'city/flood-barriers.md',
    title: 'Mayor Alice Park asks council for flood barriers',
    date: '2024-03-02',
    url: 'https://news.example/flood-barriers',
    text: 'Mayor Alice Park asked the city council for 12 million dollars to build flood barriers along the river. The council will vote in April.',
  },
  {
    id: 'sport/stadium-lights.md',
    title: 'Coach Ben Ortiz wants new stadium lights',
    date: '2024-04-18',
    url: 'https://news.example/stadium-lights',
    text: 'Coach Ben Ortiz asked the school board for new stadium lights so evening games can continue. The board delayed its decision.',
  },
  {
    id: 'food/bistro.md',
    title: 'Chef opens <b>Bold</b> Bistro & Bar',
    date: '2024-05-09',
    url: 'https://news.example/bistro?a=1&b=2',
    text: 'The bistro menu lists <b>fish & chips</b> and a dessert called <script>alert(1)</script> pie. Prices start at 5 < 7 dollars.',
  },
];

const STOP = new Set([
  'the',
  'a',
  'an',
  'what',
  'did',
  'does',
  'do',
  'for',
  'to',
  'of',
  'and',
  'is',
  'was',
  'in',
  'on',
  'about',
  'who',
  'how',
  'why',
  'when',
  'tell',
  'me',
  'ask',
]);
const PRONOUNS = /\b(he|she|they|him|her|his|hers|them|their|it)\b/i;

function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 1 && !STOP.has(w));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Builds a citation for `article` quoting `quote`. */
export function citationOf(n: number, article: FakeArticle, quote = article.text): Citation {
  return { n, articleId: article.id, title: article.title, date: article.date, url: article.url, quote };
}

/** Builds a complete Answer from the fields a test cares about. */
export function makeAnswer(fields: Partial<Answer> & Pick<Answer, 'text'>): Answer {
  return { citations: [], mode: 'llm', query: fields.text, passages: [], ...fields };
}

/**
 * Answers from the fixed articles by keyword overlap. A question with a pronoun
 * borrows the words of the previous question in the history, the way the real
 * answerer condenses follow-ups, so a follow-up is only answered about the right
 * person when the history really arrived.
 */
export class FakeAnswerer implements QuestionAnswerer {
  readonly calls: { question: string; history: Turn[] }[] = [];
  /** When each question was asked, as the front end passed it. */
  readonly asked: (Date | undefined)[] = [];
  /** Pause between streamed pieces. */
  deltaDelayMs = 0;
  /** Replaces the default answer for the current test. */
  respond: ((question: string, history: Turn[]) => Answer | Promise<Answer>) | undefined;

  constructor(readonly articles: FakeArticle[] = FAKE_ARTICLES) {}

  /** The default answer: the best-matching article's first sentence, cited as [1]. */
  answerFor(question: string, history: Turn[]): Answer {
    const query = new Set(words(question));
    const lastQuestion = [...history].reverse().find((t) => t.role === 'user');
    if (PRONOUNS.test(question) && lastQuestion) for (const w of words(lastQuestion.content)) query.add(w);
    let best: FakeArticle | undefined;
    let bestScore = 0;
    for (const a of this.articles) {
      const have = new Set(words(`${a.title} ${a.text}`));
      const score = [...query].filter((w) => have.has(w)).length;
      if (score > bestScore) {
        best = a;
        bestScore = score;
      }
    }
    if (!best) return makeAnswer({ text: 'The articles do not cover that.', mode: 'not-covered', query: question });
    const sentence = best.text.split(/(?<=\.)\s/)[0]!;
    return makeAnswer({ text: `${sentence} [1]`, citations: [citationOf(1, best, sentence)], query: [...query].join(' ') });
  }

  async ask(question: string, history: Turn[], options: AskOptions = {}): Promise<Answer> {
    this.calls.push({ question, history: structuredClone(history) });
    this.asked.push(options.now);
    return this.respond ? this.respond(question, history) : this.answerFor(question, history);
  }

  askStream(question: string, history: Turn[], options: AskOptions = {}): AnswerStream {
    this.calls.push({ question, history: structuredClone(history) });
    this.asked.push(options.now);
    const answer = Promise.resolve().then(() => (this.respond ? this.respond(question, history) : this.answerFor(question, history)));
    const delay = this.deltaDelayMs;
    let finished: () => void = () => undefined;
    const textDone = new Promise<void>((resolve) => (finished = resolve));
    async function* text(): AsyncGenerator<string> {
      try {
        const a = await answer;
        const pieces = a.text.match(/\S+\s*/g) ?? [];
        for (const p of pieces) {
          if (delay > 0) await sleep(delay);
          yield p;
        }
      } finally {
        finished();
      }
    }
    // Like the real answerer, the result settles even when nobody reads the text.
    const result = answer.then(async (a) => {
      await Promise.race([textDone, sleep(delay * ((a.text.match(/\S+\s*/g) ?? []).length + 1))]);
      return a;
    });
    return { text: text(), result };
  }
}

/** A library call as recorded. */
export interface LibraryCall {
  method: 'stats' | 'listArticles' | 'reindex' | 'addFile' | 'addUrl' | 'remove';
  args: unknown[];
}

/** A summary with every count zero except the given ones. */
export function summary(fields: Partial<IndexSummary> = {}): IndexSummary {
  return {
    added: 0,
    changed: 0,
    removed: 0,
    unchanged: 0,
    skipped: [],
    warnings: [],
    chunks: 0,
    articles: 0,
    seconds: 0.2,
    dense: true,
    ...fields,
  };
}

/**
 * An in-memory article collection. Reindexing walks through progress phases
 * with a pause between them and can be held open with `holdReindex()`; a second
 * reindex while one runs rejects with BusyError, like the real library, which also
 * reports the running one through `reindexStatus()`.
 */
export class FakeLibrary implements BotLibrary {
  readonly calls: LibraryCall[] = [];
  articles: ArticleInfo[];
  /** Pause between progress reports. */
  progressDelayMs = 0;
  /** What the next reindex reports. */
  nextSummary: IndexSummary = summary({ unchanged: 3, articles: 3, chunks: 9 });
  /** Titles that addUrl "finds" per URL; other URLs fail like an unreachable page. */
  readonly pages = new Map<string, { title: string; date: string | null }>();
  /** Another process holds the index lock: reindexes reject with BusyError although none runs here. */
  lockedElsewhere = false;
  private running: ReindexStatus | null = null;
  private release: (() => void) | null = null;
  private gate: Promise<void> | null = null;

  constructor(articles: FakeArticle[] = FAKE_ARTICLES) {
    this.articles = articles.map((a) => ({ id: a.id, title: a.title, date: a.date, url: a.url, chunks: 3 }));
  }

  /** Makes reindexes wait until the returned function is called. */
  holdReindex(): () => void {
    this.gate = new Promise<void>((resolve) => (this.release = resolve));
    return () => this.release?.();
  }

  reindexStatus(): ReindexStatus | null {
    return this.running;
  }

  /** Where an article "lives": a path under a pretend articles folder. */
  articleLocation(articleId: string): string | null {
    return this.articles.some((a) => a.id === articleId) ? `articles/${articleId}` : null;
  }

  /** Recorded calls of one method. */
  callsOf(method: LibraryCall['method']): LibraryCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  stats(): LibraryStats {
    this.calls.push({ method: 'stats', args: [] });
    const dates = this.articles
      .map((a) => a.date)
      .filter((d): d is string => d !== null)
      .sort();
    return {
      articles: this.articles.length,
      chunks: this.articles.reduce((n, a) => n + a.chunks, 0),
      firstDate: dates[0] ?? null,
      lastDate: dates[dates.length - 1] ?? null,
      indexBytes: 123_456,
      embeddingModel: 'fixture:tiny-model',
      dense: true,
      builtAt: '2024-06-01T00:00:00.000Z',
    };
  }

  listArticles(offset: number, limit: number): { total: number; items: ArticleInfo[] } {
    this.calls.push({ method: 'listArticles', args: [offset, limit] });
    // Like SQLite's LIMIT/OFFSET binding, which fails with "datatype mismatch" beyond 64-bit integers.
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(limit)) throw new RangeError('datatype mismatch');
    return { total: this.articles.length, items: this.articles.slice(offset, offset + limit) };
  }

  async reindex(options: { full?: boolean; onProgress?: (p: IndexProgress) => void }): Promise<IndexSummary> {
    this.calls.push({ method: 'reindex', args: [{ full: options.full ?? false }] });
    if (this.running || this.lockedElsewhere) throw new BusyError('A reindex is already running.');
    this.running = { full: options.full ?? false, startedAt: Date.now() };
    try {
      const steps: IndexProgress[] = [
        { phase: 'load', done: 3, total: 3 },
        { phase: 'chunk', done: 3, total: 3 },
        { phase: 'embed', done: 4, total: 9 },
        { phase: 'embed', done: 9, total: 9 },
        { phase: 'write', done: 1, total: 1 },
      ];
      for (const p of steps) {
        options.onProgress?.(p);
        if (this.progressDelayMs > 0) await sleep(this.progressDelayMs);
      }
      if (this.gate) await this.gate;
      options.onProgress?.({ phase: 'done', done: 1, total: 1 });
      return this.nextSummary;
    } finally {
      this.running = null;
    }
  }

  async addFile(fileName: string, bytes: Uint8Array): Promise<{ article: ArticleInfo; summary: IndexSummary }> {
    this.calls.push({ method: 'addFile', args: [fileName, bytes] });
    const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    if (text.includes('\u0000')) throw new UserError(`"${fileName}" is not a text file.`);
    const title =
      text
        .split('\n')
        .find((l) => l.trim())
        ?.replace(/^#\s*/, '')
        .trim() ?? fileName;
    const article: ArticleInfo = { id: `uploads/${fileName}`, title, date: null, url: null, chunks: 1 };
    this.articles.push(article);
    return { article, summary: summary({ added: 1, articles: this.articles.length, chunks: this.articles.length * 3 }) };
  }

  async addUrl(url: string): Promise<{ article: ArticleInfo; summary: IndexSummary }> {
    this.calls.push({ method: 'addUrl', args: [url] });
    const page = this.pages.get(url);
    if (!page) throw new UserError(`Could not fetch ${url}: HTTP 404.`);
    const article: ArticleInfo = {
      id: `web/${new URL(url).pathname.replace(/\W+/g, '-')}`,
      title: page.title,
      date: page.date,
      url,
      chunks: 2,
    };
    this.articles.push(article);
    return { article, summary: summary({ added: 1, articles: this.articles.length, chunks: this.articles.length * 3 }) };
  }

  async remove(articleId: string): Promise<{ summary: IndexSummary }> {
    this.calls.push({ method: 'remove', args: [articleId] });
    const before = this.articles.length;
    this.articles = this.articles.filter((a) => a.id !== articleId);
    if (this.articles.length === before) throw new UserError(`No article with id "${articleId}". /sources lists the ids.`);
    return { summary: summary({ removed: 1, articles: this.articles.length, chunks: this.articles.length * 3 }) };
  }
}
