import { defineConfig } from 'vitest/config';

/**
 * The test run of mutation testing (stryker.config.json, `npm run mutate`). The same as
 * vitest.config.ts, less the tests that cannot kill a mutant or cost minutes per run:
 * - test/sim: seeded simulations of pure cores with their own storage model (minutes per run);
 * - test/stack-sim: seeded simulations of the whole stack (about a minute per file);
 * - test/integration, test/examples: slow end-to-end runs; what they reach is also reached by
 *   the unit, conformance and node tests of each folder;
 * - test/broker, test/cli/cli*.test.ts, test/cli/docs.test.ts, test/cli/members.test.ts, test/packaging and
 *   test/storage/raft-store-crash.test.ts: they spawn processes, which do not see the mutant
 *   Stryker activates in the test process, so they could only ever let mutants survive, slowly.
 * MUTATE_TESTS (comma-separated globs) runs only those tests, e.g. a folder's own unit and
 * conformance tests, which is an order of magnitude faster than every test that reaches the code.
 * MUTATE_EXCLUDE (comma-separated globs) leaves out more, e.g. a test that fails on the current code:
 * Stryker refuses to start when a test fails without any mutant.
 */
const globs = (value: string | undefined): string[] => value?.split(',').filter((glob) => glob !== '') ?? [];
const only = globs(process.env.MUTATE_TESTS);

export default defineConfig({
  test: {
    include: only.length > 0 ? only : ['test/**/*.test.ts'],
    exclude: [
      'test/sim/**',
      'test/stack-sim/**',
      'test/integration/**',
      'test/examples/**',
      'test/broker/**',
      'test/cli/cli*.test.ts',
      'test/cli/docs.test.ts',
      'test/cli/members.test.ts',
      'test/packaging/**',
      'test/storage/raft-store-crash.test.ts',
      '**/node_modules/**',
      ...globs(process.env.MUTATE_EXCLUDE),
    ],
    environment: 'node',
    testTimeout: 30000,
    pool: 'forks',
  },
});
