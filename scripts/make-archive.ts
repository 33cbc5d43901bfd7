/**
 * Writes a large news archive for load and PostgreSQL measurements: every file of `--from` (by
 * default eval/readers/articles: the 313 Wikinews articles and the seed, which the readers'
 * questions are about) copied unchanged, plus synthetic "roundup" articles until the archive holds
 * `--articles` articles. Each roundup joins the bodies of two or three source articles (chosen by a
 * seeded generator, so the same arguments always write the same archive), dated 12 years before
 * its first source, so it uses real news vocabulary and competes with the originals for the same
 * words without answering time-relative questions in their place. The defaults give 1,623
 * articles and about 18,000 chunks at the default chunk size, the size of the archive issue #25
 * was measured on.
 *
 *   npx tsx scripts/make-archive.ts --out /tmp/archive [--from eval/readers/articles] [--articles 1623] [--seed 25]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadArticles } from '../src/articles/index.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    from: { type: 'string', default: 'eval/readers/articles' },
    articles: { type: 'string', default: '1623' },
    seed: { type: 'string', default: '25' },
  },
});
if (!values.out) {
  console.error('usage: npx tsx scripts/make-archive.ts --out DIR [--from DIR] [--articles N] [--seed S]');
  process.exit(2);
}
const out = path.resolve(values.out);
const from = path.resolve(values.from);
const total = Number(values.articles);
if (fs.existsSync(out) && fs.readdirSync(out).length > 0) {
  console.error(`${out} is not empty: give a new folder.`);
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });

for (const e of fs.readdirSync(from, { withFileTypes: true }))
  if (e.isFile()) fs.copyFileSync(path.join(from, e.name), path.join(out, e.name));
const sources = (await loadArticles(from, { maxFileBytes: 20_000_000 })).articles.filter((a) => a.text.length > 0);
if (sources.length === 0) throw new Error(`no articles in ${from}`);

// mulberry32: small, seeded, good enough to pick articles.
let state = Number(values.seed) >>> 0;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = () => sources[Math.floor(random() * sources.length)]!;

const roundups = Math.max(0, total - sources.length);
let written = 0;
for (let n = 1; n <= roundups; n++) {
  const parts = Array.from({ length: 2 + Math.floor(random() * 2) }, pick);
  const first = parts[0]!;
  const date = first.date ? `${Number(first.date.slice(0, 4)) - 12}${first.date.slice(4, 10)}` : '1999-01-01';
  const title = `${first.title}: roundup ${n}`;
  const body = [`Roundup ${n} of earlier reports.`, ...parts.map((p) => `## ${p.title}\n\n${p.text.trim()}`)].join('\n\n');
  const front = [
    '---',
    `title: ${JSON.stringify(title)}`,
    `date: ${date}`,
    `url: "https://archive.example/roundup/${n}"`,
    `source: "Synthetic roundup"`,
    '---',
  ].join('\n');
  fs.writeFileSync(path.join(out, `roundup-${String(n).padStart(5, '0')}.md`), `${front}\n\n${body}\n`);
  written++;
}
console.log(`${out}: ${sources.length} source articles copied, ${written} roundups written (${sources.length + written} articles).`);
