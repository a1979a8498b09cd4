import { defineConfig } from 'vitest/config';

/**
 * The test run of mutation testing (stryker.config.json, `npm run mutate`). The same as
 * vitest.config.ts, less the tests that cannot kill a mutant or cost minutes per run:
 * - test/sim: seeded simulations of pure cores with their own storage model (minutes per run);
 * - test/integration, test/examples: slow end-to-end runs; what they reach is also reached by
 *   the unit, conformance and node tests of each folder;
 * - test/broker and test/cli/cli.test.ts: they spawn CLI processes, which do not see the mutant
 *   Stryker activates in the test process, so they could only ever let mutants survive slowly.
 * MUTATE_EXCLUDE (comma-separated globs) leaves out more, e.g. a test that fails on the current code:
 * Stryker refuses to start when a test fails without any mutant.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [
      'test/sim/**',
      'test/integration/**',
      'test/examples/**',
      'test/broker/**',
      'test/cli/cli.test.ts',
      '**/node_modules/**',
      ...(process.env.MUTATE_EXCLUDE?.split(',').filter((glob) => glob !== '') ?? []),
    ],
    environment: 'node',
    testTimeout: 30000,
    pool: 'forks',
  },
});
