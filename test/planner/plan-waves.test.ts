/**
 * planWaves on hand-made graphs: the rules behind "imports of a shared
 * foundation do not hold a module back" (docs/plan.md) and "type-only imports
 * do not order anything", pinned on the function itself (issue 30: mutants
 * that counted edges to shared foundations survived all planner tests).
 */
import { describe, expect, it } from 'vitest';
import { planWaves } from '../../planner/waves.js';

const all = () => true;

describe('planWaves', () => {
  it('puts a module after what it imports, and a cycle in one wave', () => {
    // 0 → 1 → 2 ⇄ 3
    const { wave } = planWaves([[1], [2], [3], [2]], all);
    expect([...wave]).toEqual([3, 2, 1, 1]);
  });

  it('leaves a shared foundation out (wave 0) and does not count imports of it', () => {
    // 0 is the foundation; 1 imports it; 2 imports 1 and it; the foundation imports 1 back.
    const skip = (id: number) => id === 0;
    const { wave } = planWaves([[1], [0], [1, 0]], all, skip);
    expect([...wave]).toEqual([0, 1, 2]);
  });

  it('a foundation in an import cycle with a module neither joins its wave nor holds it back', () => {
    // 0 (foundation) ⇄ 1, and 2 → 0 only.
    const skip = (id: number) => id === 0;
    const { wave, comp } = planWaves([[1], [0], [0]], all, skip);
    expect([...wave]).toEqual([0, 1, 1]);
    expect(comp[0]).not.toBe(comp[1]);
  });

  it('edges `keep` rejects (type-only imports) order nothing and make no cycle', () => {
    // 0 → 1 is kept, 1 → 0 is type-only: no cycle, 1 first.
    const keep = (a: number, b: number) => !(a === 1 && b === 0);
    const { wave, comp } = planWaves([[1], [0]], keep);
    expect([...wave]).toEqual([2, 1]);
    expect(comp[0]).not.toBe(comp[1]);
    // Only a type-only edge: both in wave 1.
    expect([...planWaves([[1], []], () => false).wave]).toEqual([1, 1]);
  });

  it('a module importing only foundations is in wave 1', () => {
    const skip = (id: number) => id === 0 || id === 1;
    const { wave } = planWaves([[], [0], [0, 1]], all, skip);
    expect([...wave]).toEqual([0, 0, 1]);
  });
});
