/**
 * Issue 31 (part A) end to end on real monoliths we did not write: Debian's
 * python3-nova, buildbot, tryton-server and mailman3 (.ci/run installs them;
 * this test installs nothing). Each plan is checked against facts read from
 * the source by hand: which package is the data layer, who owns a table,
 * what only migrations create. Outside CI a missing package skips its test;
 * under CI=true it fails.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makePlanWithCapabilities } from '../../planner/make-plan.js';
import type { Plan } from '../../reports/plan/types.js';

const DIST = '/usr/lib/python3/dist-packages';

function present(pkg: string, debian: string): boolean {
  if (existsSync(path.join(DIST, pkg, '__init__.py'))) return true;
  const msg = `${pkg} source absent at ${DIST}/${pkg}: run apt-get install -y ${debian}`;
  if (process.env.CI === 'true') throw new Error(msg);
  console.warn(`SKIPPED ${pkg} data test: ${msg}`);
  return false;
}

async function planOf(pkg: string): Promise<Plan> {
  return (await makePlanWithCapabilities({ path: path.join(DIST, pkg), git: false })).plan;
}
const ownerOf = (plan: Plan, table: string): string | undefined =>
  plan.candidates.find((c) => c.tables.owns.includes(table))?.name;
const layers = (plan: Plan): string[] =>
  plan.libraries
    .filter((l) => l.dataLayer)
    .map((l) => l.name)
    .sort();
const everyTable = (plan: Plan): Set<string> =>
  new Set(plan.candidates.flatMap((c) => [...c.tables.owns, ...c.tables.shares.map((s) => s.table)]));

describe.skipIf(!present('nova', 'python3-nova'))('python3-nova', () => {
  it('nova.db and nova.objects are the data layer; migrations and run-time names are no tables', async () => {
    const plan = await planOf('nova');
    expect(layers(plan)).toEqual(['nova.db', 'nova.objects']);
    const names = plan.candidates.map((c) => c.name);
    expect(names).not.toContain('nova.db');
    expect(names).not.toContain('nova.objects');
    // nova/db/main/api.py: `_SHADOW_TABLE_PREFIX = 'shadow_'` + name; legacy_migrations/ (sqlalchemy-migrate).
    expect(everyTable(plan)).not.toContain('shadow_');
    expect(plan.modules.some((m) => m.name.includes('legacy_migrations'))).toBe(false);
    // Instances are created by the API (objects.Instance.create) and run by compute: owned, not "nova.db's".
    expect(['nova.api', 'nova.compute']).toContain(ownerOf(plan, 'instances'));
    // Aggregates are read by the scheduler's filters (objects.AggregateList) and the API.
    expect(['nova.api', 'nova.scheduler', 'nova.compute']).toContain(ownerOf(plan, 'aggregates'));
    // nova/quota.py is the quota engine (objects.Quotas, db.quota_*): the quota tables are its own.
    const quota = plan.candidates.find((c) => c.name === 'nova.quota')!;
    expect(quota.tables.owns).toContain('quotas');
    for (const t of quota.tables.owns) expect(t).toMatch(/quota/);
    // The shared-table term is bounded: no nova.db −21.50.
    for (const c of plan.candidates) expect(c.score).toBeGreaterThanOrEqual(-13);
  }, 60_000);
});

describe.skipIf(!present('buildbot', 'buildbot'))('buildbot', () => {
  it('buildbot.db is the data layer; master.db.<component> gives its tables to the callers', async () => {
    const plan = await planOf('buildbot');
    expect(layers(plan)).toEqual(['buildbot.db']);
    expect(plan.candidates.map((c) => c.name)).not.toContain('buildbot.db');
    // buildbot/db/model.py: `changes = sautils.Table("changes", ...)`, reached via db/changes.py.
    expect(ownerOf(plan, 'changes')).toBeDefined();
    expect(ownerOf(plan, 'changes')).not.toBe('buildbot.db');
    // buildbot/changes/*.py keep their state through master.db.state (object_state, objects).
    expect(ownerOf(plan, 'object_state')).toBe('buildbot.changes');
    // db/migrate_utils.py's probe table is a function's local, and db/migrations/ is left out.
    expect(everyTable(plan)).not.toContain('test_unicode');
    expect(plan.modules.some((m) => m.name.startsWith('buildbot.db.migrations'))).toBe(false);
  }, 60_000);
});

describe.skipIf(!present('trytond', 'tryton-server'))('tryton-server', () => {
  it('reads __name__ models: res_user is trytond.res’s, not the protocol dispatcher’s', async () => {
    const plan = await planOf('trytond');
    // trytond/res/user.py: class User(avatar_mixin(100, 'login'), DeactivableMixin, ModelSQL, ModelView): __name__ = "res.user"
    expect(ownerOf(plan, 'res_user')).toBe('trytond.res');
    expect(ownerOf(plan, 'ir_lang')).toBe('trytond.ir');
    expect(ownerOf(plan, 'ir_cron')).toBe('trytond.ir');
    const protocols = plan.candidates.find((c) => c.name === 'trytond.protocols')!;
    expect(protocols.tables.owns).toEqual([]);
    // A wizard step (ModelView only) has no table.
    expect(everyTable(plan)).not.toContain('res_user_config_start');
  }, 60_000);
});

describe.skipIf(!present('mailman', 'mailman3'))('mailman3', () => {
  it('mailman.model is the data layer; getUtility(...) callers own its tables', async () => {
    const plan = await planOf('mailman');
    expect(layers(plan)).toEqual(['mailman.model']);
    expect(plan.candidates.map((c) => c.name)).not.toContain('mailman.model');
    // mailman/model/mailinglist.py: __tablename__ = 'mailinglist'; used through IListManager.
    expect(ownerOf(plan, 'mailinglist')).toBeDefined();
    // database/alembic/versions/ is left out.
    expect(plan.modules.some((m) => m.name.includes('alembic'))).toBe(false);
  }, 60_000);
});
