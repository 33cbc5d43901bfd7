/**
 * Child process for crash tests: indexes `<root>/articles` into `<root>/index-data` with the fixture
 * model and SIGKILLs itself when the build reaches step `killAt` (no cleanup handlers can run).
 * Usage: tsx test/support/index-child.ts <root> <killAt|none> [--full]
 */
import { loadArticles } from '../../src/articles/index.js';
import { createEmbedder } from '../../src/embedding/index.js';
import { indexArticles } from '../../src/library/pipeline.js';
import { silentLogger } from '../../src/util/log.js';
import { testConfig } from './stack.js';

const [root = '', killAt = 'none', flag] = process.argv.slice(2);
const config = testConfig(root);
const { embedder } = await createEmbedder(config.embedding, config.llm, silentLogger);
if (!embedder) throw new Error('fixture model did not load');
const loaded = await loadArticles(config.articlesDir);
let seen = 0;
const summary = await indexArticles({
  indexDir: config.indexDir,
  loaded,
  embedder,
  counter: embedder.tokenizer,
  chunking: config.chunking,
  hnsw: config.hnsw,
  batchSize: 4,
  full: flag === '--full',
  onStep: (step) => {
    process.stdout.write(`step ${step}\n`);
    if (step === killAt || (killAt.startsWith('embedded-batch:') && step === 'embedded-batch' && ++seen === Number(killAt.split(':')[1]))) {
      process.kill(process.pid, 'SIGKILL');
    }
  },
});
process.stdout.write(
  `done ${JSON.stringify({ added: summary.added, changed: summary.changed, removed: summary.removed, chunks: summary.chunks })}\n`,
);
