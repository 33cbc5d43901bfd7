/**
 * What a question asks for and the words that say the same thing: the signals extractive answers
 * rank sentences by, beside plain word overlap. "How much did the bridge cost?" wants a number or
 * an amount; "why was it delayed?" a cause ("because", "due to", "after"); "who" a name.
 */
import * as chrono from 'chrono-node';
import { isStopWord, splitWords, stem } from '../util/text.js';

/** What kind of thing a question asks for, when its wording says so. */
export type AnswerType = 'number' | 'name' | 'place' | 'time' | 'cause' | null;

/** Every answer type, in the order features are laid out. */
export const ANSWER_TYPES = ['number', 'name', 'place', 'time', 'cause'] as const;

const NUMBER_WORDS =
  'one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|hundreds|thousand|thousands|million|millions|billion|billions|trillion|dozen|dozens|half|twice';
const MONTHS = 'january|february|march|april|may|june|july|august|september|october|november|december';
const DAYS = 'monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|tomorrow|tonight';
const NUMBER_TOKEN = new RegExp(`^(\\d[\\d.,]*%?|${NUMBER_WORDS})$`, 'i');
const YEAR_TOKEN = /^(1[89]|20)\d\d$/;
const TIME_TOKEN = new RegExp(
  `^((1[89]|20)\\d\\d|${MONTHS}|${DAYS}|\\d{1,2}:\\d\\d|noon|midnight|morning|evening|afternoon|night|dawn)$`,
  'i',
);
const CURRENCY = /[$€£¥]|\b(dollars?|euros?|pounds?|yen|yuan|rupees?|usd|eur|gbp)\b/i;
const CURRENCY_WORD = /^([$€£¥]|dollars?|euros?|pounds?|yen|yuan|rupees?|usd|us|eur|gbp|million|billion|trillion)$/i;
// Questions about money: "how much did it cost", "how much was pledged". Their answer is an amount, not any number.
const MONEY_WORDS = new Set(
  'cost costs costing paid pay pays spend spent worth price priced budget fund funding funds raise raised pledge pledged donate donated fine fined charge compensation salary earn earned'.split(
    ' ',
  ),
);
// How news states a reason. "after" and "following" give a cause as often as a time; both count.
const CAUSE =
  /\b(because|due to|owing to|as a result|result of|resulted from|after|following|caused|causing|cause of|blamed|blaming|so that|in order to|reasons?|led to|amid|citing|cited|over concerns|attributed|triggered|sparked|prompted|since the)\b/i;
const DATE_PREPOSITIONS = /^(on|in|at|by|from|until|till|since|before|after|during|the|of)$/i;
// Words that open a place: "in Almería", "near the border", "at Freedom Plaza".
const PLACE_PREPOSITIONS = new Set(['in', 'at', 'near', 'from', 'to', 'into', 'outside', 'across', 'off']);

/** The answer type of a question: "how many/much" → number, "who" → name, "where" → place, "when" → time, "why" → cause. */
export function answerTypeOf(question: string): AnswerType {
  const q = question.toLowerCase();
  if (
    /\bhow (many|much|old|long|far|big|high|large|tall|fast|deep)\b|\bwhat (percentage|share|number|age|proportion|amount|fraction)\b/.test(
      q,
    )
  )
    return 'number';
  // "what's the latest death toll", "what was the vote", "what vaccination rate did they reach".
  if (
    /\bwhat(['\u2019]s| is| was| were)? (the )?(\w+ ){0,3}(toll|rate|score|tally|total|margin|figure|price|cost|count|vote|majority)\b/.test(
      q,
    )
  )
    return 'number';
  if (/\bwhen\b|\b(what|which) (date|day|year|time|month)\b|\bwhat time\b/.test(q)) return 'time';
  if (/\bwhy\b|\bwhat (caused|led to|prompted|triggered|was the reason|reason)\b|\bfor what reason\b/.test(q)) return 'cause';
  if (
    /\bwhere\b|\b(which|what) (\w+ )?(country|countries|city|cities|town|state|nation|island|province|region|village|district|area|place|county|venue|port|airport)\b/.test(
      q,
    )
  )
    return 'place';
  if (
    /\b(who|whom|whose)\b|\b(which|what) (\w+ )?(company|companies|team|party|person|man|woman|player|leader|group|airline|band|club|organi[sz]ation|minister|president|senator|official|agency|firm|court|network|newspaper)\b/.test(
      q,
    )
  )
    return 'name';
  return null;
}

/**
 * Positions of the sentence's words a reply could be made of and the question does not already
 * say: capitalised names (not the sentence's first word) and numbers. Whatever the question asks
 * for, its answer is new to it, and in news it is most often a name or a number.
 */
export function novelPositions(
  tokens: readonly Token[],
  asked: ReadonlySet<string>,
  queryStems: ReadonlySet<string>,
): { names: number[]; numbers: number[] } {
  const names: number[] = [];
  const numbers: number[] = [];
  tokens.forEach((t, i) => {
    if (asked.has(t.word.toLowerCase()) || queryStems.has(t.stem)) return;
    if (NUMBER_TOKEN.test(t.word) || /^\d/.test(t.word)) numbers.push(i);
    else if (i > 0 && /^\p{Lu}/u.test(t.word) && !isStopWord(t.word)) names.push(i);
  });
  return { names, numbers };
}

/** A word of a sentence with what it is: the features answer-type detection reads. */
export interface Token {
  word: string;
  /** Porter stem, or '' for a stop word. */
  stem: string;
}

/** The sentence's words with their stems ('' for stop words), in order. */
export function tokenize(sentence: string): Token[] {
  return splitWords(sentence).map((word) => ({ word, stem: isStopWord(word) ? '' : stem(word) }));
}

/**
 * Positions of the sentence's words that are of the asked type and not already in the question:
 * numbers ("22", "twenty"; for "how much", an amount), dates and times, capitalised names (not
 * the sentence's first word), names after "in/at/near" for places. For "why", the cause phrase.
 */
export function answerTypePositions(type: AnswerType, sentence: string, tokens: readonly Token[], asked: ReadonlySet<string>): number[] {
  if (type === null) return [];
  if (type === 'cause') {
    const m = CAUSE.exec(sentence);
    if (!m) return [];
    // The cause phrase's position, in words.
    return [splitWords(sentence.slice(0, m.index)).length];
  }
  if (type === 'time') {
    // Years, month and day names and clock times, and whatever else chrono-node reads as a date or
    // time ("in two weeks", "2021-05-04"), unless the question already says it.
    const own = tokens.flatMap((t, i) => (TIME_TOKEN.test(t.word) && !asked.has(t.word.toLowerCase()) ? [i] : []));
    const dates = chrono
      .parse(sentence)
      .filter((r) => splitWords(r.text).some((w) => !asked.has(w.toLowerCase())))
      // The date's first word after any preposition: "two" of "in two weeks".
      .map(
        (r) =>
          splitWords(sentence.slice(0, r.index)).length +
          Math.max(
            0,
            splitWords(r.text).findIndex((w) => !DATE_PREPOSITIONS.test(w)),
          ),
      );
    return [...new Set([...own, ...dates])].sort((a, b) => a - b);
  }
  const out: number[] = [];
  const moneyAsked = type === 'number' && [...asked].some((w) => MONEY_WORDS.has(w));
  tokens.forEach((t, i) => {
    const lower = t.word.toLowerCase();
    if (asked.has(lower)) return;
    if (type === 'number') {
      if (!NUMBER_TOKEN.test(t.word) || YEAR_TOKEN.test(t.word)) return;
      // An amount: a currency or "million" right before or after the number ("410 million euros", "$8 million").
      const money = [tokens[i - 1], tokens[i + 1]].some((n) => n !== undefined && CURRENCY_WORD.test(n.word));
      if (!moneyAsked || money || /^[$€£¥]/.test(sentence.slice(Math.max(0, sentence.indexOf(t.word) - 1)))) out.push(i);
    } else if (i > 0 && /^\p{Lu}/u.test(t.word) && !isStopWord(t.word)) {
      if (type === 'name' || PLACE_PREPOSITIONS.has(tokens[i - 1]!.word.toLowerCase()) || /^\p{Lu}/u.test(tokens[i - 1]!.word)) out.push(i);
    }
  });
  if (type === 'number' && out.length === 0 && moneyAsked && CURRENCY.test(sentence)) out.push(0);
  return out;
}

// Words news uses for what questions ask in other words. Each group is one meaning; matching
// through a group counts less than the question's own word (see PARAPHRASE_WEIGHT in extractive.ts).
const SYNONYM_GROUPS = [
  'cost costs price worth spend spent paid pay budget expensive',
  'die died dead death deaths kill killed fatal toll perish',
  'injure injured injuries wound wounded hurt',
  'start started begin began begun launch launched kick',
  'found founded founder establish established set create created form formed',
  'end ended finish finished conclude concluded',
  'win won victory beat defeated defeat',
  'lose lost defeat defeated',
  'buy bought purchase purchased acquire acquired acquisition',
  'chair chairman chairwoman head',
  'arrest arrested detain detained custody',
  'ask asked request requested demand demanded urge urged call',
  'delay delayed postpone postponed',
  'survive survived survivor survivors',
  'open opened opening inaugurate inaugurated',
  'cancel cancelled canceled scrap scrapped call',
  'leave left quit resign resigned step',
  'say said state stated announce announced',
  'meet meeting talks hold',
  'build built construct constructed construction',
  'ban banned prohibit prohibited',
  'sentence sentenced jail jailed prison imprisoned',
  'vote voted ballot election elected',
  'flee fled evacuate evacuated',
  'shoot shot gunman fire fired',
  'crash crashed collide collided',
];

const GROUPS_OF = new Map<string, number[]>();
SYNONYM_GROUPS.forEach((group, id) => {
  for (const word of group.split(' ')) {
    const s = stem(word);
    const ids = GROUPS_OF.get(s) ?? [];
    if (!ids.includes(id)) ids.push(id);
    GROUPS_OF.set(s, ids);
  }
});
// A stem that starts another ("chair" / "chairman", "surviv" / "survivor") is the same word when this long.
const MIN_PREFIX = 5;

/** True when two different stems say the same thing: one lexicon group, or one is a long prefix of the other. */
export function paraphrases(a: string, b: string): boolean {
  if (a === b) return false;
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  if (short.length >= MIN_PREFIX && long.startsWith(short) && !/\d/.test(short)) return true;
  const ga = GROUPS_OF.get(a);
  const gb = GROUPS_OF.get(b);
  return ga !== undefined && gb !== undefined && ga.some((g) => gb.includes(g));
}
