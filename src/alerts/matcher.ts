/**
 * Does a new article match a follower's topic? The topic is searched exactly like a question
 * (the same retriever, hybrid when a model is loaded), and an article matches when it is among
 * the ranked articles with a score of at least `minScore` (the retriever's combined evidence as a
 * share of the best-matching article's) and contains at least `minCoverage` of the topic's words. Both thresholds were chosen on the labelled topic set in eval/alerts
 * (README, "Topic alerts").
 */
import type { HybridRetriever } from '../retrieval/index.js';
import { contentTerms, stemSet, topicTerms } from '../retrieval/terms.js';
import type { SearchIndex } from '../store/search-index.js';
import { splitSentences, stem } from '../util/text.js';

/** The thresholds of a match. */
export interface MatchThresholds {
  /** Lowest ranking score, as a share of the best article's (see the module comment). */
  minScore: number;
  /** Lowest share of the topic's words the article (title and text) must contain. */
  minCoverage: number;
  /** Ranked articles looked at beyond the candidates themselves. */
  depth: number;
}

/**
 * Chosen on eval/alerts/topics.json in lexical mode (`npx tsx scripts/alert-threshold.ts`; README,
 * "Topic alerts"): precision first (an off-topic alert is noise). Scores of 0.7 to 0.8 give
 * 95–96% precision; 0.6 lets in five times the false alerts, so 0.75 keeps a margin from that edge.
 */
export const DEFAULT_MATCH_THRESHOLDS: MatchThresholds = { minScore: 0.75, minCoverage: 0.67, depth: 50 };

/** A topic's match with one article, with the sentence that best shows it. */
export interface TopicMatch {
  articleId: string;
  /** 1 = the best-matching article of the collection. */
  rank: number;
  score: number;
  coverage: number;
  /** One sentence of the article's best passage for the topic (the cited sentence of the alert). */
  sentence: string;
}

/** Finds, among candidate articles, those that match a topic. */
export interface TopicMatcher {
  /** The candidates that match `topic`, best first. */
  match(topic: string, candidates: ReadonlySet<string>): Promise<TopicMatch[]>;
  /** The collection's `k` best articles for `topic` with their evidence, thresholds not applied (for measuring them). */
  rank(topic: string, k: number): Promise<TopicMatch[]>;
}

/**
 * Topics are matched "as of" the epoch: every article is then dated after the search, so none
 * gets the recency preference questions use. A new article would otherwise always look like the
 * best match for any topic it merely mentions, just for being the newest.
 */
const NO_RECENCY = new Date(0);

/** Builds the matcher over the app's retriever and current index. */
export function createTopicMatcher(deps: {
  retriever: HybridRetriever;
  /** The index being served, whichever store holds it (for the whole text of a matched article). */
  getReader: () => SearchIndex | null;
  thresholds?: Partial<MatchThresholds>;
}): TopicMatcher {
  const t = { ...DEFAULT_MATCH_THRESHOLDS, ...deps.thresholds };
  async function rank(topic: string, k: number): Promise<TopicMatch[]> {
    const stems = topicStemsOf(topic);
    if (stems.length === 0) return [];
    const found = await deps.retriever.retrieveDetailed(topic, { k, now: NO_RECENCY });
    const reader = deps.getReader();
    // Relative to the best article: how high combined scores run depends on the mode (lexical, hybrid, rerank).
    const best = Math.max(...found.passages.map((p) => p.score));
    const texts = await Promise.all(found.passages.map(async (p) => (await reader?.articleText(p.articleId)) ?? p.text));
    return found.passages.map((p, i) => {
      const have = stemSet(`${p.title} ${texts[i]}`);
      const coverage = stems.filter((s) => have.has(s)).length / stems.length;
      return { articleId: p.articleId, rank: i + 1, score: best > 0 ? p.score / best : 0, coverage, sentence: bestSentence(p.text, stems) };
    });
  }
  return {
    rank,
    async match(topic, candidates) {
      if (candidates.size === 0) return [];
      const ranked = await rank(topic, t.depth + candidates.size);
      return ranked.filter((m) => candidates.has(m.articleId) && m.score >= t.minScore && m.coverage >= t.minCoverage);
    },
  };
}

/** The topic's words as crude stems (asking and time words dropped), like the retriever's coverage check. */
export function topicStemsOf(topic: string): string[] {
  const terms = contentTerms(topic);
  const topical = topicTerms(terms);
  return [...new Set((topical.length > 0 ? topical : terms).map(stem))];
}

/** The passage sentence holding most of the topic's words (the first on a tie), at most 300 characters. */
function bestSentence(text: string, stems: readonly string[]): string {
  let best = '';
  let bestHits = -1;
  for (const raw of splitSentences(text.replace(/\n+\[…\]\n+/g, '\n'))) {
    const s = raw.trim();
    if (s.length < 20) continue;
    const have = stemSet(s);
    const hits = stems.filter((x) => have.has(x)).length;
    if (hits > bestHits) {
      best = s;
      bestHits = hits;
    }
  }
  const sentence = best || text.trim();
  return sentence.length <= 300 ? sentence : `${sentence.slice(0, 299).replace(/\s+\S*$/, '')}…`;
}
