/**
 * `report progress` "Next candidates" lists the capabilities `plan` prints,
 * in its order (issue 31) — not the per-module list, whose empty `__init__`
 * packages with "0 lines of code" came first. A plan saved before
 * capabilities still shows its modules.
 */
import { describe, expect, it } from 'vitest';
import { planCandidates } from '../../control/progress.js';

const saved = {
  order: ['shop', 'shop.api', 'shop.orders.models'],
  modules: [
    { name: 'shop', wave: 0, rank: 1, reasons: ['0 lines of code'] },
    { name: 'shop.api', wave: 0, rank: 2, reasons: ['empty package'] },
    { name: 'shop.orders.models', wave: 1, rank: 3, reasons: ['models'] },
  ],
  candidates: [
    {
      name: 'shop.orders',
      rank: 1,
      modules: ['shop.orders', 'shop.orders.models'],
      reasons: ['owns its data'],
    },
    { name: 'shop.billing', rank: 2, modules: ['shop.billing'], reasons: ['serves 2 routes'] },
    { name: 'shop.search', rank: 3, modules: ['shop.search'], reasons: ['stateless'] },
  ],
};

describe('next candidates from a saved plan', () => {
  it('are the capabilities, in plan order', () => {
    expect(planCandidates(saved, new Set())).toEqual([
      { module: 'shop.orders', wave: null, rank: 1, reasons: ['owns its data'] },
      { module: 'shop.billing', wave: null, rank: 2, reasons: ['serves 2 routes'] },
      { module: 'shop.search', wave: null, rank: 3, reasons: ['stateless'] },
    ]);
  });

  it('skip a capability whose module a service already serves', () => {
    expect(planCandidates(saved, new Set(['shop.orders.models'])).map((c) => c.module)).toEqual([
      'shop.billing',
      'shop.search',
    ]);
  });

  it('fall back to the modules for a plan saved without capabilities', () => {
    const { candidates: _, ...old } = saved;
    expect(planCandidates(old, new Set()).map((c) => c.module)).toEqual([
      'shop',
      'shop.api',
      'shop.orders.models',
    ]);
  });
});
