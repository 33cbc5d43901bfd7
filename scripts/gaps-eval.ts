/**
 * How well /gaps groups questions: purity and recall of the topics on a labelled question log
 * (eval/gaps/questions.jsonl: one {"topic", "text"} per line), next to the baseline of linking
 * questions that share any exact stem.
 *
 *   npx tsx scripts/gaps-eval.ts [--file eval/gaps/questions.jsonl] [--sweep]
 *
 * Purity: the share of questions that are in their group's majority topic. Recall: the share of
 * questions that are in the group holding most of their topic. One group per question scores
 * purity 1, one group for everything recall 1; a good grouping keeps both high. The threshold is
 * chosen on the even-numbered questions (--sweep prints that search) and reported on the odd ones
 * and on all of them.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { baselineGroups, DEFAULT_GROUPING, groupQuestions } from '../src/desk/grouping.js';

interface Labelled {
  topic: string;
  text: string;
}

/** Purity and recall of `groups` (index lists) against `labels`. */
export function purityRecall(groups: number[][], labels: readonly string[]): { purity: number; recall: number; groups: number } {
  const n = labels.length;
  let pure = 0;
  for (const g of groups) pure += Math.max(...countBy(g.map((i) => labels[i]!)).values());
  const groupOf = new Map<number, number>();
  for (const [gi, g] of groups.entries()) for (const i of g) groupOf.set(i, gi);
  let recalled = 0;
  const byTopic = new Map<string, number[]>();
  for (const [i, l] of labels.entries()) byTopic.set(l, [...(byTopic.get(l) ?? []), i]);
  for (const members of byTopic.values()) recalled += Math.max(...countBy(members.map((i) => String(groupOf.get(i)))).values());
  return { purity: pure / n, recall: recalled / n, groups: groups.length };
}

function countBy(items: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of items) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

const { values } = parseArgs({
  options: { file: { type: 'string', default: 'eval/gaps/questions.jsonl' }, sweep: { type: 'boolean', default: false } },
});
const all: Labelled[] = fs
  .readFileSync(values.file, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Labelled);
const dev = all.filter((_, i) => i % 2 === 0);
const test = all.filter((_, i) => i % 2 === 1);
const topics = new Set(all.map((q) => q.topic)).size;

const fmt = (r: { purity: number; recall: number; groups: number }) =>
  `purity ${(100 * r.purity).toFixed(1)}%  recall ${(100 * r.recall).toFixed(1)}%  groups ${r.groups}`;

/** The threshold with the best purity + recall on the even-numbered half. */
function chooseThreshold(plain: boolean): number {
  let best = { t: 0, score: -1 };
  for (let t = 0.05; t <= 0.61; t += 0.05) {
    const options = { threshold: Number(t.toFixed(2)), plain };
    const r = purityRecall(
      groupQuestions(
        dev.map((q) => q.text),
        options,
      ),
      dev.map((q) => q.topic),
    );
    if (values.sweep) process.stdout.write(`  ${plain ? 'plain' : '/gaps'} ${t.toFixed(2)}  ${fmt(r)}\n`);
    if (r.purity + r.recall > best.score) best = { t: options.threshold, score: r.purity + r.recall };
  }
  return best.t;
}
if (values.sweep) process.stdout.write('threshold sweep on the even-numbered half:\n');
const plainThreshold = chooseThreshold(true);
const chosen = chooseThreshold(false);
if (chosen !== DEFAULT_GROUPING.threshold) process.stdout.write(`Note: the even half now prefers threshold ${chosen}.\n`);
process.stdout.write(`${all.length} questions, ${topics} topics; threshold ${DEFAULT_GROUPING.threshold}\n`);
for (const [name, set] of [
  ['odd half (held out)', test],
  ['all', all],
] as const) {
  const texts = set.map((q) => q.text);
  const labels = set.map((q) => q.topic);
  process.stdout.write(`${name}:\n`);
  process.stdout.write(`  baseline: any shared stem links        ${fmt(purityRecall(baselineGroups(texts), labels))}\n`);
  process.stdout.write(
    `  baseline: exact-stem overlap (${plainThreshold.toFixed(2)})    ${fmt(purityRecall(groupQuestions(texts, { threshold: plainThreshold, plain: true }), labels))}\n`,
  );
  process.stdout.write(
    `  /gaps lexical grouping (${DEFAULT_GROUPING.threshold.toFixed(2)})       ${fmt(purityRecall(groupQuestions(texts), labels))}\n`,
  );
}
