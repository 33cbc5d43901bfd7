/**
 * Synthetic data for the index-scaling benchmark: articles made of real corpus sentences, and
 * vectors that look like embeddings without needing a model.
 *
 * Pure random vectors are the worst case for HNSW (in 384 dimensions every point is about as far
 * from every other), which real embeddings are not: they cluster by topic and vary along few
 * directions. So each vector is a topic centroid, plus a point in that topic's own 32-dimensional
 * subspace, plus some isotropic noise, then normalised. Everything is seeded, so a child
 * process can rebuild the same space to draw queries from it.
 */
import { createHash } from 'node:crypto';
import { chunkArticle, type ChunkOptions } from '../chunking/index.js';
import type { Article, Embedder, TokenCounter } from '../types.js';
import { splitSentences, splitWords } from '../util/text.js';
import { createRng, fnv1a } from '../util/random.js';

export { createRng };

/** A standard normal sample (Box–Muller). */
export function gaussian(rng: () => number): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Everything that determines a synthetic vector space; serialisable, so children can rebuild it. */
export interface SpaceSpec {
  dimension: number;
  clusters: number;
  seed: number;
}

// Directions each topic varies along; real sentence embeddings have an intrinsic dimension of this order.
const TOPIC_RANK = 32;
// Weights of the topic-subspace part and the isotropic noise, relative to the unit centroid.
const TOPIC_SPREAD = 0.7;
const NOISE = 0.4;

/** Clustered, normalised vectors in `dimension` dimensions. */
export class SyntheticSpace {
  readonly spec: SpaceSpec;
  private readonly centroids: Float32Array[];
  private readonly bases: Float32Array[][];

  constructor(spec: SpaceSpec) {
    this.spec = spec;
    const rng = createRng(spec.seed);
    const unit = () => normalise(Float32Array.from({ length: spec.dimension }, () => gaussian(rng)));
    this.centroids = Array.from({ length: spec.clusters }, unit);
    this.bases = Array.from({ length: spec.clusters }, () => Array.from({ length: TOPIC_RANK }, unit));
  }

  /** A random unit vector from topic `cluster`. */
  vector(cluster: number, rng: () => number): Float32Array {
    const d = this.spec.dimension;
    const c = this.centroids[cluster % this.spec.clusters]!;
    const basis = this.bases[cluster % this.spec.clusters]!;
    const v = Float32Array.from(c);
    for (const b of basis) {
      const z = (gaussian(rng) * TOPIC_SPREAD) / Math.sqrt(TOPIC_RANK);
      for (let i = 0; i < d; i++) v[i]! += z * b[i]!;
    }
    const noise = NOISE / Math.sqrt(d);
    for (let i = 0; i < d; i++) v[i]! += gaussian(rng) * noise;
    return normalise(v);
  }

  /** A vector from a random topic, as a query would be. */
  randomVector(rng: () => number): Float32Array {
    return this.vector(Math.floor(rng() * this.spec.clusters), rng);
  }

  /** The topic of an embed text: chunks of one article share their header line, hence their topic. */
  clusterOf(embedText: string): number {
    const nl = embedText.indexOf('\n');
    return fnv1a(nl < 0 ? embedText : embedText.slice(0, nl)) % this.spec.clusters;
  }
}

/** Id of the stub embedder for a space; recorded in the index manifest like a model id. */
function syntheticEmbedderId(spec: SpaceSpec): string {
  return `synthetic:${spec.dimension}d-${spec.clusters}topics-seed${spec.seed}`;
}

/**
 * An `Embedder` that returns synthetic vectors instantly, so the real index code path can be
 * driven to 100k chunks without a model. A text's vector depends on the text and the seed only
 * (not on meaning, nor on the order texts are embedded in), so two stores built from the same
 * articles, whose pipelines embed in different orders and batches, hold the same vectors: the
 * bench's recall against one exact search holds for all of them.
 */
export function syntheticEmbedder(space: SyntheticSpace, counter: TokenCounter, seed: number): Embedder {
  const rng = createRng(seed);
  return {
    id: syntheticEmbedderId(space.spec),
    dimension: space.spec.dimension,
    maxTokens: 512,
    tokenizer: counter,
    embedDocuments: async (texts) => texts.map((t) => space.vector(space.clusterOf(t), createRng((seed ^ fnv1a(t)) >>> 0))),
    embedQuery: async () => space.randomVector(rng),
  };
}

/** Sentences of the corpus that read like news prose (not headings, captions or fragments). */
export function sentencePool(articles: readonly Article[]): { sentences: string[]; titles: string[] } {
  const sentences: string[] = [];
  for (const a of articles) {
    for (const s of splitSentences(a.text)) if (s.length >= 40 && s.length <= 300 && !s.includes('\n')) sentences.push(s);
  }
  const titles = articles.map((a) => a.title).filter((t) => t.trim().length > 0);
  if (sentences.length === 0) throw new Error('The corpus has no usable sentences for synthetic articles.');
  return { sentences, titles: titles.length > 0 ? titles : ['Synthetic article'] };
}

/**
 * Articles made of sampled corpus sentences, exactly `targetChunks` chunks in total when cut with
 * `chunking` (the same function and settings the index build uses, so the counts agree).
 */
export function syntheticArticles(
  pool: { sentences: string[]; titles: string[] },
  targetChunks: number,
  chunking: ChunkOptions,
  rng: () => number,
): Article[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
  const articles: Article[] = [];
  let total = 0;
  const make = (paragraphs: string[][]): Article => {
    const n = articles.length;
    const text = paragraphs.map((p) => p.join(' ')).join('\n\n');
    const title = `${pick(pool.titles)} (${n + 1})`;
    const day = new Date(Date.UTC(2004, 0, 1) + Math.floor(rng() * 7670) * 86_400_000).toISOString().slice(0, 10);
    const hash = createHash('sha256').update(`${title}\n${day}\n${text}`).digest('hex');
    const id = `synthetic/${String(n + 1).padStart(6, '0')}`;
    return { id, title, date: day, url: `https://synthetic.example/${n + 1}`, source: 'synthetic', text, hash, path: `${id}.md` };
  };
  while (total < targetChunks) {
    // A typical news article: a few paragraphs of a few sentences (about five chunks at 256 tokens).
    const paragraphs = Array.from({ length: 2 + Math.floor(rng() * 3) }, () =>
      Array.from({ length: 2 + Math.floor(rng() * 4) }, () => pick(pool.sentences)),
    );
    let article = make(paragraphs);
    let count = chunkArticle(article, chunking).length;
    if (total + count > targetChunks) {
      // Top up with one-sentence articles (one chunk each) to land exactly on the target.
      article = make([[pick(pool.sentences)]]);
      count = chunkArticle(article, chunking).length;
      if (total + count > targetChunks) continue;
    }
    articles.push(article);
    total += count;
  }
  return articles;
}

const MONTHS = /^(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)/i;

/**
 * Questions built from corpus sentences (a handful of their content words), so lexical search
 * finds realistic matches. Numbers and month names are left out: they would turn most questions
 * into date-filtered searches, which is a different (and rarer) path.
 */
export function syntheticQuestions(pool: { sentences: string[] }, n: number, rng: () => number): string[] {
  const out: string[] = [];
  let guard = 0;
  while (out.length < n && guard++ < n * 50) {
    const s = pool.sentences[Math.floor(rng() * pool.sentences.length)]!;
    const words = splitWords(s).filter((w) => w.length >= 4 && !/\d/.test(w) && !MONTHS.test(w));
    if (words.length < 4) continue;
    const take = Math.min(words.length, 4 + Math.floor(rng() * 3));
    const start = Math.floor(rng() * (words.length - take + 1));
    out.push(`What about ${words.slice(start, start + take).join(' ')}?`);
  }
  return out;
}

function normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
  return v;
}
