/**
 * A generated corpus of small articles, one invented person each, for the load and soak runs.
 * Every person has five facts, each in its own sentence with a fixed keyword, so a fake LLM can
 * answer "what did he announce?" with the right sentence of source [1], and a wrong history (the
 * pronoun resolved to someone else) shows up as a wrong name in the answer.
 */
import type { FakeChatRequest, FakeReply } from '../support/fake-openai.js';
import { mdArticle } from '../support/stack.js';

/** One invented person and the facts their article states. */
export interface Person {
  name: string;
  file: string;
  title: string;
  /** The sentence that answers each question kind, as written in the article. */
  facts: Record<QuestionKind, string>;
}

/** What a question asks; `who` opens a conversation, the others are pronoun follow-ups. */
export type QuestionKind = 'who' | 'announce' | 'born' | 'collect' | 'age';

/** The five questions of a conversation, in order; only the first names the person. */
export const QUESTION_KINDS: QuestionKind[] = ['who', 'announce', 'born', 'collect', 'age'];

// Words the fixture embedding model knows (its vocabulary is drawn from the seeds and test
// fixtures), so both halves of hybrid retrieval can find a person by name; each stem is distinct
// and none is a stop word or a time expression.
const NAME_WORDS = (
  'minister police market prices energy election report officials finance article million billion percent military ' +
  'attack killed sanctions climate health hospital vaccine research scientists university students prison arrested shares ' +
  'investors economy inflation growth workers strike budget parliament senate congress leader capital border troops forces ' +
  'missile europe america britain france germany israel africa london moscow washington beijing spokesman statement agreed ' +
  'signed meeting summit foreign security defense technology internet launch rocket satellite football player record ' +
  'festival museum author source lacroix volcano allies attempt bridge campaign council island measles offensive private ' +
  'reached teenager territory trained uncops weapons western ability clinics nurses tournament dollars mission'
).split(' ');

const ROLES = ['harbour master', 'head librarian', 'fire chief', 'school principal', 'chief engineer'];
const TOWNS = [
  'Pellow',
  'Brackwater',
  'Dunmore',
  'Esterby',
  'Fallowfield',
  'Grimsdale',
  'Hartwell',
  'Ivybridge',
  'Juniper Bay',
  'Kestrel Point',
];
const PLANS = ['a new ferry route', 'longer opening hours', 'a flood warning siren', 'free evening classes', 'a solar roof project'];
const HOBBIES = ['antique maps', 'vintage radios', 'river stones', 'old train tickets', 'carved wooden birds'];

const capital = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);

/** `count` people (at most 50), deterministic. */
export function people(count = 50): Person[] {
  const out: Person[] = [];
  for (let i = 0; i < Math.min(count, NAME_WORDS.length / 2); i++) {
    const name = `${capital(NAME_WORDS[2 * i]!)} ${capital(NAME_WORDS[2 * i + 1]!)}`;
    const town = TOWNS[i % TOWNS.length]!;
    const facts: Record<QuestionKind, string> = {
      who: `${name} is the ${ROLES[i % ROLES.length]} of ${town}.`,
      announce: `${name} announced ${PLANS[(i * 3) % PLANS.length]} for ${town} on Monday.`,
      born: `${name} was born in ${TOWNS[(i + 3) % TOWNS.length]}.`,
      collect: `${name} collects ${HOBBIES[(i * 7) % HOBBIES.length]}.`,
      age: `${name} is ${31 + i} years old.`,
    };
    const slug = name.toLowerCase().replace(/\s+/g, '-');
    out.push({ name, file: `people/${slug}.md`, title: `Profile: ${name} of ${town}`, facts });
  }
  return out;
}

/** The articles folder content for `list`. */
export function peopleArticles(list: readonly Person[]): Record<string, string> {
  return Object.fromEntries(
    list.map((p, i) => {
      const day = String((i % 28) + 1).padStart(2, '0');
      const body = QUESTION_KINDS.map((k) => p.facts[k]).join(' ');
      return [p.file, mdArticle(p.title, `2024-05-${day}`, body, `https://news.example/people/${encodeURIComponent(p.name)}`)];
    }),
  );
}

/** The question of kind `kind` in conversation `reader` about `person` (the tag lets the fake LLM check whose history it got). */
export function questionText(kind: QuestionKind, person: Person, reader: number): string {
  const tag = `(reader ${reader})`;
  switch (kind) {
    case 'who':
      return `Who is ${person.name}? ${tag}`;
    case 'announce':
      return `What did he announce? ${tag}`;
    case 'born':
      return `Where was he born? ${tag}`;
    case 'collect':
      return `What does he collect? ${tag}`;
    case 'age':
      return `How old is he? ${tag}`;
  }
}

const KIND_KEYWORD: Record<QuestionKind, RegExp> = {
  who: /\bis the\b/,
  announce: /\bannounced\b/,
  born: /\bborn\b/,
  collect: /\bcollects\b/,
  age: /\byears old\b/,
};

function kindOf(question: string): QuestionKind {
  if (/announce/i.test(question)) return 'announce';
  if (/born/i.test(question)) return 'born';
  if (/collect/i.test(question)) return 'collect';
  if (/how old/i.test(question)) return 'age';
  return 'who';
}

const READER_TAG = /\(reader (\d+)\)/g;
const PRONOUN = /\b(he|him|his|she|her)\b/i;

/** What the people LLM has seen that it should not have. */
export interface PeopleLlmStats {
  /** Condense requests whose transcript carried another reader's questions. */
  historyMismatches: number;
  /** Condense requests in which no person could be found to resolve the pronoun. */
  unresolved: number;
  condense: number;
  answers: number;
}

/**
 * A fake LLM for conversations about `list`. Condense requests resolve the pronoun to the last
 * person named in the transcript it was sent (and count transcripts mixing readers); answer
 * requests quote the sentence of source [1] that answers the question kind, citing [1].
 * `delay` gives each reply's delay before the first byte.
 */
export function peopleLlm(list: readonly Person[], delay: () => number, stats: PeopleLlmStats): (req: FakeChatRequest) => FakeReply {
  const names = list.map((p) => p.name);
  return (req) => {
    const system = req.messages[0]?.content ?? '';
    const last = [...req.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    if (/standalone/i.test(system)) {
      stats.condense++;
      const followUp = /Follow-up question:\s*(.*)/.exec(last)?.[1]?.trim() ?? '';
      const transcript = last.split('Follow-up question:')[0] ?? '';
      const mine = /\(reader (\d+)\)/.exec(followUp)?.[1];
      const readers = new Set([...transcript.matchAll(READER_TAG)].map((m) => m[1]));
      if (readers.size !== 1 || !readers.has(mine)) stats.historyMismatches++;
      let person: string | undefined;
      let at = -1;
      for (const n of names) {
        const i = transcript.lastIndexOf(n);
        if (i > at) {
          at = i;
          person = n;
        }
      }
      if (!person) stats.unresolved++;
      const query = followUp
        .replace(READER_TAG, '')
        .replace(PRONOUN, person ?? 'someone')
        .trim();
      return { text: query, delayMs: delay() };
    }
    stats.answers++;
    const question = /Question:\s*(.*)$/s.exec(last)?.[1] ?? '';
    const source = /\[1\][^\n]*\n([\s\S]*?)(?:\n\n\[\d+\]|\n<\/sources>)/.exec(last)?.[1] ?? '';
    const sentences = source.split(/(?<=\.)\s+/);
    const sentence = sentences.find((s) => KIND_KEYWORD[kindOf(question)].test(s)) ?? sentences[0] ?? 'The sources do not say.';
    return { text: `${sentence.trim()} [1]`, delayMs: delay(), chunkSize: 12, chunkDelayMs: 5 };
  };
}

/** The answer sentence expected for question `kind` about `person`. */
export function expectedAnswer(person: Person, kind: QuestionKind): string {
  return person.facts[kind];
}
