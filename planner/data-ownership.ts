/**
 * Data ownership: which unit defines which tables, and which other units
 * read or write them. Tables come from Django models (`Meta.db_table`, else
 * Django's default `app_label_modelname`), SQLAlchemy (`__tablename__`,
 * `Table('name', ...)`) and raw SQL in string literals. A unit touches a table
 * by importing its model class (or the whole models module) or by naming it
 * in SQL. A table nobody else touches lets its owner go; a shared one is the
 * blocker to solve first.
 */
import type { Unit } from './capability-units.js';
import type { ModuleFacts } from './python-facts.js';
import type { ImportRecord } from './types.js';

export interface TableUse {
  reads: number;
  writes: number;
}

export interface DataOwnership {
  /** Table -> owning unit name. */
  owner: Map<string, string>;
  /** Unit name -> table -> its uses (reads/writes), owner included. */
  touches: Map<string, Map<string, TableUse>>;
  /** Unit name -> tables it creates with raw `CREATE TABLE` (a schema holder when it owns none of them). */
  creates: Map<string, Set<string>>;
  /** Unit name -> tables declared by its models or Table() calls. */
  declares: Map<string, Set<string>>;
  /** Table -> declaring unit (models, Table()): ownership that SQL never changes. */
  declared: Map<string, string>;
  /** Table named only in SQL -> unit -> writes × 3 + reads. */
  sqlScore: Map<string, Map<string, number>>;
}

const lastName = (dotted: string): string => dotted.slice(dotted.lastIndexOf('.') + 1);
const isModelsModule = (name: string): boolean => name.split('.').includes('models');

export function findDataOwnership(
  facts: ReadonlyMap<string, ModuleFacts>,
  imports: ImportRecord[],
  unitOf: ReadonlyMap<string, Unit>,
  /** Package modules (`__init__.py`): their imports of their own submodules are a façade, not a use. */
  packages: ReadonlySet<string>,
  /** Units that may not own a table found only in SQL (shared libraries: the database layer). */
  notOwner: (unit: string) => boolean = () => false,
): DataOwnership {
  const touches = new Map<string, Map<string, TableUse>>();
  const touch = (unit: string, table: string, write: boolean): void => {
    let t = touches.get(unit);
    if (!t) {
      t = new Map();
      touches.set(unit, t);
    }
    const use = t.get(table) ?? { reads: 0, writes: 0 };
    if (write) use.writes++;
    else use.reads++;
    t.set(table, use);
  };
  const addTo = (map: Map<string, Set<string>>, unit: string, table: string): void => {
    const set = map.get(unit) ?? new Set<string>();
    set.add(table);
    map.set(unit, set);
  };

  // --- model classes: a class is a model when a base is `Model` (models.Model,
  // db.Model), a known model of the tree, or — inside a models module — a
  // class named *Model from a library (TimeStampedModel, MPTTModel).
  const classes: Array<{
    module: string;
    name: string;
    bases: string[];
    fact: ModuleFacts['classes'][number];
  }> = [];
  for (const [module, f] of facts)
    for (const c of f.classes) classes.push({ module, name: c.name, bases: c.bases.map(lastName), fact: c });
  const modelNames = new Set<string>();
  const isModel = new Array<boolean>(classes.length).fill(false);
  for (let pass = 0, changed = true; changed && pass < 8; pass++) {
    changed = false;
    classes.forEach((c, i) => {
      if (isModel[i]) return;
      const yes =
        c.fact.sqlalchemy ||
        c.bases.some(
          (b) =>
            b === 'Model' ||
            modelNames.has(b) ||
            (isModelsModule(c.module) && b.endsWith('Model') && b.length > 5),
        );
      if (yes) {
        isModel[i] = true;
        modelNames.add(c.name);
        changed = true;
      }
    });
  }
  const owner = new Map<string, string>();
  const declares = new Map<string, Set<string>>();
  /** `module:Class` -> table, for imports of a model class. */
  const classTable = new Map<string, string>();
  const tablesOfModule = new Map<string, string[]>();
  classes.forEach((c, i) => {
    if (!isModel[i] || c.fact.abstract || c.fact.proxy) return;
    const unit = unitOf.get(c.module);
    if (!unit) return;
    let table = c.fact.table;
    if (table === null) {
      if (c.fact.sqlalchemy || !isModelsModule(c.module)) return; // no literal name, or not a Django model
      const parts = c.module.split('.');
      const appPkg = parts.slice(0, parts.indexOf('models')).join('.');
      const label =
        c.fact.appLabel ??
        (unit.source === 'django-app' && unit.name === appPkg ? unit.appLabel : null) ??
        lastName(appPkg);
      table = `${label}_${c.name.toLowerCase()}`;
    }
    if (!owner.has(table)) owner.set(table, unit.name);
    addTo(declares, unit.name, table);
    classTable.set(`${c.module}:${c.name}`, table);
    const list = tablesOfModule.get(c.module) ?? [];
    list.push(table);
    tablesOfModule.set(c.module, list);
  });
  for (const [module, f] of facts) {
    const unit = unitOf.get(module);
    if (!unit) continue;
    for (const t of f.tables) {
      if (!owner.has(t.table)) owner.set(t.table, unit.name);
      addTo(declares, unit.name, t.table);
    }
  }

  // --- uses through imports of model classes (or of a whole models module)
  const byClassName = new Map<string, Array<[string, string]>>();
  for (const [key, table] of classTable) {
    const [module, cls] = key.split(':');
    const list = byClassName.get(cls) ?? [];
    list.push([module, table]);
    byClassName.set(cls, list);
  }
  for (const [module, f] of facts) {
    const unit = unitOf.get(module);
    if (!unit || !f.symbols) continue;
    for (const [to, symbol] of f.symbols) {
      if (packages.has(module) && to.startsWith(`${module}.`)) continue;
      // A models package re-exports its submodules' classes: look under it too.
      const hit = (byClassName.get(symbol) ?? []).find(([m]) => m === to || m.startsWith(`${to}.`));
      if (hit) touch(unit.name, hit[1], false);
    }
  }
  const symbolTargets = new Map<string, Set<string>>();
  for (const [module, f] of facts)
    if (f.symbols) symbolTargets.set(module, new Set(f.symbols.map(([to]) => to)));
  for (const imp of imports) {
    const tables = tablesOfModule.get(imp.to);
    if (!tables || imp.kind === 'type_checking' || symbolTargets.get(imp.from)?.has(imp.to)) continue;
    if (packages.has(imp.from) && imp.to.startsWith(`${imp.from}.`)) continue;
    const unit = unitOf.get(imp.from);
    if (unit) for (const t of tables) touch(unit.name, t, false);
  }

  // --- relations by string: ForeignKey('shop.Order') uses shop's Order table
  const byLabelAndClass = new Map<string, string>();
  classes.forEach((c, i) => {
    const table = classTable.get(`${c.module}:${c.name}`);
    if (!isModel[i] || !table) return;
    const parts = c.module.split('.');
    const appPkg = parts.slice(0, Math.max(1, parts.indexOf('models'))).join('.');
    const label = c.fact.appLabel ?? unitOf.get(c.module)?.appLabel ?? lastName(appPkg);
    byLabelAndClass.set(`${label}.${c.name}`, table);
  });
  for (const [module, f] of facts) {
    const unit = unitOf.get(module);
    if (!unit) continue;
    for (const [label, model] of f.relations) {
      const table = byLabelAndClass.get(`${label}.${model}`);
      if (table) touch(unit.name, table, false);
    }
  }

  // --- raw SQL
  const creates = new Map<string, Set<string>>();
  const sqlScore = new Map<string, Map<string, number>>();
  for (const [module, f] of facts) {
    const unit = unitOf.get(module);
    if (!unit) continue;
    for (const q of f.sql) {
      if (q.create) {
        addTo(creates, unit.name, q.table);
        continue;
      }
      touch(unit.name, q.table, q.write);
      const per = sqlScore.get(q.table) ?? new Map<string, number>();
      per.set(unit.name, (per.get(unit.name) ?? 0) + (q.write ? 3 : 1));
      sqlScore.set(q.table, per);
    }
  }
  const declared = new Map(owner);
  return withSqlOwners({ owner, touches, creates, declares, declared, sqlScore }, notOwner);
}

/**
 * A table only named in SQL belongs to the unit writing it most (reads break
 * ties); the unit creating it owns it only when nobody else uses it. Units
 * for which `notOwner` is true (libraries) never own one. Cheap to redo once
 * libraries are known: the uses are not collected again.
 */
export function withSqlOwners(data: DataOwnership, notOwner: (unit: string) => boolean): DataOwnership {
  const owner = new Map(data.declared);
  for (const [table, per] of data.sqlScore) {
    if (owner.has(table)) continue;
    const best = [...per]
      .filter(([u]) => !notOwner(u))
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    if (best) owner.set(table, best[0]);
  }
  for (const [unit, tables] of data.creates)
    for (const t of tables) if (!owner.has(t) && !notOwner(unit)) owner.set(t, unit);
  return { ...data, owner };
}
