/**
 * Loads an articles folder in a child process and prints the LoadResult as JSON. Tests run it as
 * an unprivileged user to exercise permission errors, which root never meets.
 * Usage: node --import tsx test/support/load-child.ts <dir>
 */
import { loadArticles } from '../../src/articles/index.js';

const result = await loadArticles(process.argv[2] ?? '.');
process.stdout.write(JSON.stringify({ skipped: result.skipped, ids: result.articles.map((a) => a.id) }));
