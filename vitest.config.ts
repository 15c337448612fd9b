import { defineConfig } from 'vitest/config';

// Two lanes (issue 30), one `npm test` for both:
// - unit: in-process tests (real sockets on listen(0), real SQLite files, no
//   child process, browser or redis-server). One module cache per worker
//   (isolate: false) keeps the lane under 30 s for the inner loop and the
//   mutation check: `npm run test:unit`.
// - process: `*.process.test.ts`, tests that start processes (the bin,
//   Python, redis-server, Chromium). A test file that starts one is named so.
// Two cores: keep parallelism modest and timeouts generous; no test asserts on
// wall-clock speed.
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.process.test.ts'],
          isolate: false,
        },
      },
      { extends: true, test: { name: 'process', include: ['test/**/*.process.test.ts'] } },
    ],
  },
});
