/**
 * Child process that keeps reopening the current index and querying it for `ms` milliseconds,
 * printing one JSON line per query: used to prove readers never see a half-written index.
 * Usage: tsx test/support/query-child.ts <indexDir> <ms>
 */
import { IndexReader } from '../../src/store/reader.js';

const [indexDir = '', ms = '2000'] = process.argv.slice(2);
const until = Date.now() + Number(ms);
let ok = 0;
const failures: string[] = [];
while (Date.now() < until) {
  const r = IndexReader.open(indexDir);
  if (!(r instanceof IndexReader)) {
    failures.push(r.message);
  } else {
    const hits = r.lexical('"volcano"', 5);
    const stats = r.listArticles(0, 1000);
    if (hits.length === 0 || stats.items.length !== r.manifest.counts.articles)
      failures.push(`inconsistent generation ${r.manifest.generation}`);
    else ok++;
    r.close();
  }
  await new Promise((res) => setTimeout(res, 5));
}
process.stdout.write(JSON.stringify({ ok, failures }) + '\n');
