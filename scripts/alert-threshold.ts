/**
 * Measures topic-alert matching on the labelled set in eval/alerts/topics.json: for every topic
 * and every article of the corpus, the article is offered as "newly indexed" and the matcher
 * decides whether the follower gets an alert. Prints precision, recall
 * and F0.5 over a grid of thresholds, and the figures at the shipped defaults.
 *
 *   npx tsx scripts/alert-threshold.ts [--corpus ../shared/corpora/wikinews-en] [--model]
 *
 * Without --model the index is lexical (EMBEDDING_PROVIDER=none), which is what can be measured
 * offline; with --model it uses the configured embedding model (hybrid), which must be available.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { openScratchApp } from './scratch-app.js';
import { DEFAULT_MATCH_THRESHOLDS, createTopicMatcher } from '../src/alerts/matcher.js';

const { values } = parseArgs({
  options: {
    corpus: { type: 'string', default: '../shared/corpora/wikinews-en' },
    labels: { type: 'string', default: 'eval/alerts/topics.json' },
    model: { type: 'boolean', default: false },
  },
});

interface Observation {
  topic: string;
  articleId: string;
  relevant: boolean;
  /** Rank among the retrieved articles (1 = best), or null when not among the best 100. */
  rank: number | null;
  score: number;
  coverage: number;
}

async function observe(): Promise<{ observations: Observation[]; mode: string }> {
  const labels = JSON.parse(fs.readFileSync(values.labels!, 'utf8')) as { topics: { topic: string; relevant: string[] }[] };
  // With --model, the developer's .env and environment choose the model; otherwise lexical only.
  const app = await openScratchApp(values.corpus!, { model: values.model === true, prefix: 'alert-threshold-' });
  try {
    await app.library.ensure();
    const articles = app.library.listArticles(0, 10_000).items;
    const matcher = createTopicMatcher({ retriever: app.retriever, getReader: () => app.library.searchIndex() });
    const observations: Observation[] = [];
    for (const { topic, relevant } of labels.topics) {
      const wanted = new Set(relevant);
      // Matching ignores recency, so one ranking per topic holds every article's evidence.
      const ranked = new Map((await matcher.rank(topic, 100)).map((m) => [m.articleId, m]));
      for (const a of articles) {
        const m = ranked.get(a.id);
        observations.push({
          topic,
          articleId: a.id,
          relevant: wanted.has(a.id),
          rank: m?.rank ?? null,
          score: m?.score ?? 0,
          coverage: m?.coverage ?? 0,
        });
      }
    }
    return { observations, mode: app.library.stats().dense ? 'hybrid' : 'lexical' };
  } finally {
    app.close();
  }
}

function measure(obs: Observation[], t: { minScore: number; minCoverage: number; depth: number }) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const o of obs) {
    const hit = o.rank !== null && o.rank <= t.depth + 1 && o.score >= t.minScore && o.coverage >= t.minCoverage;
    if (hit && o.relevant) tp++;
    else if (hit) fp++;
    else if (o.relevant) fn++;
  }
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  const f05 = precision + recall === 0 ? 0 : (1.25 * precision * recall) / (0.25 * precision + recall);
  return { tp, fp, fn, precision, recall, f05 };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

// The default corpus is a sibling folder of the checkout; without it, say so in one line.
if (!fs.existsSync(values.corpus!)) {
  process.stderr.write(`Corpus folder not found: ${values.corpus} (the 313 Wikinews articles the labels are for). Pass --corpus DIR.\n`);
  process.exit(2);
}
const { observations, mode } = await observe();
const pairs = observations.filter((o) => o.relevant).length;
process.stdout.write(`${mode} retrieval, ${observations.length} topic/article pairs, ${pairs} relevant\n\n`);
process.stdout.write('minScore minCoverage depth | precision recall F0.5 (tp/fp/fn)\n');
const rows: { t: { minScore: number; minCoverage: number; depth: number }; m: ReturnType<typeof measure> }[] = [];
for (const depth of [10, 20, 50])
  for (const minCoverage of [0.5, 0.67, 1])
    for (const minScore of [0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0]) {
      const t = { minScore, minCoverage, depth };
      rows.push({ t, m: measure(observations, t) });
    }
for (const { t, m } of rows) {
  process.stdout.write(
    `${t.minScore.toFixed(2).padStart(8)} ${t.minCoverage.toFixed(2).padStart(11)} ${String(t.depth).padStart(5)} | ${pct(m.precision).padStart(9)} ${pct(m.recall).padStart(6)} ${m.f05.toFixed(3)} (${m.tp}/${m.fp}/${m.fn})\n`,
  );
}
const best = rows.reduce((a, b) => (b.m.f05 > a.m.f05 ? b : a));
// Held-out check: thresholds chosen on half the topics, measured on the other half (both ways).
const topics = [...new Set(observations.map((o) => o.topic))];
for (const [pickHalf, testHalf] of [
  [0, 1],
  [1, 0],
]) {
  const inHalf = (h: number) => (o: Observation) => topics.indexOf(o.topic) % 2 === h;
  const choose = observations.filter(inHalf(pickHalf!));
  const test = observations.filter(inHalf(testHalf!));
  const picked = rows.map(({ t }) => ({ t, m: measure(choose, t) })).reduce((a, b) => (b.m.f05 > a.m.f05 ? b : a));
  const held = measure(test, picked.t);
  process.stdout.write(
    `held out: chosen on ${pickHalf ? 'odd' : 'even'} topics ${JSON.stringify(picked.t)} → on the others precision ${pct(held.precision)} recall ${pct(held.recall)}\n`,
  );
}
const shipped = measure(observations, DEFAULT_MATCH_THRESHOLDS);
process.stdout.write(`\nbest F0.5: ${JSON.stringify(best.t)} precision ${pct(best.m.precision)} recall ${pct(best.m.recall)}\n`);
process.stdout.write(
  `shipped ${JSON.stringify(DEFAULT_MATCH_THRESHOLDS)}: precision ${pct(shipped.precision)} recall ${pct(shipped.recall)} (tp ${shipped.tp}, fp ${shipped.fp}, fn ${shipped.fn})\n`,
);
for (const o of observations) {
  const hit =
    o.rank !== null &&
    o.rank <= DEFAULT_MATCH_THRESHOLDS.depth + 1 &&
    o.score >= DEFAULT_MATCH_THRESHOLDS.minScore &&
    o.coverage >= DEFAULT_MATCH_THRESHOLDS.minCoverage;
  if (hit !== o.relevant)
    process.stdout.write(
      `  ${hit ? 'FP' : 'FN'} ${o.topic} · ${o.articleId} (rank ${o.rank}, score ${o.score.toFixed(2)}, coverage ${o.coverage.toFixed(2)})\n`,
    );
}
