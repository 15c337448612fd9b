import { describe, expect, it } from 'vitest';
import { feedbackArcs, shortestCycleThrough, stronglyConnected, witnessCycle } from '../../planner/cycles.js';
import { buildPlan } from '../../planner/plan.js';
import type { ImportKind, ModuleGraphInput } from '../../planner/types.js';

function graph(n: number, edges: Array<[number, number]>): number[][] {
  const out: number[][] = Array.from({ length: n }, () => []);
  for (const [a, b] of edges) out[a].push(b);
  return out;
}

/** True when no cycle is left after removing `cut`. */
function acyclicWithout(out: number[][], cut: Array<[number, number]>): boolean {
  const removed = new Set(cut.map(([a, b]) => `${a},${b}`));
  const { components } = stronglyConnected(out, (a, b) => !removed.has(`${a},${b}`));
  return components.every((c) => c.length === 1);
}

describe('strongly connected components (iterative Tarjan)', () => {
  it('finds the components, sinks first', () => {
    // 0 -> 1 -> 2 -> 0, 2 -> 3, 3 -> 4 -> 3, 5 alone
    const out = graph(6, [
      [0, 1],
      [1, 2],
      [2, 0],
      [2, 3],
      [3, 4],
      [4, 3],
    ]);
    const { components } = stronglyConnected(out);
    const sorted = components.map((c) => [...c].sort());
    expect(sorted).toContainEqual([0, 1, 2]);
    expect(sorted).toContainEqual([3, 4]);
    expect(sorted).toContainEqual([5]);
    expect(sorted.findIndex((c) => c.includes(3))).toBeLessThan(sorted.findIndex((c) => c.includes(0)));
  });

  it('walks a 200,000-module chain without overflowing the stack', () => {
    const n = 200_000;
    const out = Array.from({ length: n }, (_, i) => (i + 1 < n ? [i + 1] : [0]));
    const { components } = stronglyConnected(out);
    expect(components).toHaveLength(1);
    expect(components[0]).toHaveLength(n);
  });
});

describe('witness cycles', () => {
  it('returns one shortest cycle, not the long way round', () => {
    // a long ring 0..9 plus a shortcut 5 -> 0 making 0..5 a 6-cycle and 0 -> 9 -> 0 a 2-cycle
    const edges: Array<[number, number]> = [];
    for (let i = 0; i < 10; i++) edges.push([i, (i + 1) % 10]);
    edges.push([5, 0], [0, 9], [9, 0]);
    const out = graph(10, edges);
    const { comp, components } = stronglyConnected(out);
    expect(shortestCycleThrough(out, comp, 3)).toEqual([3, 4, 5, 0, 1, 2]);
    const names = Array.from({ length: 10 }, (_, i) => `m${i}`);
    expect(witnessCycle(out, comp, components[0], names)).toEqual([0, 9]);
  });
});

describe('weighted Eades–Lin–Smyth cuts', () => {
  it('breaks every cycle and prefers the cheap edge', () => {
    const out = graph(3, [
      [0, 1],
      [1, 2],
      [2, 0],
    ]);
    const { comp, components } = stronglyConnected(out);
    const costs: Record<string, number> = { '0,1': 5, '1,2': 5, '2,0': 0.01 };
    const cut = feedbackArcs(out, comp, components[0], (a, b) => costs[`${a},${b}`]);
    expect(cut).toEqual([[2, 0]]);
  });

  it('returns a minimal cut on a dense tangle: acyclic without it, cyclic if any cut edge is put back', () => {
    // deterministic pseudo-random graph with many cycles
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const n = 60;
    const edges: Array<[number, number]> = [];
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) if (a !== b && rnd() < 0.06) edges.push([a, b]);
    const out = graph(n, edges);
    const { comp, components } = stronglyConnected(out);
    const big = components.reduce((x, y) => (y.length > x.length ? y : x));
    expect(big.length).toBeGreaterThan(30);
    const cut = feedbackArcs(out, comp, big, () => 1);
    expect(cut.length).toBeGreaterThan(0);
    expect(acyclicWithout(out, cut)).toBe(true);
    for (let k = 0; k < cut.length; k++)
      expect(
        acyclicWithout(
          out,
          cut.filter((_, j) => j !== k),
        ),
        `cut edge ${cut[k]} is needed`,
      ).toBe(false);
  });
});

describe('cycles and cuts in a plan', () => {
  const mod = (name: string) => ({ name, file: `${name}.py`, loc: 10 });
  const imp = (from: string, to: string, kind: ImportKind, line: number) => ({
    from,
    to,
    kind,
    file: `${from}.py`,
    line,
  });
  const input: ModuleGraphInput = {
    root: 'fixture',
    modules: ['a', 'b', 'c', 'd'].map(mod),
    imports: [
      imp('a', 'b', 'top', 1),
      imp('a', 'b', 'top', 9),
      imp('b', 'c', 'top', 2),
      imp('c', 'a', 'type_checking', 3),
      imp('c', 'a', 'function', 30),
      imp('d', 'a', 'top', 4),
    ],
    problems: [],
  };
  const plan = buildPlan(input, { autoShared: false });

  it('shows each cycle once with a file:line witness', () => {
    expect(plan.cycles).toHaveLength(1);
    expect(plan.cycles[0].modules).toEqual(['a', 'b', 'c']);
    expect(plan.cycles[0].witness.map((w) => `${w.from}->${w.to} ${w.file}:${w.line}`)).toEqual([
      'a->b a.py:1',
      'b->c b.py:2',
      'c->a c.py:3',
    ]);
  });

  it('suggests the cheapest import lines to change, weighted by kind', () => {
    expect(plan.cuts).toHaveLength(1);
    expect(plan.cuts[0]).toMatchObject({ from: 'c', to: 'a', cost: 0.26 });
    expect(plan.cuts[0].imports.map((i) => `${i.file}:${i.line} ${i.kind}`)).toEqual([
      'c.py:3 type_checking',
      'c.py:30 function',
    ]);
  });

  it('keeps the cycle together in one wave and says so', () => {
    const waveOf = (n: string) => plan.modules.find((m) => m.name === n)!.wave;
    expect(waveOf('a')).toBe(waveOf('b'));
    expect(waveOf('b')).toBe(waveOf('c'));
    expect(waveOf('d')).toBe(waveOf('a') + 1);
    expect(plan.modules.find((m) => m.name === 'a')!.reasons.join('\n')).toMatch(
      /in an import cycle with b, c/,
    );
  });
});
