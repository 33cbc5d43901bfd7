/**
 * What the WordNet lexicon costs: building it (from the package, WORDNET_RELATIONS/WORDNET_SENSES),
 * the process's RSS before and after, and scoreSentences' time per question over the readers'
 * set with the lexicon off and on, alternating question by question in one process.
 *
 *   WORDNET_RELATIONS=syn WORDNET_SENSES=1 npx tsx scripts/wordnet-cost.ts
 */
import { openScratchApp } from './scratch-app.js';
import { condenseDeterministic } from '../src/answering/condense.js';
import { extractiveAnswer } from '../src/answering/extractive.js';
import { wordnetSize } from '../src/answering/wordnet.js';
import { historyFor, isAnswerable, loadQuestions, askedAt } from '../src/eval/dataset.js';
import type { Passage } from '../src/types.js';

const file = process.argv[2] ?? 'eval/readers/questions.jsonl';
const relations = process.env.WORDNET_RELATIONS ?? 'syn';
const app = await openScratchApp('eval/readers/articles', { prefix: 'wordnet-cost-' });
const cases: { query: string; question: string; passages: readonly Passage[] }[] = [];
try {
  await app.library.ensure();
  const { questions } = loadQuestions(file);
  const byId = new Map(questions.map((q) => [q.id, q]));
  for (const q of questions) {
    if (!isAnswerable(q)) continue;
    const query = condenseDeterministic(q.question.trim(), historyFor(q, byId));
    const now = askedAt(q, byId);
    const r = await app.retriever.retrieve(query, now ? { now } : {});
    if (!r.notCovered) cases.push({ query, question: q.question.trim(), passages: r.passages });
  }
} finally {
  app.close();
}
const rss = () => (process.memoryUsage().rss / 1e6).toFixed(0);
const before = rss();
const t0 = performance.now();
const size = wordnetSize();
console.log(`lexicon ${relations}: ${size} stems, ready in ${(performance.now() - t0).toFixed(0)} ms; RSS ${before} -> ${rss()} MB`);
const times = { off: [] as number[], on: [] as number[] };
cases.forEach((c, i) => {
  // Alternating which goes first, so neither always finds the stem cache warm.
  for (const mode of i % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
    process.env.WORDNET_RELATIONS = mode === 'off' ? 'none' : relations;
    const s = performance.now();
    extractiveAnswer(c.query, c.passages, c.question);
    times[mode].push(performance.now() - s);
  }
});
process.env.WORDNET_RELATIONS = relations;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)]!.toFixed(2);
for (const mode of ['off', 'on'] as const)
  console.log(`${mode}: ${cases.length} questions, extractive answer p50 ${pct(times[mode], 0.5)} ms, p95 ${pct(times[mode], 0.95)} ms`);
