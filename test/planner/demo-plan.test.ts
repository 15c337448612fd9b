/** The real demo monolith (examples/monolith): block goes first, for the seed migration's reasons (issue 14). */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makePlan } from '../../planner/make-plan.js';

const MONOLITH = path.resolve(import.meta.dirname, '../../examples/monolith');
const CONFIG = path.resolve(import.meta.dirname, '../../examples/strangler.yaml');

describe('the demo monolith plan', async () => {
  const plan = await makePlan({ path: MONOLITH, config: CONFIG, git: false });
  const block = plan.candidates.find((c) => c.name === 'monolith.block')!;
  const reasons = block.reasons.join('\n');

  it('scans the package with every feature module, seed data left out', () => {
    const names = plan.modules.map((m) => m.name);
    for (const mod of ['db', 'users', 'auth', 'block', 'feed', 'chat', 'i18n', 'app'])
      expect(names).toContain(`monolith.${mod}`);
    expect(names).not.toContain('monolith.seed');
    expect(plan.notes).toContain('left out: 1 fixture or seed module');
    expect(plan.imports.filter((i) => i.from === 'monolith.block').map((i) => i.to)).toEqual(['monolith.db']);
  });

  it('recommends block first', () => {
    expect(plan.candidates[0].name).toBe('monolith.block');
    expect(block.rank).toBe(1);
    expect(block.kind).toBe('capability');
  });

  it("gives the seed's reasons, each with its number", () => {
    // depended only on the database
    expect(reasons).toMatch(
      /depends on no other capability: only the shared library monolith\.db and its own tables \(\+1\.00\)/,
    );
    // had its own data
    expect(block.tables).toEqual({ owns: ['blocks'], shares: [] });
    expect(reasons).toMatch(
      /owns its data: 1 table \(blocks\) that no other capability or library reads or writes \(\+1\.50\)/,
    );
    // was called a lot: it has the route the proxy sends traffic through
    // ... and its extraction point (kind: function), the in-process calls the monolith makes to it
    expect(block.routes).toEqual(['GET,POST,DELETE /api/block/*', 'POST function /internal/block-check']);
    expect(reasons).toMatch(
      /serves 2 routes: \/api\/block\/\* \(route block\), function \/internal\/block-check \(route block-check\) \(\+1\.00\)/,
    );
    // was simple
    expect(reasons).toMatch(/size: \d+ lines in 1 module \(-0\.\d\d\)/);
    // if it failed, nothing serious broke: its route fails over to legacy
    expect(reasons).toMatch(/blast radius: .*its routes fail over to legacy \(-\d\.\d\d\)/);
    // being imported is a cost, shown as one
    expect(reasons).toMatch(
      /imported by 3 units \(monolith\.app, monolith\.chat, monolith\.feed\) at \d+ call sites: each must switch to calling the service \(-0\.\d\d\)/,
    );
    for (const r of block.reasons) expect(r).toMatch(/\([+-]\d+\.\d\d\)$/);
  });

  it('sets the database layer aside as a shared library, never a candidate', () => {
    expect(plan.candidates.map((c) => c.name)).not.toContain('monolith.db');
    const db = plan.libraries.find((l) => l.name === 'monolith.db')!;
    expect(db.reason).toMatch(
      /^shared library — copy or package it, don't extract it: database layer: holds the schema of 6 tables/,
    );
    expect(db.importers).toHaveLength(8);
  });

  it('names the table shared between users, auth and the database layer as the blocker', () => {
    const users = plan.candidates.find((c) => c.name === 'monolith.users')!;
    expect(users.tables.shares).toEqual([
      { table: 'users', owner: 'monolith.users', with: ['monolith.auth', 'monolith.db'] },
    ]);
    const auth = plan.candidates.find((c) => c.name === 'monolith.auth')!;
    expect(auth.reasons.join('\n')).toMatch(
      /uses 1 table of other capabilities: users \(monolith\.users\); blocker/,
    );
  });

  it('ranks the composition root (app imports every feature) last', () => {
    expect(plan.candidates[plan.candidates.length - 1].name).toBe('monolith.app');
  });
});
