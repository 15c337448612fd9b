/**
 * Issue 17: the `rollout` column of `strangler routes` said `done 3/3` after
 * the guard had rolled the route back to shadow — the rollout record ends at
 * "done", but the route no longer serves what the rollout left it at.
 */
import { describe, expect, it } from 'vitest';
import type { Rollout } from '../../control/canary.js';
import { rolloutCell } from '../../control/route-status.js';

// Only the fields the cell reads; the rest of a stored rollout does not change it.
const rollout = (over: Partial<Rollout>): Rollout =>
  ({ route: 'block', status: 'done', steps: [5, 50, 100], intervalMs: 60_000, index: 2, ...over }) as Rollout;
const guard = { at: '2026-11-28T07:00:00.000Z', actor: 'guard', reason: 'error rate 20% > 5%' };

describe('rollout cell', () => {
  it('says done while the route is where the rollout left it', () => {
    expect(
      rolloutCell({
        rollout: rollout({}),
        mode: 'service',
        weight: 100,
        lastChange: { ...guard, actor: 'cli:ops' },
      }),
    ).toBe('done 3/3');
  });

  it('after a guard rollback says where the route is now and who put it there', () => {
    expect(rolloutCell({ rollout: rollout({}), mode: 'shadow', weight: 0, lastChange: guard })).toBe(
      'done 3/3, then shadow by guard',
    );
  });

  it('a running rollout at a canary step is as it says; moved under it, it says so', () => {
    const running = rollout({ status: 'running', index: 1 });
    expect(rolloutCell({ rollout: running, mode: 'canary', weight: 50, lastChange: guard })).toBe(
      'running 2/3',
    );
    expect(
      rolloutCell({
        rollout: running,
        mode: 'canary',
        weight: 5,
        lastChange: { ...guard, actor: 'cli:ops' },
      }),
    ).toBe('running 2/3, then canary 5% by cli:ops');
  });

  it('a rollout that already ended in a rollback needs no addition', () => {
    expect(
      rolloutCell({
        rollout: rollout({ status: 'rolled-back', index: 1 }),
        mode: 'shadow',
        weight: 0,
        lastChange: guard,
      }),
    ).toBe('rolled-back 2/3');
    expect(
      rolloutCell({
        rollout: rollout({ status: 'none', index: -1 }),
        mode: 'legacy',
        weight: 0,
        lastChange: guard,
      }),
    ).toBe('-');
  });
});
