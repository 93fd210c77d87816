import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // tfjs keeps global engine state; one file per worker process keeps tests isolated.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
