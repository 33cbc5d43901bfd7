import { defineConfig } from 'vitest/config';

/**
 * Slow files: child processes (CLI, bench, crash tests), the bot under load and fault injection
 * over the real stack, and bot behaviour paced by real time (preview edits once a second, retry
 * pauses at start-up). `npm test` runs everything; `npm run test:unit` leaves these out for a
 * loop under a minute.
 */
const INTEGRATION = [
  'test/hardening/**/*.test.ts',
  'test/bot/streaming.test.ts',
  'test/bot/resilience.test.ts',
  'test/bench/bench-cli.test.ts',
  'test/cli/**/*.test.ts',
  'test/eval/eval-cli.test.ts',
  'test/library/crash.test.ts',
  'test/store/crash.test.ts',
  'test/workers/worker-cli.test.ts',
  'test/workers/worker-metrics.test.ts',
  'test/cluster/**/*.test.ts',
  'test/observability/metrics.test.ts',
  'test/db/embedded-postgres.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
    projects: [
      // The unit files share one process: a fresh process per file re-imported grammY,
      // transformers.js and the ONNX runtime, which cost more than the tests (about 60 s against 25 s).
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: INTEGRATION,
          isolate: false,
          poolOptions: { forks: { singleFork: true, isolate: false } },
        },
      },
      { extends: true, test: { name: 'integration', include: INTEGRATION } },
    ],
  },
});
