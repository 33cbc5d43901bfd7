/**
 * Child process for the interrupt test: indexes `<root>/articles` under the CLI's `InterruptGuard`
 * and sends itself SIGINT as the write step starts. The write is synchronous, so the signal is
 * handled only after the new generation is published: the "finished just before the interrupt" case.
 * Exits with the guard's exit code. Usage: tsx test/support/interrupt-child.ts <root>
 */
import { InterruptGuard } from '../../src/cli/interrupt.js';
import { publishedIndex } from '../../src/library/index.js';
import { testApp, testConfig } from './stack.js';

const [root = ''] = process.argv.slice(2);
const app = await testApp(root);
const guard = new InterruptGuard(() => publishedIndex(testConfig(root).indexDir)?.articles ?? null);
const outcome = await guard.run(
  (signal) =>
    app.library.reindex({
      signal,
      onProgress: (p) => {
        if (p.phase === 'write') process.kill(process.pid, 'SIGINT');
      },
    }),
  (summary) => summary.articles,
);
app.close();
process.exitCode = 'exitCode' in outcome ? outcome.exitCode : 0;
