/**
 * resolveTarget: what a flip request means before any gate is asked (issue 30:
 * with it removed, 101 tests in 19 files still passed). Each row is a rule of
 * control/state-machine.ts: valid modes, whole weights 0..100, canary 1..99
 * (and "canary without --weight keeps the current weight"), the weight other
 * modes imply.
 */
import { describe, expect, it } from 'vitest';
import { resolveTarget } from '../../control/state-machine.js';
import type { Mode } from '../../core/types.js';

const at = (mode: Mode, weight: number) => ({ mode, weight });

describe('resolveTarget', () => {
  it.each([
    [
      'canary keeps the current canary weight when none is given',
      { mode: 'canary' },
      at('canary', 25),
      at('canary', 25),
    ],
    ['canary takes the given weight', { mode: 'canary', weight: 40 }, at('canary', 25), at('canary', 40)],
    ['canary from shadow with a weight', { mode: 'canary', weight: 5 }, at('shadow', 0), at('canary', 5)],
    ['canary at the bounds', { mode: 'canary', weight: 1 }, at('shadow', 0), at('canary', 1)],
    ['canary at the upper bound', { mode: 'canary', weight: 99 }, at('shadow', 0), at('canary', 99)],
    ['service implies 100', { mode: 'service' }, at('canary', 50), at('service', 100)],
    ['service with its own weight', { mode: 'service', weight: 100 }, at('canary', 50), at('service', 100)],
    ['legacy implies 0', { mode: 'legacy' }, at('canary', 50), at('legacy', 0)],
    ['shadow implies 0, explicit 0 allowed', { mode: 'shadow', weight: 0 }, at('legacy', 0), at('shadow', 0)],
  ])('%s', (_why, req, current, want) => {
    expect(resolveTarget(req, current)).toEqual(want);
  });

  it.each([
    ['an unknown mode', { mode: 'canaryy' }, at('shadow', 0), 'mode'],
    ['canary without a weight from a mode that has none', { mode: 'canary' }, at('shadow', 0), 'weight'],
    ['canary 0', { mode: 'canary', weight: 0 }, at('shadow', 0), 'weight'],
    ['canary 100', { mode: 'canary', weight: 100 }, at('shadow', 0), 'weight'],
    ['a fractional weight', { mode: 'canary', weight: 2.5 }, at('shadow', 0), 'weight'],
    ['a negative weight', { mode: 'canary', weight: -1 }, at('shadow', 0), 'weight'],
    ['a weight over 100', { mode: 'canary', weight: 101 }, at('shadow', 0), 'weight'],
    ['service with a canary weight', { mode: 'service', weight: 50 }, at('canary', 50), 'weight'],
    ['legacy with a weight', { mode: 'legacy', weight: 10 }, at('canary', 50), 'weight'],
  ])('refuses %s, naming the field', (_why, req, current, field) => {
    let caught: unknown;
    try {
      resolveTarget(req, current);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'STRANGLER_E_INVALID_FLIP', details: { field } });
  });
});
