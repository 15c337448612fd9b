import { defineConfig } from 'vitest/config';

// Two cores: integration tests open real sockets and child processes, so keep
// parallelism modest and timeouts generous; no test asserts on wall-clock speed.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
