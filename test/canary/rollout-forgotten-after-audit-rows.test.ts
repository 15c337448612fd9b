/**
 * Regression for issue 13 item 7: the rollout state was folded from the
 * newest 1,000 audit rows of its route, so 1,000 newer rows (breaker events
 * count) made a running rollout vanish: --pause said "no rollout" and a
 * second rollout could start beside the first. The rollout is now a record.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pauseRollout, readRollout, startRollout } from '../../control/canary.js';
import { type Fixture, routeFixture } from '../control/fixtures.js';

describe('a running rollout behind many newer audit rows', () => {
  let fx: Fixture;
  afterEach(async () => fx?.close());

  it('is still found, paused, and blocks a second rollout after 1,500 breaker rows', async () => {
    fx = await routeFixture({ mode: 'shadow' });
    await startRollout(fx.store, fx.config, {
      route: 'block',
      steps: [5, 50],
      intervalMs: 60_000,
      actor: 'ops',
    });
    for (let i = 0; i < 1500; i++)
      await fx.store.audit.append({
        actor: 'breaker',
        route: 'block',
        action: i % 2 ? 'breaker.close' : 'breaker.open',
        before: null,
        after: null,
        reason: 'flapping',
      });
    expect(await readRollout(fx.store, 'block')).toMatchObject({ status: 'running', steps: [5, 50] });
    expect(await pauseRollout(fx.store, { route: 'block', actor: 'ops' })).toMatchObject({
      status: 'paused',
    });
    await expect(
      startRollout(fx.store, fx.config, { route: 'block', steps: [10], intervalMs: 60_000, actor: 'x' }),
    ).rejects.toThrow(/already has a paused rollout/);
  });
});
