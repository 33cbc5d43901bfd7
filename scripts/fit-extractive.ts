/**
 * Fits the weights extractive answers rank sentences by (SENTENCE_WEIGHTS in
 * src/answering/extractive.ts): for every answerable question of a questions file, the
 * sentences the answerer would choose from, with their signals, and which of them hold the gold
 * answer. A listwise softmax (the probability that the first sentence is a gold one) is fitted
 * by gradient descent with a small L2 penalty, and the weights are printed with the share of
 * questions whose best-scored sentence holds the answer, before and after.
 *
 *   npx tsx scripts/fit-extractive.ts --articles eval/readers/articles --questions eval/readers/questions.jsonl
 *
 * Fit on the readers' set only; the held-out set is for checking (npm run eval).
 * `--folds 5` also prints the out-of-fold count (questions split by gold article, each fold
 * scored by weights fitted on the others), the honest number for anything fitted here;
 * `--trees 100` fits gradient-boosted trees on the same loss instead, to compare learners.
 */
import { parseArgs } from 'node:util';
import { fitBoostedTrees } from './boosted-trees.js';
import { descendListwise, dot } from './listwise.js';
import { openScratchApp } from './scratch-app.js';
import { condenseDeterministic } from '../src/answering/condense.js';
import { SENTENCE_FEATURES, SENTENCE_WEIGHTS, scoreSentences } from '../src/answering/extractive.js';
import { askedAt, historyFor, isAnswerable, loadQuestions } from '../src/eval/dataset.js';
import { containsAnswer } from '../src/eval/metrics.js';

const { values } = parseArgs({
  options: {
    articles: { type: 'string', default: 'eval/readers/articles' },
    questions: { type: 'string', default: 'eval/readers/questions.jsonl' },
    epochs: { type: 'string', default: '3000' },
    l2: { type: 'string', default: '0.001' },
    // A second questions file the fitted weights are only measured on (never fitted to).
    check: { type: 'string' },
    polish: { type: 'boolean', default: false },
    // Fit only these features (comma-separated), the others kept at their current weights.
    free: { type: 'string' },
    // Leave these features out (comma-separated): their weight stays 0, to measure what each adds.
    drop: { type: 'string' },
    // Start from these weights (comma-separated, in SENTENCE_FEATURES order) instead of the current ones.
    from: { type: 'string' },
    // Cross-validate: fit on all folds but one, count first sentences on the one left out.
    folds: { type: 'string' },
    // Compare with gradient-boosted regression trees (this many, depth --depth) on the same listwise loss.
    trees: { type: 'string' },
    depth: { type: 'string', default: '3' },
  },
});

interface Example {
  features: number[][];
  gold: boolean[];
  /** The first gold article: folds keep a story's questions together. */
  group: string;
}

const app = await openScratchApp(values.articles!, { prefix: 'fit-extractive-' });
let questions = 0;
let examples: Example[] = [];
let checkExamples: Example[] = [];
try {
  await app.library.ensure();
  const collect = async (file: string): Promise<Example[]> => {
    const out: Example[] = [];
    const { questions: all } = loadQuestions(file);
    const byId = new Map(all.map((q) => [q.id, q]));
    for (const q of all) {
      if (!isAnswerable(q) || q.answer === undefined) continue;
      questions++;
      const query = condenseDeterministic(q.question.trim(), historyFor(q, byId));
      const now = askedAt(q, byId);
      const retrieval = await app.retriever.retrieve(query, now ? { now } : {});
      if (retrieval.notCovered) continue;
      const zero = SENTENCE_FEATURES.map(() => 0);
      const scored = scoreSentences(query, retrieval.passages, q.question.trim(), zero);
      const gold = scored.map((s) => containsAnswer(s.sentence, q.answer!));
      // Only questions some candidate answers teach the ranking anything.
      if (gold.some(Boolean) && !gold.every(Boolean))
        out.push({ features: scored.map((s) => s.features), gold, group: q.articles[0] ?? q.id });
    }
    return out;
  };
  examples = await collect(values.questions!);
  if (values.check) checkExamples = await collect(values.check);
} finally {
  app.close();
}

const top1By = (score: (f: number[]) => number, set: readonly Example[]) =>
  set.filter((e) => {
    const scores = e.features.map(score);
    // Ties go to the earlier sentence, as scoreSentences orders them.
    return e.gold[scores.indexOf(Math.max(...scores))];
  }).length;
const top1 = (w: readonly number[], set: readonly Example[] = examples) => top1By((f) => dot(f, w), set);

const start = values.from ? values.from.split(',').map(Number) : SENTENCE_WEIGHTS;
const dropped = new Set(values.drop ? values.drop.split(',') : []);
const free =
  values.free || values.drop ? new Set(values.free ? values.free.split(',') : SENTENCE_FEATURES.filter((f) => !dropped.has(f))) : null;
for (const f of dropped) free?.delete(f);
const epochs = Number(values.epochs);
const l2 = Number(values.l2);

/** Listwise softmax weights fitted on `train` by gradient descent. */
function fitLinear(train: readonly Example[]): number[] {
  const w = SENTENCE_FEATURES.map((f, k) => (values.free ? (start[k] ?? 0) : 0) * (dropped.has(f) ? 0 : 1));
  const moves = (k: number) => !free || free.has(SENTENCE_FEATURES[k]!);
  for (let epoch = 0; epoch < epochs; epoch++) descendListwise(w, train, epoch, l2, moves);
  return w;
}

const w = fitLinear(examples);

// Out-of-fold: questions split by gold article into folds, each scored by a model fitted on the others.
if (values.folds) {
  const k = Number(values.folds);
  const groups = [...new Set(examples.map((e) => e.group))];
  const foldOf = new Map(groups.map((g, i) => [g, i % k]));
  const outOfFold = (learn: (train: Example[]) => (f: number[]) => number) => {
    let hits = 0;
    for (let fold = 0; fold < k; fold++) {
      const score = learn(examples.filter((e) => foldOf.get(e.group) !== fold));
      hits += top1By(
        score,
        examples.filter((e) => foldOf.get(e.group) === fold),
      );
    }
    return hits;
  };
  console.log(
    `out of fold (${k} folds by article): linear ${outOfFold((t) => {
      const fitted = fitLinear(t);
      return (f) => dot(f, fitted);
    })} of ${examples.length}`,
  );
  if (values.trees) {
    const options = { trees: Number(values.trees), depth: Number(values.depth) };
    console.log(
      `out of fold (${k} folds by article): boosted trees ${outOfFold((t) => fitBoostedTrees(t, options))} of ${examples.length}`,
    );
  }
}
if (values.trees) {
  const trees = fitBoostedTrees(examples, { trees: Number(values.trees), depth: Number(values.depth) });
  const checked = values.check ? `, ${top1By(trees, checkExamples)} of ${checkExamples.length} on ${values.check}` : '';
  console.log(`boosted trees: first sentence holds the answer ${top1By(trees, examples)} (fitting set)${checked}`);
}

// The softmax fits the likelihood; what a reader sees is the top sentence. A coordinate search
// then moves one weight at a time while that keeps more answers first on the fitting set.
if (values.polish) {
  let best = top1(w);
  for (let round = 0; round < 4; round++) {
    for (const step of [0.5, 0.25, 0.1]) {
      for (let k = 0; k < w.length; k++) {
        for (const dir of [1, -1]) {
          w[k]! += dir * step;
          const got = top1(w);
          if (got > best) best = got;
          else w[k]! -= dir * step;
        }
      }
    }
  }
}

if (values.check)
  console.log(
    `checked on ${values.check} (not fitted): ${top1(SENTENCE_WEIGHTS, checkExamples)} with the current weights, ${top1(w, checkExamples)} with the fitted ones, of ${checkExamples.length}`,
  );
console.log(`${questions} answerable questions, ${examples.length} with an answering sentence among others`);
console.log(`first sentence holds the answer: ${top1(SENTENCE_WEIGHTS)} with the current weights, ${top1(w)} with the fitted ones`);
for (let k = 0; k < w.length; k++) console.log(`  ${SENTENCE_FEATURES[k]!.padEnd(14)} ${w[k]!.toFixed(2)}`);
console.log(`[${w.map((x) => x.toFixed(2)).join(', ')}]`);
