/**
 * Can lexical evidence tell an unanswerable near miss ("What did the Mueller report conclude about
 * obstruction?" over a corpus that mentions the report) from an answerable question? For every
 * question of the given sets it retrieves lexical-only, as the product does, and measures signals
 * over the best three articles. For each signal and threshold it prints the share of unanswerable
 * questions that would be flagged "not covered" and the share of answerable ones wrongly flagged.
 * A useful signal flags many of the first and few of the second.
 *
 *   npx tsx scripts/near-miss-signals.ts [--articles eval/readers/articles] [QUESTIONS.jsonl ...]
 *
 * Default sets: eval/readers/questions.jsonl and eval/readers/holdout.jsonl.
 * Signals:
 * - coverage: share of the question's topic terms in one of the three articles (the product's rule, at 0.5);
 * - idf coverage: the same, with each term weighted by how rare it is in the corpus;
 * - sentence: the idf-weighted share found inside one sentence;
 * - two sentences: the same, inside two adjacent sentences;
 * - absent word: a topic term that no article of the corpus contains (flags at any threshold).
 */
import { parseArgs } from 'node:util';
import { openScratchApp } from './scratch-app.js';
import { askedAt, isAnswerable, loadQuestions } from '../src/eval/dataset.js';
import { evaluationQuery } from '../src/eval/retrieval.js';
import { contentTerms, stem, stemSet, topicTerms } from '../src/retrieval/terms.js';
import { parseTimeFilter } from '../src/retrieval/time.js';
import { splitSentences } from '../src/util/text.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { articles: { type: 'string', default: 'eval/readers/articles' } },
});
const files = positionals.length > 0 ? positionals : ['eval/readers/questions.jsonl', 'eval/readers/holdout.jsonl'];
const THRESHOLDS = [0.4, 0.5, 0.6, 0.7, 0.8];

interface Signals {
  unanswerable: boolean;
  coverage: number;
  idfCoverage: number;
  sentence: number;
  twoSentences: number;
  absentWord: boolean;
}

const app = await openScratchApp(values.articles!, { prefix: 'near-miss-' });
try {
  await app.library.ensure();
  const reader = app.library.searchIndex();
  if (!reader) throw new Error('no index was built');
  // Per article: its stems, and the stems of each sentence; per stem: how many articles hold it.
  const whole = new Map<string, Set<string>>();
  const sentences = new Map<string, Set<string>[]>();
  const df = new Map<string, number>();
  for (const a of app.library.listArticles(0, 100_000).items) {
    const text = `${a.title}. ${(await reader.articleText(a.id)) ?? ''}`;
    const stems = stemSet(text);
    whole.set(a.id, stems);
    sentences.set(
      a.id,
      splitSentences(text).map((s) => stemSet(s)),
    );
    for (const s of stems) df.set(s, (df.get(s) ?? 0) + 1);
  }
  const idf = (s: string) => Math.log(1 + whole.size / (df.get(s) ?? 0.5));

  for (const file of files) {
    const { questions } = loadQuestions(file);
    const byId = new Map(questions.map((q) => [q.id, q]));
    const rows: Signals[] = [];
    for (const q of questions) {
      const query = evaluationQuery(q, byId);
      const now = askedAt(q, byId) ?? new Date();
      const r = await app.retriever.retrieveDetailed(query, { now, mode: 'lexical' });
      const time = parseTimeFilter(query, now);
      const want = [...new Set(topicTerms(contentTerms(time?.kind === 'relative' ? time.cleanedQuery : query)).map(stem))];
      const total = want.reduce((sum, s) => sum + idf(s), 0) || 1;
      const share = (have: Set<string>) => want.filter((s) => have.has(s)).reduce((sum, s) => sum + idf(s), 0) / total;
      const top = [...new Set(r.passages.map((p) => p.articleId))].slice(0, 3);
      let idfCoverage = 0;
      let sentence = 0;
      let twoSentences = 0;
      for (const id of top) {
        idfCoverage = Math.max(idfCoverage, share(whole.get(id) ?? new Set()));
        const ss = sentences.get(id) ?? [];
        ss.forEach((s, i) => {
          sentence = Math.max(sentence, share(s));
          twoSentences = Math.max(twoSentences, share(new Set([...s, ...(ss[i + 1] ?? [])])));
        });
      }
      rows.push({
        unanswerable: !isAnswerable(q),
        coverage: r.coverage,
        idfCoverage,
        sentence,
        twoSentences,
        absentWord: want.some((s) => !df.has(s)),
      });
    }
    const unanswerable = rows.filter((x) => x.unanswerable);
    const answerable = rows.filter((x) => !x.unanswerable);
    const pct = (part: Signals[], flag: (x: Signals) => boolean) =>
      `${((100 * part.filter(flag).length) / Math.max(1, part.length)).toFixed(1)}%`;
    console.log(`\n${file}: ${unanswerable.length} unanswerable, ${answerable.length} answerable`);
    console.log('flagged "not covered" below the threshold: unanswerable / answerable');
    console.log(['signal'.padEnd(14), ...THRESHOLDS.map((t) => `< ${t}`.padEnd(16))].join(''));
    for (const [name, key] of [
      ['coverage', 'coverage'],
      ['idf coverage', 'idfCoverage'],
      ['sentence', 'sentence'],
      ['two sentences', 'twoSentences'],
    ] as const) {
      const cells = THRESHOLDS.map((t) => `${pct(unanswerable, (x) => x[key] < t)} / ${pct(answerable, (x) => x[key] < t)}`.padEnd(16));
      console.log([name.padEnd(14), ...cells].join(''));
    }
    console.log(`${'absent word'.padEnd(14)}${pct(unanswerable, (x) => x.absentWord)} / ${pct(answerable, (x) => x.absentWord)}`);
  }
} finally {
  app.close();
}
