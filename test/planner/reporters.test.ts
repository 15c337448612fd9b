/**
 * Plan reporters are pure (plan, options) -> { output, exitCode }: pinned by
 * golden files. Regenerate after an intended change with
 * UPDATE_GOLDEN=1 npx vitest run test/planner/reporters.test.ts, and read the diff.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readGraphFile } from '../../planner/inputs.js';
import { buildPlan } from '../../planner/plan.js';
import { PLAN_REPORTERS } from '../../reports/plan/index.js';
import { expectGoldenIn } from '../helpers/golden.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/planner');
const input = readGraphFile(path.join(FIXTURES, 'graphs/shop.json'));
// A fixed root keeps the golden files independent of the checkout path.
const plan = buildPlan({ ...input, root: 'shop.json' }, { notes: ['no git history: graph input'] });

function golden(name: string, actual: string): void {
  expectGoldenIn(path.join(FIXTURES, 'golden'), name, actual);
}

describe('plan reporters', () => {
  for (const format of ['text', 'json', 'dot', 'mermaid'] as const) {
    it(`renders ${format} as in the golden file`, () => {
      const out = PLAN_REPORTERS[format](plan);
      expect(out.exitCode).toBe(0);
      golden(`shop.${format === 'mermaid' ? 'mmd' : format === 'text' ? 'txt' : format}`, out.output);
    });
  }

  it('json carries modules with wave, score and reasons, imports with kind/file/line, cycles, waves, cuts', () => {
    const json = JSON.parse(PLAN_REPORTERS.json(plan).output);
    expect(json.modules[0]).toEqual(
      expect.objectContaining({
        name: expect.any(String),
        file: expect.any(String),
        loc: expect.any(Number),
        wave: 1,
      }),
    );
    expect(json.modules[0].reasons.length).toBeGreaterThan(2);
    expect(json.imports[0]).toEqual(
      expect.objectContaining({ from: 'shop.cart', to: 'shop.catalog', kind: 'top', line: 1 }),
    );
    expect(json.cycles).toHaveLength(1);
    expect(json.cuts).toEqual([
      expect.objectContaining({ from: 'shop.payments', to: 'shop.orders', cost: 0.25 }),
    ]);
    expect(json.waves.map((w: { wave: number }) => w.wave)).toEqual([1, 2, 3, 4, 5]);
  });

  it('dot and mermaid draw the suggested cut dashed', () => {
    expect(PLAN_REPORTERS.dot(plan).output).toContain('"shop.payments" -> "shop.orders" [style=dashed');
    const mmd = PLAN_REPORTERS.mermaid(plan).output;
    const ids = new Map(plan.modules.map((m, i) => [m.name, `m${i}`]));
    expect(mmd).toContain(`${ids.get('shop.payments')} -. cut .-> ${ids.get('shop.orders')}`);
  });

  it('html is one self-contained page: capabilities drawn by wave, the module view folded in', () => {
    const html = PLAN_REPORTERS.html(plan, { now: new Date('2026-01-01T00:00:00Z') }).output;
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<svg');
    expect(html.match(/class="capability"/g)).toHaveLength(plan.candidates.length);
    expect(html).toContain('<summary>Suggested cuts (1)</summary>');
    expect(html).toContain('shop/payments.py: 40 (function)');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    for (const m of plan.modules) expect(html).toContain(m.name);
  });
});
