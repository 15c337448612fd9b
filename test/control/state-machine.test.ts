import { describe, expect, it } from 'vitest';
import { checkWeight, classifyTransition } from '../../control/state-machine.js';
import { isStranglerError } from '../../core/errors.js';
import type { Mode } from '../../core/types.js';

const W: Record<Mode, number> = { legacy: 0, shadow: 0, canary: 10, service: 100 };
const at = (mode: Mode, weight = W[mode]) => ({ mode, weight });

// Every (from, to) pair of the four modes, with the expected classification;
// null = refused as a no-op. canary → canary is covered by weight below.
const TABLE: Array<[Mode, Mode, string | null, boolean, boolean]> = [
  // from      to         kind        gated  needsForce
  ['legacy', 'legacy', null, false, false],
  ['legacy', 'shadow', 'advance', false, false],
  ['legacy', 'canary', 'skip', true, true],
  ['legacy', 'service', 'skip', true, true],
  ['shadow', 'legacy', 'rollback', false, false],
  ['shadow', 'shadow', null, false, false],
  ['shadow', 'canary', 'advance', true, false],
  ['shadow', 'service', 'advance', true, false],
  ['canary', 'legacy', 'rollback', false, false],
  ['canary', 'shadow', 'rollback', false, false],
  ['canary', 'service', 'advance', true, false],
  ['service', 'legacy', 'rollback', false, false],
  ['service', 'shadow', 'rollback', false, false],
  ['service', 'canary', 'rollback', false, false],
  ['service', 'service', null, false, false],
];

describe('route state machine', () => {
  it.each(TABLE)('%s → %s', (from, to, kind, gated, needsForce) => {
    if (kind === null) {
      let err: unknown;
      try {
        classifyTransition(at(from), at(to));
      } catch (e) {
        err = e;
      }
      expect(isStranglerError(err, 'STRANGLER_E_INVALID_FLIP')).toBe(true);
      expect((err as Error).message).toContain('nothing to change');
      return;
    }
    expect(classifyTransition(at(from), at(to))).toMatchObject({ kind, gated, needsForce });
  });

  it('canary weight up is gated, down is a rollback, same weight is a no-op', () => {
    expect(classifyTransition(at('canary', 5), at('canary', 50))).toMatchObject({
      kind: 'weight-up',
      gated: true,
    });
    expect(classifyTransition(at('canary', 50), at('canary', 5))).toMatchObject({
      kind: 'weight-down',
      gated: false,
    });
    expect(() => classifyTransition(at('canary', 5), at('canary', 5))).toThrow(/already canary 5%/);
  });

  it('rollback to legacy is never gated, from any mode and weight', () => {
    for (const from of [at('shadow'), at('canary', 1), at('canary', 99), at('service')])
      expect(classifyTransition(from, at('legacy'))).toMatchObject({
        kind: 'rollback',
        gated: false,
        needsForce: false,
      });
  });

  it('enforces the weight each mode implies: canary 1..99, service 100, legacy/shadow 0', () => {
    for (const w of [1, 50, 99]) expect(() => checkWeight('canary', w)).not.toThrow();
    for (const w of [0, 100, 5.5, -1])
      expect(() => checkWeight('canary', w)).toThrow(/weight: canary needs a whole number 1\.\.99/);
    expect(() => checkWeight('service', 100)).not.toThrow();
    expect(() => checkWeight('service', 99)).toThrow(/mode service implies weight 100, got 99/);
    expect(() => checkWeight('shadow', 0)).not.toThrow();
    expect(() => checkWeight('legacy', 3)).toThrow(/mode legacy implies weight 0/);
    expect(() => classifyTransition(at('shadow'), at('canary', 100))).toThrow(/weight/);
  });
});
