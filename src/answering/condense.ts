/**
 * Follow-up condensing: "what did he ask for?" cannot be retrieved on its own, so it is
 * rewritten into a standalone query, by the LLM when there is one, otherwise by carrying
 * the previous question's key terms along.
 */
import type { Turn } from '../types.js';
import { isAskingWord } from '../retrieval/terms.js';
import { isStopWord, splitWords, truncate } from '../util/text.js';

// Words that only make sense with something said before them.
const REFERRING_WORDS = new Set(
  (
    'he she it they him her them his hers its their theirs this that these those there former latter ' +
    'он она оно они его её ее их ему ей им этот эта это эти тот та те там'
  ).split(' '),
);
// Openings of elliptical follow-ups ("And the sanctions?", "What about Lacroix?").
const FOLLOW_UP_OPENINGS = ['and', 'but', 'also', 'so', 'what about', 'how about', 'and what', 'а', 'и', 'а что'];
const SHORT_QUESTION_WORDS = 3;
/** A question with at most this many topic words ("how many people died?") leans on what came before. */
const FEW_TOPIC_WORDS = 2;
/** Longest standalone query accepted from the model. */
const MAX_QUERY_CHARS = 300;

/** True when `question` probably depends on earlier turns (pronouns, "and the …?", very short). */
export function needsContext(question: string): boolean {
  const words = splitWords(question).map((w) => w.toLowerCase());
  if (words.length === 0) return false;
  if (words.length <= SHORT_QUESTION_WORDS) return true;
  if (words.some((w) => REFERRING_WORDS.has(w))) return true;
  if (topicWords(words).length <= FEW_TOPIC_WORDS) return true;
  const opening = words.slice(0, 2).join(' ');
  return FOLLOW_UP_OPENINGS.some((o) => opening === o || opening.startsWith(o + ' '));
}

/**
 * The key terms of a text: quoted phrases, capitalised words and numbers, minus stop words.
 * When there are none, its longer topical words, so "what sanctions were announced?" still carries "sanctions".
 */
export function keyTerms(text: string): string[] {
  const terms: string[] = [];
  const seen = new Set<string>();
  const add = (t: string) => {
    const key = t.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      terms.push(t);
    }
  };
  for (const m of text.matchAll(/["\u201C\u00AB]([^"\u201D\u00BB]{2,80})["\u201D\u00BB]/g)) add(`"${(m[1] ?? '').trim()}"`);
  const words = splitWords(text).filter((w) => !isStopWord(w));
  for (const w of words) {
    const first = w.charAt(0);
    if (/\d/.test(w) || first !== first.toLowerCase()) add(w.replace(/[\u2019']s$/, ''));
  }
  if (terms.length === 0) for (const w of words) if (w.length >= 4) add(w);
  return terms.slice(0, 8);
}

/** The words of a question that name its topic: not function, asking or time words. */
function topicWords(words: readonly string[]): string[] {
  return words.filter((w) => {
    const l = w.toLowerCase();
    return !isStopWord(l) && !isAskingWord(l) && (l.length > 1 || /\d/.test(l));
  });
}

/**
 * What a follow-up carries over from an earlier question: its key terms (names, numbers, quoted
 * phrases) followed by its other topic words, so "what kind of old warplane crashed at the
 * Connecticut airport?" lends "how many people died?" its warplane and airport too.
 */
function carriedTerms(text: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const lowerCaseTopic = topicWords(splitWords(text)).filter((w) => w === w.toLowerCase());
  for (const t of [...keyTerms(text), ...lowerCaseTopic]) {
    const key = t.toLowerCase();
    if (seen.has(key) || isAskingWord(key)) continue;
    seen.add(key);
    out.push(t);
  }
  return out.slice(0, 10);
}

/**
 * Rewrites a follow-up into a standalone query without a model: the question plus the topic
 * terms of the most recent earlier user question that has any (terms already present are not repeated).
 */
export function condenseDeterministic(question: string, history: readonly Turn[]): string {
  const q = question.trim();
  if (history.length === 0 || !needsContext(q)) return q;
  const present = new Set(splitWords(q).map((w) => w.toLowerCase()));
  for (let i = history.length - 1; i >= 0; i--) {
    const turn = history[i];
    if (turn?.role !== 'user') continue;
    const carried = carriedTerms(turn.content).filter((t) => !present.has(t.toLowerCase()));
    if (carried.length > 0) return `${q} ${carried.join(' ')}`;
  }
  return q;
}

/** Cleans the model's reply to a condense request; empty when it is unusable. */
export function parseCondensedQuery(reply: string): string {
  const firstLine =
    reply
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? '';
  const unlabelled = firstLine.replace(/^(standalone (query|question)|query|question)\s*:\s*/i, '');
  const unquoted = unlabelled.replace(/^["'\u201C\u00AB]+|["'\u201D\u00BB]+$/g, '').trim();
  if (unquoted.length > MAX_QUERY_CHARS) return truncate(unquoted, MAX_QUERY_CHARS);
  return unquoted;
}
