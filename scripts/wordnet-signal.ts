/**
 * How often a WordNet relation links a question word to a candidate sentence's word where the
 * hand lexicon and the shared stem start do not: over answering and other candidates, and over
 * the ranking's misses. WORDNET_RELATIONS (deriv, syn, hyper) and WORDNET_SENSES choose the lexicon.
 *
 *   WORDNET_RELATIONS=deriv,syn npx tsx scripts/wordnet-signal.ts eval/readers/questions.jsonl
 */
import { openScratchApp } from './scratch-app.js';
import { paraphrases, tokenize } from '../src/answering/answer-type.js';
import { condenseDeterministic } from '../src/answering/condense.js';
import { scoreSentences } from '../src/answering/extractive.js';
import { wordnetRelated, wordnetSize } from '../src/answering/wordnet.js';
import { askedAt, historyFor, isAnswerable, loadQuestions } from '../src/eval/dataset.js';
import { containsAnswer } from '../src/eval/metrics.js';

const file = process.argv[2] ?? 'eval/readers/questions.jsonl';
const articles = process.argv[3] ?? 'eval/readers/articles';
const relations = process.env.WORDNET_RELATIONS ?? 'syn';
const t0 = performance.now();
const size = wordnetSize();
console.log(`lexicon ${relations}: ${size} stems, built in ${(performance.now() - t0).toFixed(0)} ms`);

/** Question-sentence word pairs only WordNet relates. */
function wordnetOnly(queryStems: string[], sentence: string): string[] {
  const stems = new Set(
    tokenize(sentence)
      .map((t) => t.stem)
      .filter((s) => s.length > 1),
  );
  const out: string[] = [];
  for (const q of queryStems) {
    if (stems.has(q)) continue;
    for (const s of stems) {
      if (!wordnetRelated(q, s)) continue;
      process.env.WORDNET_RELATIONS = 'none';
      const hand = paraphrases(q, s);
      process.env.WORDNET_RELATIONS = relations;
      if (!hand) out.push(`${q}~${s}`);
    }
  }
  return out;
}

const app = await openScratchApp(articles, { prefix: 'wordnet-signal-' });
const count = { gold: 0, goldFires: 0, other: 0, otherFires: 0, misses: 0, missGoldFires: 0, missChosenFires: 0, missOnlyGold: 0 };
const samples: string[] = [];
try {
  await app.library.ensure();
  const { questions } = loadQuestions(file);
  const byId = new Map(questions.map((q) => [q.id, q]));
  for (const q of questions) {
    if (!isAnswerable(q) || q.answer === undefined) continue;
    const query = condenseDeterministic(q.question.trim(), historyFor(q, byId));
    const now = askedAt(q, byId);
    const retrieval = await app.retriever.retrieve(query, now ? { now } : {});
    if (retrieval.notCovered) continue;
    const scored = scoreSentences(query, retrieval.passages, q.question.trim());
    const gold = scored.map((s) => containsAnswer(s.sentence, q.answer!));
    if (!gold.some(Boolean) || gold.every(Boolean)) continue;
    const queryStems = tokenize(query)
      .map((t) => t.stem)
      .filter((s) => s.length > 1);
    const fires = scored.map((s) => wordnetOnly(queryStems, s.sentence));
    scored.forEach((_, i) => {
      if (gold[i]) {
        count.gold++;
        if (fires[i]!.length > 0) count.goldFires++;
      } else {
        count.other++;
        if (fires[i]!.length > 0) count.otherFires++;
      }
    });
    if (!gold[0]) {
      count.misses++;
      const g = gold.indexOf(true);
      if (fires[g]!.length > 0) count.missGoldFires++;
      if (fires[0]!.length > 0) count.missChosenFires++;
      if (fires[g]!.length > 0 && fires[0]!.length === 0) {
        count.missOnlyGold++;
        samples.push(`${q.question.trim()} | ${fires[g]!.join(' ')}`);
      }
    }
  }
} finally {
  app.close();
}
const pct = (a: number, b: number) => `${a} of ${b} (${((100 * a) / Math.max(1, b)).toFixed(1)}%)`;
console.log(`answering sentences it fires on: ${pct(count.goldFires, count.gold)}`);
console.log(`other candidates it fires on: ${pct(count.otherFires, count.other)}`);
console.log(
  `misses: ${count.misses}; fires on the (first) answering sentence ${count.missGoldFires}, on the chosen one ${count.missChosenFires}, on the answering one only ${count.missOnlyGold}`,
);
for (const s of samples.slice(0, 25)) console.log(`  ${s}`);
