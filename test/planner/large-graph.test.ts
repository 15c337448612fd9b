/** A big JSON graph plans completely (the bench times 100,000 modules; this stays smaller and asserts no time). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readGraphFile } from '../../planner/inputs.js';
import { buildPlan } from '../../planner/plan.js';
import { layeredGraph } from '../../bench/planner-synthetic.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'strangler-plan-big-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('a 20,000-module graph', () => {
  const file = path.join(tmp, 'graph.json');
  const spec = layeredGraph({ modules: 20_000, layers: 40, importsPerModule: 4, cycles: 50, seed: 3 });
  writeFileSync(file, JSON.stringify(spec));
  const plan = buildPlan(readGraphFile(file), { autoShared: false });

  it('places every module in a wave that comes after all of its runtime imports', () => {
    expect(plan.modules).toHaveLength(20_000);
    const waveOf = new Map(plan.modules.map((m) => [m.name, m.wave]));
    const inCycle = new Map(plan.modules.map((m) => [m.name, m.cycle]));
    const misplaced = plan.imports.filter((imp) =>
      inCycle.get(imp.from) != null && inCycle.get(imp.from) === inCycle.get(imp.to)
        ? waveOf.get(imp.from) !== waveOf.get(imp.to)
        : waveOf.get(imp.from)! <= waveOf.get(imp.to)!,
    );
    expect(plan.imports.length).toBeGreaterThan(50_000);
    expect(misplaced).toEqual([]);
  });

  it('finds the planted cycles and cuts that break each of them', () => {
    expect(plan.cycles.length).toBe(50);
    const cut = new Set(plan.cuts.map((c) => `${c.from}>${c.to}`));
    for (const c of plan.cycles) expect(c.witness.some((w) => cut.has(`${w.from}>${w.to}`))).toBe(true);
  });
});
