import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../planner/plan.js';
import type { ImportKind, ModuleGraphInput } from '../../planner/types.js';

const mod = (name: string, loc = 10) => ({ name, file: `${name.replace(/\./g, '/')}.py`, loc });
const imp = (from: string, to: string, kind: ImportKind = 'top') => ({
  from,
  to,
  kind,
  file: `${from}.py`,
  line: 1,
});

describe('waves', () => {
  it('wave 1 imports no internal module, wave k only earlier waves', () => {
    const input: ModuleGraphInput = {
      root: 'fixture',
      modules: ['leaf1', 'leaf2', 'mid', 'top', 'solo'].map((n) => mod(n)),
      imports: [imp('mid', 'leaf1'), imp('top', 'mid'), imp('top', 'leaf2')],
      problems: [],
    };
    const plan = buildPlan(input, { autoShared: false });
    expect(plan.waves).toEqual([
      { wave: 1, modules: expect.arrayContaining(['leaf1', 'leaf2', 'solo']) },
      { wave: 2, modules: ['mid'] },
      { wave: 3, modules: ['top'] },
    ]);
    for (const m of plan.modules) {
      const deps = plan.imports
        .filter((i) => i.from === m.name)
        .map((i) => plan.modules.find((x) => x.name === i.to)!);
      for (const d of deps) expect(d.wave).toBeLessThan(m.wave);
    }
  });

  it('type-only imports do not hold a module back', () => {
    const input: ModuleGraphInput = {
      root: 'fixture',
      modules: ['a', 'b'].map((n) => mod(n)),
      imports: [imp('a', 'b', 'type_checking')],
      problems: [],
    };
    const plan = buildPlan(input, { autoShared: false });
    expect(plan.modules.map((m) => m.wave)).toEqual([1, 1]);
  });

  it('orders a wave by score with reasons: being imported is a cost, never a bonus (issue 14)', () => {
    const input: ModuleGraphInput = {
      root: 'fixture',
      modules: [mod('big', 900), mod('popular', 50), mod('c1'), mod('c2'), mod('c3')],
      imports: [imp('c1', 'popular'), imp('c2', 'popular'), imp('c3', 'popular'), imp('c1', 'big')],
      problems: [],
    };
    const plan = buildPlan(input, { autoShared: false });
    const popular = plan.modules.find((m) => m.name === 'popular')!;
    const big = plan.modules.find((m) => m.name === 'big')!;
    expect(popular.wave).toBe(big.wave);
    expect(popular.score).toBeLessThan(big.score);
    expect(plan.order.indexOf('big')).toBeLessThan(plan.order.indexOf('popular'));
    expect(popular.reasons.join('\n')).toMatch(
      /many callers: 3 modules \(c1, c2, c3\), each a call site to switch to the service \(-/,
    );
    expect(popular.reasons).toContain('no traffic data');
  });

  it('uses traffic from the store when given, per route module', () => {
    const input: ModuleGraphInput = {
      root: 'fixture',
      modules: [mod('pkg.quiet'), mod('pkg.busy'), mod('pkg.app')],
      imports: [imp('pkg.app', 'pkg.quiet'), imp('pkg.app', 'pkg.busy')],
      problems: [],
    };
    const plan = buildPlan(input, {
      autoShared: false,
      routes: [{ id: 'busy', module: 'busy', path: '/busy/*', failover: true }],
      traffic: new Map([['busy', 5000]]),
    });
    const busy = plan.modules.find((m) => m.name === 'pkg.busy')!;
    expect(plan.order[0]).toBe('pkg.busy');
    expect(busy.traffic).toBe(5000);
    expect(busy.reasons.join('\n')).toMatch(/traffic: 5000 requests/);
    expect(busy.reasons.join('\n')).toMatch(/harmless if it fails: its route fails over to legacy/);
    expect(plan.notes).not.toContain('no traffic data');
  });
});
