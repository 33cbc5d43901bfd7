/**
 * Where extractive answers miss: every answerable question of a questions file goes through the
 * answerer as in `npm run eval` (follow-ups with the replies so far), and each one whose first
 * quote does not hold the gold answer is put in one bucket:
 *
 * - not covered: the answerer said "not covered";
 * - not in the articles: the gold answer (as the eval matches it) is in none of the gold articles' text;
 * - not retrieved: in a gold article, but in none of the retrieved passages;
 * - not quotable: in a retrieved passage the extractive step never looks at (a weaker article or a lower passage);
 * - across sentences: in a quotable passage, but in no single candidate sentence;
 * - not chosen: in a candidate sentence that was not quoted;
 * - not first: quoted, but not first.
 *
 *   npx tsx scripts/diagnose-extractive.ts --articles eval/readers/articles --questions eval/readers/questions.jsonl [--show bucket]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openScratchApp } from './scratch-app.js';
import { scoreSentences } from '../src/answering/extractive.js';
import { askedAt, historyFor, isAnswerable, loadQuestions } from '../src/eval/dataset.js';
import { firstSentence } from '../src/eval/answers.js';
import { containsAnswer } from '../src/eval/metrics.js';

const { values } = parseArgs({
  options: {
    articles: { type: 'string', default: 'eval/readers/articles' },
    questions: { type: 'string', default: 'eval/readers/questions.jsonl' },
    show: { type: 'string', multiple: true, default: [] },
    json: { type: 'string' },
  },
});

const BUCKETS = [
  'first',
  'not first',
  'not chosen',
  'across sentences',
  'not quotable',
  'not retrieved',
  'not in the articles',
  'not covered',
] as const;
type Bucket = (typeof BUCKETS)[number];

const files = fs.readdirSync(values.articles!);
const articleText = (id: string): string => {
  const file = files.find((f) => f.slice(0, f.lastIndexOf('.')) === id);
  return file ? fs.readFileSync(path.join(values.articles!, file), 'utf8') : '';
};

const app = await openScratchApp(values.articles!, { prefix: 'diagnose-extractive-' });
const counts = new Map<Bucket, number>(BUCKETS.map((b) => [b, 0]));
const rows: { id: string; bucket: Bucket; question: string; answer: string; first: string; reply: string; where?: string }[] = [];
try {
  await app.library.ensure();
  const { questions } = loadQuestions(values.questions!);
  const byId = new Map(questions.map((q) => [q.id, q]));
  const said = new Map<string, string>();
  for (const q of questions) {
    const now = askedAt(q, byId);
    const answer = await app.answerer.ask(q.question, historyFor(q, byId, said), now ? { now } : {});
    said.set(q.id, answer.text);
    if (!isAnswerable(q) || q.answer === undefined) continue;
    const gold = q.answer;
    let bucket: Bucket;
    let where: string | undefined;
    const first = firstSentence(answer);
    if (containsAnswer(first, gold)) bucket = 'first';
    else if (answer.mode === 'not-covered') bucket = 'not covered';
    else if (containsAnswer(answer.text, gold)) bucket = 'not first';
    else {
      const retrieval = await app.retriever.retrieve(answer.query, now ? { now } : {});
      const passages = retrieval.passages;
      const scored = scoreSentences(answer.query, passages, q.question.trim());
      const quotable = new Set(scored.map((s) => s.n));
      const holding = passages.flatMap((p, i) => (containsAnswer(p.text, gold) ? [i + 1] : []));
      if (scored.some((s) => containsAnswer(s.sentence, gold))) {
        bucket = 'not chosen';
        const rank = scored.findIndex((s) => containsAnswer(s.sentence, gold));
        where = `rank ${rank + 1} of ${scored.length}`;
      } else if (holding.some((n) => quotable.has(n))) bucket = 'across sentences';
      else if (holding.length > 0) {
        bucket = 'not quotable';
        where = `passages ${holding.join(',')}; same article as 1: ${holding.map((n) => passages[n - 1]!.articleId === passages[0]!.articleId).join(',')}; score share ${holding.map((n) => (passages[n - 1]!.score / passages[0]!.score).toFixed(2)).join(',')}`;
      } else if (q.articles.some((id) => containsAnswer(articleText(id), gold))) bucket = 'not retrieved';
      else bucket = 'not in the articles';
    }
    counts.set(bucket, counts.get(bucket)! + 1);
    rows.push({ id: q.id, bucket, question: q.question, answer: gold, first, reply: answer.text, ...(where ? { where } : {}) });
  }
} finally {
  app.close();
}

const total = rows.length;
console.log(`${total} answerable questions with a gold answer`);
for (const b of BUCKETS)
  console.log(`  ${b.padEnd(20)} ${String(counts.get(b)).padStart(4)}  ${((100 * counts.get(b)!) / total).toFixed(1)}%`);
for (const r of rows.filter((r) => values.show!.includes(r.bucket))) {
  console.log(
    `\n[${r.bucket}] ${r.id} ${r.question}\n  gold: ${r.answer}${r.where ? `  (${r.where})` : ''}\n  reply: ${r.reply.replace(/\n+/g, ' | ')}`,
  );
}
if (values.json) fs.writeFileSync(values.json, JSON.stringify(rows, null, 1));
