import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { type RolloutDriver, startRolloutDriver } from '../../control/canary.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { runCli, demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';
import { shadowBatch } from '../control/fixtures.js';

const tmp = tempDir();
const dbUrl = () => `sqlite:${tmp.dir}/.strangler/state.db`;
/** Stands in for the `strangler serve` holding the guard lease (test/canary/rollout-outlives-cli.process.test.ts runs the real one). */
let driver: RolloutDriver | undefined;
let driverStore: Store | undefined;
beforeAll(async () => {
  const file = writeConfig(tmp.dir, demoConfigYaml({ store: 'sqlite:.strangler/state.db' }));
  expect((await runCli(tmp.dir, {}, ['seed'])).code).toBe(0);
  driverStore = await openStore(dbUrl());
  driver = startRolloutDriver({ store: driverStore, config: loadConfig(file), pollMs: 50 });
});
afterAll(async () => {
  driver?.stop();
  await driverStore?.close();
  tmp.cleanup();
});

const cli = (...argv: string[]) => runCli(tmp.dir, { STRANGLER_ACTOR: 'tester' }, argv);
async function withDb<T>(fn: (s: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const s = await openStore(dbUrl());
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

describe('strangler flip through the gate, and strangler canary', () => {
  it('flip --dry-run shows a refusing verdict with the measured values, exits 4, changes nothing', async () => {
    expect((await cli('flip', 'block', 'shadow', '--reason', 'start shadowing')).code).toBe(0);
    await withDb((s) => s.shadow.record('block', shadowBatch({ compared: 120, matched: 119 })));
    const r = await cli('flip', 'block', 'canary', '--weight', '5', '--dry-run');
    expect(r.code).toBe(4);
    expect(r.out).toContain('would be refused (STRANGLER_E_GATE_REFUSED)');
    expect(r.out).toContain('FAIL minCompared: compared 120 shadow pairs, gate needs at least 500');
    expect(r.out).toContain('FAIL minMatchRate: match rate 99.167% (119/120), gate needs at least 99.9%');
    expect(r.out).toContain('ok   maxP99Ratio');
    expect(JSON.parse((await cli('routes', '--json')).out)[0]).toMatchObject({ mode: 'shadow', version: 2 });
  });

  it('flip without --dry-run is refused the same way on stderr; --force --reason overrides and says so', async () => {
    const refused = await cli('flip', 'block', 'canary', '--weight', '5');
    expect(refused.code).toBe(4);
    expect(refused.err).toContain(
      'STRANGLER_E_GATE_REFUSED: gate refused shadow → canary 5% for route "block"',
    );
    const noReason = await cli('flip', 'block', 'canary', '--weight', '5', '--force');
    expect(noReason.code).toBe(2);
    expect(noReason.err).toContain('--force needs --reason');
    const forced = await cli(
      'flip',
      'block',
      'canary',
      '--weight',
      '5',
      '--force',
      '--reason',
      'exec sign-off',
    );
    expect(forced.code).toBe(0);
    expect(forced.out).toContain('block: shadow (v2) -> canary 5% (v3)');
    expect(forced.out).toContain('forced by tester, overriding minCompared, minMatchRate: exec sign-off');
    await cli('flip', 'block', 'shadow', '--reason', 'back for more evidence');
  });

  it('canary --steps starts the rollout and returns; the driver walks it; --pause/--abort steer it; --follow shows it', async () => {
    // Enough good pairs to lift the match rate over 99.9% after the 119/120 above.
    await withDb((s) => s.shadow.record('block', shadowBatch({ compared: 2000 })));
    const started = await cli('canary', 'block', '--steps', '5,50', '--interval', '1h');
    expect(started.code).toBe(0);
    expect(started.out).toContain('block: rollout started: 5 → 50% every 1h');
    for (let i = 0; i < 200; i++) {
      if ((await withDb((s) => s.routes.get('block')))?.mode === 'canary') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(await withDb((s) => s.routes.get('block'))).toMatchObject({ mode: 'canary', weight: 5 });
    const again = await cli('canary', 'block', '--steps', '10');
    expect(again.code).toBe(2);
    expect(again.err).toContain('STRANGLER_E_ROLLOUT_STATE');
    const paused = await cli('canary', 'block', '--pause', '--reason', 'lunch');
    expect(paused.code).toBe(0);
    expect(paused.out).toContain(
      'block: rollout paused, step 1/2 of 5,50% every 3600s; last: canary.pause by tester',
    );
    const following = cli('canary', 'block', '--follow', '--poll', '50ms');
    await new Promise((r) => setTimeout(r, 200));
    const aborted = await cli('canary', 'block', '--abort', '--reason', 'tickets');
    expect(aborted.out).toContain('rollout aborted');
    const followed = await following;
    expect(followed.code).toBe(1);
    expect(followed.out).toContain('aborted by tester: tickets');
    expect(JSON.parse((await cli('routes', '--json')).out)[0]).toMatchObject({ mode: 'shadow' });
    const status = await cli('canary', 'block', '--json');
    expect(JSON.parse(status.out)).toMatchObject({ status: 'aborted', steps: [5, 50], index: 0 });
  });

  it('a one-step rollout followed to its end exits 0; bad options name the field', async () => {
    const r = await cli('canary', 'block', '--steps', '5', '--follow', '--poll', '50ms');
    expect(r.code).toBe(0);
    expect(r.out).toContain('rollout done: canary 5%');
    const bad = await cli('canary', 'block', '--steps', '50,5');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('steps: must increase');
    const badInterval = await cli('canary', 'block', '--steps', '50', '--interval', 'soon');
    expect(badInterval.code).toBe(2);
    expect(badInterval.err).toContain('expected a duration');
    const two = await cli('canary', 'block', '--pause', '--abort');
    expect(two.code).toBe(2);
    expect(two.err).toContain('give one of');
  });
});
