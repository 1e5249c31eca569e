import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'contracts/**/*.test.ts', 'test/**/*.test.ts', 'scripts/**/*.test.ts'],
    // Chain tests each start their own anvil; two workers match the two cores CI has.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
