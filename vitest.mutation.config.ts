import { defineConfig } from 'vitest/config';

// The in-process tests that pin the rule-bearing files StrykerJS mutates
// (stryker.config.json `mutate`). Kept to fast tests: Stryker reruns the
// tests covering each mutant, so a process-level test here would multiply the
// run by its start-up time. A rule with no test in this list is a rule no fast
// test pins: add the test, not a slow one.
export default defineConfig({
  test: {
    include: [
      'test/conformance/canonical-*.test.ts',
      'test/core/resend.test.ts',
      'test/shadow/sampling.test.ts',
      'test/proxy/upstream-errors.test.ts',
      'test/proxy/upstream-error-mapping.test.ts',
      'test/control/state-machine.test.ts',
      'test/control/resolve-target.test.ts',
      'test/control/flip-*.test.ts',
      'test/control/gate.test.ts',
      'test/control/canary-gate-evidence.test.ts',
      'test/control/guard.test.ts',
      'test/control/route-status.test.ts',
      'test/failover/*.test.ts',
      'test/shadow/noise.test.ts',
      'test/planner/waves.test.ts',
      'test/planner/plan-waves.test.ts',
      'test/planner/capabilities.test.ts',
      'test/planner/orm-tables.test.ts',
      'test/planner/score-bounds.test.ts',
    ],
    exclude: ['test/**/*.process.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 60_000,
  },
});
