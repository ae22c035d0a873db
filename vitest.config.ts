// Three projects: `unit` (pure, no servers), `integration` (real PostgreSQL and a MongoDB-wire
// server, started once by the global setup; each test file gets its own databases) — together
// the test command — and `faults` (`npm run test:faults`: random kills at scale, a stopped
// MongoDB server, 16 MB documents under a memory bound; longer than the test command allows).
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Integration files mostly wait on the servers, and their isolation is only proven if files
    // really run side by side: at least 2 workers even on a 2-core machine (vitest's default is cores - 1).
    maxWorkers: Math.max(2, availableParallelism()),
    teardownTimeout: 60_000,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          globals: true,
          // CPU-bound property tests (10k ObjectIds…) pass in well under a second alone, but a
          // loaded 2-core machine stretched one past vitest's 5 s default: a limit, not a speed claim.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globals: true,
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          globals: true,
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 1_800_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
