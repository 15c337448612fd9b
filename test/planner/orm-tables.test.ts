/**
 * Issue 31 (part A): tables from the symbols code references, per ORM, on
 * small trees modelled on the real code (test/fixtures/planner/orm/): nova's
 * module alias and data layer, buildbot's `master.db.<component>`, mailman's
 * `getUtility(IListManager)`, Tryton's `__name__` models and `Pool().get`,
 * Django's `Model.objects` through a module alias. Migrations of every tool
 * are left out; a table name built at run time is not a table.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makePlanWithCapabilities } from '../../planner/make-plan.js';
import { readModuleFacts } from '../../planner/python-facts.js';
import { scanPythonSource } from '../../planner/python-imports.js';
import { candidateSummary } from '../../reports/plan/text.js';
import type { Plan, PlanCandidate } from '../../reports/plan/types.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/planner/orm');

async function planOf(rel: string): Promise<Plan> {
  return (await makePlanWithCapabilities({ path: path.join(FIXTURES, rel), git: false })).plan;
}
const cap = (plan: Plan, name: string): PlanCandidate => {
  const c = plan.candidates.find((x) => x.name === name);
  if (!c) throw new Error(`${name} is not a candidate: ${plan.candidates.map((x) => x.name).join(', ')}`);
  return c;
};
/** Every table any candidate owns or uses. */
const allTables = (plan: Plan): Set<string> =>
  new Set(plan.candidates.flatMap((c) => [...c.tables.owns, ...c.tables.shares.map((s) => s.table)]));
const usedBy = (c: PlanCandidate): string[] =>
  c.tables.shares
    .filter((s) => s.owner !== c.name)
    .map((s) => s.table)
    .sort();
const dataLayers = (plan: Plan): string[] =>
  plan.libraries
    .filter((l) => l.dataLayer)
    .map((l) => l.name)
    .sort();

describe('SQLAlchemy declarative, as nova writes it', () => {
  it('a module alias touches only the models it reads: models.Quota is one table, not all four', async () => {
    const plan = await planOf('novalike/novalike');
    const quota = cap(plan, 'novalike.quota');
    expect(quota.tables.owns).toEqual(['quotas']);
    expect(usedBy(quota)).toEqual([]);
  });

  it('nova.db and nova.objects are the data layer; their tables go to the capabilities calling through them', async () => {
    const plan = await planOf('novalike/novalike');
    expect(dataLayers(plan)).toEqual(['novalike.db', 'novalike.objects']);
    expect(plan.candidates.map((c) => c.name)).not.toContain('novalike.db');
    expect(plan.candidates.map((c) => c.name)).not.toContain('novalike.objects');
    // compute reaches instances in two functions (objects.Instance.get_by_uuid -> db.instance_get_by_uuid
    // -> _instance_get_query -> models.Instance), the API in one: compute owns it, the API shares it.
    // A method named is followed alone (the API's get_by_uuid never reaches instance_faults); a class
    // used as a whole (objects.InstanceFault(...) then .create()) brings every table its methods reach.
    const compute = cap(plan, 'novalike.compute');
    expect(compute.tables.owns).toEqual(['instance_faults', 'instances']);
    expect(compute.reasons.join('\n')).toMatch(
      /owns 2 tables \(instance_faults, instances\), all via the data layer/,
    );
    expect(usedBy(cap(plan, 'novalike.api'))).toEqual(['instances']);
    // The data layer is not "one more user" of the table it wraps.
    expect(compute.tables.shares.find((s) => s.table === 'instances')?.with).toEqual(['novalike.api']);
    expect(cap(plan, 'novalike.scheduler').tables.owns).toEqual(['aggregates']);
    const text = plan.libraries.find((l) => l.name === 'novalike.db')!.reason;
    expect(text).toMatch(/^data layer — declares 4 tables/);
  });

  it('leaves out sqlalchemy-migrate and Alembic migrations, and names built at run time', async () => {
    const plan = await planOf('novalike/novalike');
    const tables = allTables(plan);
    for (const gone of ['instance_types', 'bw_usage_cache', 'shadow_', 'dump_'])
      expect(tables).not.toContain(gone);
    expect(plan.notes.join('\n')).toMatch(/left out: 6 migrations/);
    expect(plan.modules.map((m) => m.name).filter((m) => m.includes('migrat'))).toEqual([]);
  });
});

describe('buildbot: Table objects on Model, reached as master.db.<component>.<method>', () => {
  it('gives each component’s tables to the capabilities calling it', async () => {
    const plan = await planOf('bblike/bblike');
    expect(dataLayers(plan)).toEqual(['bblike.db']);
    expect(cap(plan, 'bblike.changes').tables.owns).toEqual(['change_files', 'changes']);
    expect(cap(plan, 'bblike.process').tables.owns).toEqual(['builds']);
    expect(usedBy(cap(plan, 'bblike.reporters'))).toEqual(['builds', 'change_files', 'changes']);
    expect(allTables(plan)).not.toContain('old_buildslaves'); // db/migrations/versions
  });
});

describe('mailman: models under model/, reached through zope utilities', () => {
  it('getUtility(IListManager) reaches the tables of the class implementing it', async () => {
    const plan = await planOf('mmlike/mmlike');
    expect(dataLayers(plan)).toEqual(['mmlike.model']);
    expect(cap(plan, 'mmlike.rest').tables.owns).toEqual(['mailinglist']);
    expect(cap(plan, 'mmlike.runners').tables.owns).toEqual(['address']);
    expect(usedBy(cap(plan, 'mmlike.app'))).toEqual(['address', 'mailinglist']);
    expect(allTables(plan)).not.toContain('onelastdigest_old'); // database/alembic/versions
  });
});

describe('Tryton: __name__ models', () => {
  it('declares model_name tables (or _table), not for views or extensions; Pool().get and Many2One are uses', async () => {
    const plan = await planOf('trylike/trylike');
    // User's bases hold a call (avatar_mixin(100, 'login')): still a ModelSQL.
    expect(cap(plan, 'trylike.res').tables.owns).toEqual(['res_user']);
    expect(cap(plan, 'trylike.ir').tables.owns).toEqual(['ir_language']);
    expect(cap(plan, 'trylike.party').tables.owns).toEqual(['party_party']);
    expect(cap(plan, 'trylike.sale').tables.owns).toEqual(['sale_sale']);
    expect(usedBy(cap(plan, 'trylike.sale'))).toEqual(['party_party']);
    // The protocol dispatcher names res_user in SQL and by Pool().get: a user, never its owner.
    expect(usedBy(cap(plan, 'trylike.protocols'))).toEqual(['res_user']);
    expect(usedBy(cap(plan, 'trylike.res'))).toEqual(['ir_language']);
    expect(allTables(plan)).not.toContain('res_user_config_start');
  });
});

describe('Django', () => {
  it('Model.objects through a module alias; db_table, default names, abstract and proxy models', async () => {
    const plan = await planOf('djlike');
    expect(cap(plan, 'shop').tables.owns).toEqual(['customers', 'shop_order']);
    expect(usedBy(cap(plan, 'billing'))).toEqual(['shop_order']);
    const tables = allTables(plan);
    for (const none of ['shop_stamped', 'shop_vipcustomer', 'shop_legacy'])
      expect(tables).not.toContain(none);
  });
});

describe('file facts', () => {
  const facts = (src: string) => readModuleFacts(src, scanPythonSource(src).strings);

  it('reads no table from a name completed at run time', () => {
    const f = facts(
      [
        "a = Table('%saggregates' % prefix, meta)",
        "b = Table('dump_' + name, meta)",
        "c = Table('{}_x'.format(p), meta)",
        "d = Table('real_one', meta)",
        'q1 = "INSERT INTO dump_" + name',
        'q2 = "SELECT * FROM aggregates%s" % suffix',
        'q3 = "SELECT * FROM {prefix}x".format(prefix=p)',
        'q4 = "DELETE FROM shadow_instances WHERE id = 1"',
      ].join('\n'),
    );
    expect(f.tables.map((t) => t.table)).toEqual(['real_one']);
    expect(f.sql.map((q) => q.table)).toEqual(['shadow_instances']);
    expect(f.orm?.tableVars.map((v) => `${v.name}=${v.table}`)).toEqual(['d=real_one']);
  });

  it('records what each top-level definition refers to, through aliases and its own helpers', () => {
    const src = [
      'from pkg.db import models',
      'from pkg.db.models import Order as O',
      '',
      'def _query(ctx):',
      '    return ctx.session.query(models.Instance)',
      '',
      'def get(ctx):',
      '    return _query(ctx), O.objects.all()',
      '',
      'class Connector:',
      '    def run(self):',
      '        return self.master.db.changes.getChange(1)',
    ].join('\n');
    const scan = scanPythonSource(src, { segments: new Set(['db']) });
    const scope = (name: string) => {
      const s = scan.scopes.get(name)!;
      return { refs: [...s.refs], calls: [...s.calls], chains: [...s.chains] };
    };
    expect(scope('_query')).toEqual({ refs: ['models.Instance'], calls: [], chains: [] });
    expect(scope('get')).toEqual({ refs: ['O.objects.all'], calls: ['_query'], chains: [] });
    expect(scope('Connector.run')).toEqual({ refs: [], calls: ['Connector.master'], chains: ['db.changes'] });
  });
});

describe('the "Extract first" summary', () => {
  it('counts the tables and routes left out in words, never as "+37" (which reads like a score)', async () => {
    const plan = await planOf('novalike/novalike');
    const c = { ...cap(plan, 'novalike.compute') };
    c.tables = { ...c.tables, owns: Array.from({ length: 40 }, (_, i) => `t${i}`) };
    c.routes = ['/a', '/b', '/c', '/d'];
    const text = candidateSummary(c);
    expect(text).toContain('owns t0, t1, t2 and 37 more tables');
    expect(text).toContain('serves /a, /b and 2 more routes');
    expect(text).not.toMatch(/\(\+\d+\)/);
  });
});
