/** The real demo monolith (examples/monolith): block goes first, for the story's reasons. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makePlan } from '../../planner/make-plan.js';

const MONOLITH = path.resolve(import.meta.dirname, '../../examples/monolith');
const CONFIG = path.resolve(import.meta.dirname, '../../examples/strangler.yaml');

describe('the demo monolith plan', async () => {
  const plan = await makePlan({ path: MONOLITH, config: existsSync(CONFIG) ? CONFIG : undefined });
  const block = plan.modules.find((m) => m.name === 'monolith.block')!;

  it('scans the package with every feature module', () => {
    const names = plan.modules.map((m) => m.name);
    for (const mod of ['db', 'users', 'auth', 'block', 'feed', 'chat', 'i18n', 'app'])
      expect(names).toContain(`monolith.${mod}`);
    expect(plan.imports.filter((i) => i.from === 'monolith.block').map((i) => i.to)).toEqual(['monolith.db']);
  });

  it('puts block in the first wave and recommends it first', () => {
    expect(block.wave).toBe(1);
    expect(plan.waves[0].modules).toContain('monolith.block');
    expect(plan.order[0]).toBe('monolith.block');
    expect(block.rank).toBe(1);
  });

  it('gives the reasons: few dependencies, many callers, harmless', () => {
    const text = block.reasons.join('\n');
    expect(text).toMatch(/few dependencies: imports only the shared monolith\.db/);
    expect(text).toMatch(
      /many callers: \d+ references from 3 modules \(monolith\.app, monolith\.chat, monolith\.feed\)/,
    );
    expect(text).toMatch(/harmless if it fails/);
  });

  it('sets the database aside as the shared foundation that moves last', () => {
    const db = plan.modules.find((m) => m.name === 'monolith.db')!;
    expect(db.shared).toBe(true);
    expect(plan.waves[plan.waves.length - 1]).toMatchObject({ shared: true, modules: ['monolith.db'] });
  });

  it.skipIf(!existsSync(CONFIG))("names the routes block would take over from the config's module:", () => {
    expect(block.routes).toEqual(['block', 'block-check']); // the HTTP route and the extraction point (kind: function) of monolith.block
    expect(block.reasons.join('\n')).toMatch(
      /takes over routes: block \(\/api\/block\/\*\), block-check \(function \/internal\/block-check\)/,
    );
    expect(plan.notes.some((n) => n.startsWith('no traffic data'))).toBe(true);
  });
});
