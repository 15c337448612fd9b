/**
 * Data ownership: which unit defines which tables, and which other units
 * read or write them. Tables come from Django models (`Meta.db_table`, else
 * Django's default `app_label_modelname`), SQLAlchemy (`__tablename__`,
 * `Table('name', ...)`), Tryton-style models (`__name__ = 'res.user'` ->
 * `res_user`) and raw SQL in string literals. A unit touches a table by
 * referencing its model class or `Table` object (planner/table-references.ts:
 * `models.Aggregate` touches one table, not every table of `models`), by a
 * model name in a string (`Pool().get('res.user')`), or by naming it in SQL.
 *
 * A **data layer** (a unit declaring most tables that several others reach
 * through) does not own them: each of its tables belongs to the capability
 * using it most through the layer ("via the data layer"), and is shared with
 * the other capabilities using it. A table nobody else touches lets its owner
 * go; a shared one is the blocker to solve first.
 */
import type { Unit } from './capability-units.js';
import { trytonTable } from './orm-tables.js';
import { isSystemTable, type ModuleFacts } from './python-facts.js';
import { DataLayerReach, firstSegment, scopeUses, type TableIndex, tableOfName } from './table-references.js';
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
  /** Data-layer units -> the tables they declare (see the file comment). */
  dataLayers: Map<string, Set<string>>;
  /** Unit -> tables it reaches only through a data layer. */
  via: Map<string, Set<string>>;
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
  const touch = (unit: string, table: string, write: boolean, times = 1): void => {
    let t = touches.get(unit);
    if (!t) {
      t = new Map();
      touches.set(unit, t);
    }
    const use = t.get(table) ?? { reads: 0, writes: 0 };
    if (write) use.writes += times;
    else use.reads += times;
    t.set(table, use);
  };
  const { owner, declares, index, tablesOfModule } = declaredTables(facts, unitOf);
  const uses = scopeUses(facts, index);

  // --- uses by reference: model classes, Table objects, model names
  const referenced = new Map<string, Set<string>>(); // module -> modules its references name
  for (const [module, per] of uses) {
    const unit = unitOf.get(module);
    if (!unit) continue;
    // `from .models import Order` in a package's __init__: a re-export, not a use.
    const reexported = new Set<string>();
    for (const [, use] of per)
      for (const n of use.names)
        if (isOwnSubmodule(module, n.slice(0, n.indexOf(':')), packages)) {
          const t = tableOfName(index, n);
          if (t !== null) reexported.add(t);
        }
    // Each definition referring to a table counts once: the unit using it most owns a data layer's table.
    for (const [, use] of per) for (const t of use.tables) if (!reexported.has(t)) touch(unit.name, t, false);
  }
  for (const [module, f] of facts) {
    const set = new Set<string>();
    for (const r of f.refs ?? []) for (const n of r.names) set.add(n.slice(0, n.indexOf(':')));
    for (const [to] of f.symbols ?? []) set.add(to);
    referenced.set(module, set);
  }
  // An import that binds no name the file reads (`from m import *`, `import a.models`)
  // can only be counted whole: every table of the imported models module.
  for (const imp of imports) {
    const tables = tablesOfModule.get(imp.to);
    if (!tables || imp.kind === 'type_checking' || referenced.get(imp.from)?.has(imp.to)) continue;
    if (isOwnSubmodule(imp.from, imp.to, packages)) continue;
    const unit = unitOf.get(imp.from);
    if (unit) for (const t of tables) touch(unit.name, t, false);
  }

  // --- relations by string: ForeignKey('shop.Order') uses shop's Order table
  for (const [module, f] of facts) {
    const unit = unitOf.get(module);
    if (!unit) continue;
    for (const [label, model] of f.relations) {
      const table = index.labelled.get(`${label}.${model}`);
      if (table) touch(unit.name, table, false);
    }
  }

  // --- Tryton extensions: `class Party(metaclass=PoolMeta): __name__ = 'party.party'` uses party's table
  for (const [module, f] of facts) {
    const unit = unitOf.get(module);
    if (!unit) continue;
    for (const n of f.orm?.named ?? []) {
      const table = index.models.get(n.model);
      if (table !== undefined && owner.get(table) !== unit.name) touch(unit.name, table, false);
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
  const base = new Map([...touches].map(([u, t]) => [u, new Map([...t].map(([k, v]) => [k, { ...v }]))]));
  const implementers = new Map<string, Array<[string, string]>>();
  for (const [module, f] of facts)
    for (const i of f.orm?.implementers ?? [])
      for (const name of i.interfaces)
        implementers.set(name, [...(implementers.get(name) ?? []), [module, i.cls]]);
  const layers = findDataLayers(declares, touches, unitOf, uses, implementers);
  let via =
    layers.size > 0
      ? reachThroughLayers(uses, index.symbols, implementers, unitOf, layers, touch)
      : new Map<string, Set<string>>();
  // A second layer wrapping the first (nova.objects over nova.db): most of the
  // layer's tables reached, and called by several units. Followed too.
  const layerTables = new Set([...layers.values()].flatMap((t) => [...t]));
  const callers = callersOf(uses, unitOf);
  const wrappers = [...touches]
    .filter(() => layerTables.size > 0)
    .filter(
      ([u, t]) =>
        !layers.has(u) &&
        DATA_LAYER_NAME.test(u) &&
        [...t.keys()].filter((x) => layerTables.has(x)).length >= LAYER_TABLE_SHARE * layerTables.size &&
        (callers.get(u)?.size ?? 0) >= LAYER_WRAPPER_CALLERS,
    )
    .map(([u]) => u);
  if (wrappers.length > 0) {
    for (const w of wrappers) layers.set(w, new Set());
    touches.clear();
    for (const [u, t] of base) touches.set(u, t);
    via = reachThroughLayers(uses, index.symbols, implementers, unitOf, layers, touch);
  }
  if (layers.size > 0) giveLayerTablesToUsers(owner, touches, layers);
  const declared = new Map(owner);
  return withSqlOwners(
    { owner, touches, creates, declares, declared, sqlScore, dataLayers: layers, via },
    notOwner,
  );
}

const addTo = (map: Map<string, Set<string>>, unit: string, table: string): void => {
  const set = map.get(unit) ?? new Set<string>();
  set.add(table);
  map.set(unit, set);
};

/** A package's `__init__` naming its own submodules: packaging (a façade), not a use. */
const isOwnSubmodule = (from: string, to: string, packages: ReadonlySet<string>): boolean =>
  packages.has(from) && to.startsWith(`${from}.`);

/**
 * Tables each unit outside the layers reaches through them (calls into a
 * layer's functions and classes, chains to its components), added to `touch`;
 * returns those it did not reference directly.
 */
function reachThroughLayers(
  uses: ReturnType<typeof scopeUses>,
  tableSymbols: ReadonlyMap<string, string>,
  implementers: ReadonlyMap<string, Array<[string, string]>>,
  unitOf: ReadonlyMap<string, Unit>,
  layers: ReadonlyMap<string, Set<string>>,
  touch: (unit: string, table: string, write: boolean, times?: number) => void,
): Map<string, Set<string>> {
  const layerModules = new Set([...unitOf].filter(([, u]) => layers.has(u.name)).map(([m]) => m));
  const reach = new DataLayerReach(uses, layerModules, implementers, tableSymbols);
  const reachedBy = new Map<string, Set<string>>();
  for (const [module, per] of uses) {
    const unit = unitOf.get(module);
    if (!unit || layers.has(unit.name)) continue;
    for (const [, use] of per) {
      const direct = new Set(use.tables);
      const reached = new Set<string>();
      for (const n of use.names) for (const t of reach.ofName(n)) reached.add(t);
      for (const c of use.chains) for (const t of reach.ofChain(c)) reached.add(t);
      // Each calling definition counts once per table it reaches.
      for (const t of reached)
        if (!direct.has(t)) {
          addTo(reachedBy, unit.name, t);
          touch(unit.name, t, false);
        }
    }
  }
  return reachedBy;
}

/** Unit -> the other units referring to names of its modules. */
function callersOf(
  uses: ReturnType<typeof scopeUses>,
  unitOf: ReadonlyMap<string, Unit>,
): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [module, per] of uses) {
    const from = unitOf.get(module)?.name;
    if (!from) continue;
    for (const [, use] of per)
      for (const n of use.names) {
        const to = unitOf.get(n.slice(0, n.indexOf(':')))?.name;
        if (to && to !== from) addTo(out, to, from);
      }
  }
  return out;
}

/**
 * What data layers are called (`nova.db`, `nova.objects`, `buildbot.db`,
 * `mailman.model`, a `repositories` package): a package of models holding
 * business logic too (Tryton's `ir`) is the capability owning its tables.
 */
const DATA_LAYER_NAME =
  /(^|[.:])(db|database|databases|model|models|objects|dao|daos|repository|repositories|repos?|persistence|storage|store|orm|entities|schema)$/;

/** Units that must call into a unit wrapping a data layer for it to be a data layer too. */
const LAYER_WRAPPER_CALLERS = 3;

/** Share of the tree's declared tables a unit must declare to be a data layer. */
const LAYER_TABLE_SHARE = 0.5;
/** Other units that must reach its tables for it to be a data layer. */
const LAYER_MIN_USERS = 2;

/**
 * Data layers: a unit declaring at least half of the tables (and at least
 * two), whose tables at least two other units reach — by reference, or by
 * calling into it. One unit holding every model that nobody else touches is
 * simply their owner.
 */
function findDataLayers(
  declares: Map<string, Set<string>>,
  touches: Map<string, Map<string, TableUse>>,
  unitOf: ReadonlyMap<string, Unit>,
  uses: ReturnType<typeof scopeUses>,
  implementers: ReadonlyMap<string, Array<[string, string]>>,
): Map<string, Set<string>> {
  const total = new Set([...declares.values()].flatMap((s) => [...s])).size;
  const layers = new Map<string, Set<string>>();
  for (const [unit, tables] of declares) {
    if (tables.size < 2 || tables.size < LAYER_TABLE_SHARE * total || !DATA_LAYER_NAME.test(unit)) continue;
    const users = new Set<string>();
    for (const [other, t] of touches)
      if (other !== unit && [...t.keys()].some((x) => tables.has(x))) users.add(other);
    // Calls into it (`db.instance_get(...)`, `master.db.changes...`) count as reaching its tables.
    const modules = new Set([...unitOf].filter(([, u]) => u.name === unit).map(([m]) => m));
    const suffixes = new Set([...modules].map((m) => m.split('.').slice(-2).join('.')));
    for (const [module, per] of uses) {
      const from = unitOf.get(module)?.name;
      if (!from || from === unit || users.has(from)) continue;
      // `getUtility(IListManager)` reaches the layer's class implementing the interface.
      const reaches = (n: string): boolean =>
        modules.has(n.slice(0, n.indexOf(':'))) ||
        (implementers.get(firstSegment(n.slice(n.indexOf(':') + 1))) ?? []).some(([m]) => modules.has(m));
      for (const [, use] of per)
        if (use.names.some(reaches) || use.chains.some((c) => suffixes.has(c))) users.add(from);
    }
    if (users.size >= LAYER_MIN_USERS) layers.set(unit, tables);
  }
  return layers;
}

/**
 * A data layer's table belongs to the unit using it most (reads and writes
 * counted alike; ties by name); one nobody uses stays with the layer.
 */
function giveLayerTablesToUsers(
  owner: Map<string, string>,
  touches: Map<string, Map<string, TableUse>>,
  layers: Map<string, Set<string>>,
): void {
  for (const [layer, tables] of layers)
    for (const t of tables) {
      let best: [string, number] | null = null;
      for (const [unit, used] of touches) {
        const u = used.get(t);
        if (!u || layers.has(unit)) continue;
        const n = u.reads + u.writes;
        if (best === null || n > best[1] || (n === best[1] && unit < best[0])) best = [unit, n];
      }
      if (best !== null && owner.get(t) === layer) owner.set(t, best[0]);
    }
}

/** Model classes, Table() objects and Tryton models: who declares which table, and how code names them. */
function declaredTables(
  facts: ReadonlyMap<string, ModuleFacts>,
  unitOf: ReadonlyMap<string, Unit>,
): {
  owner: Map<string, string>;
  declares: Map<string, Set<string>>;
  index: TableIndex & { labelled: Map<string, string> };
  tablesOfModule: Map<string, string[]>;
} {
  // --- model classes: a class is a model when a base is `Model` (models.Model,
  // db.Model), `ModelSQL` (Tryton), a known model of the tree, or — inside a
  // models module — a class named *Model from a library (TimeStampedModel, MPTTModel).
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
            b === 'ModelSQL' ||
            b === 'ModelSingleton' ||
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
  const named = new Map<string, { model: string; table: string | null }>();
  for (const [module, f] of facts) for (const n of f.orm?.named ?? []) named.set(`${module}:${n.cls}`, n);
  // Tryton: only ModelSQL descendants have tables (a ModelView is a form, a Wizard a dialog).
  // Bases pass it on through mixins, never through a concrete model (`ir.model`'s class
  // `Model(ModelSQL, ModelView)` must not make every ModelView a table).
  const sqlModels = new Set(['ModelSQL', 'ModelSingleton']);
  for (let pass = 0, before = -1; before !== sqlModels.size && pass < 8; pass++) {
    before = sqlModels.size;
    for (const c of classes)
      if (!named.has(`${c.module}:${c.name}`) && c.bases.some((b) => sqlModels.has(b))) sqlModels.add(c.name);
  }
  const owner = new Map<string, string>();
  const declares = new Map<string, Set<string>>();
  const index: TableIndex & { labelled: Map<string, string> } = {
    symbols: new Map(),
    byClass: new Map(),
    chains: new Map(),
    models: new Map(),
    labelled: new Map(),
  };
  const tablesOfModule = new Map<string, string[]>();
  const declare = (module: string, unit: Unit, table: string): void => {
    if (isSystemTable(table)) return;
    if (!owner.has(table)) owner.set(table, unit.name);
    addTo(declares, unit.name, table);
    tablesOfModule.set(module, [...(tablesOfModule.get(module) ?? []), table]);
  };
  classes.forEach((c, i) => {
    const key = `${c.module}:${c.name}`;
    const tryton = named.get(key);
    // Not a SQL model: a view or wizard step (no table), or an extension of a
    // model declared elsewhere (`metaclass=PoolMeta`), counted as a use below.
    if (!isModel[i] || c.fact.abstract || c.fact.proxy || (tryton && !c.bases.some((b) => sqlModels.has(b))))
      return;
    const unit = unitOf.get(c.module);
    if (!unit) return;
    let table = tryton ? (tryton.table ?? trytonTable(tryton.model)) : c.fact.table;
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
    if (tryton) index.models.set(tryton.model, table);
    declare(c.module, unit, table);
    index.symbols.set(key, table);
    index.byClass.set(c.name, [...(index.byClass.get(c.name) ?? []), [c.module, table]]);
    index.labelled.set(`${relationLabel(c, unitOf)}.${c.name}`, table);
  });
  for (const [module, f] of facts) {
    const unit = unitOf.get(module);
    if (!unit) continue;
    for (const t of f.tables) declare(module, unit, t.table);
    const seg = lastName(module);
    for (const v of f.orm?.tableVars ?? []) {
      if (v.holder === null) index.symbols.set(`${module}:${v.name}`, v.table);
      for (const holder of v.holder === null ? [seg] : [seg, v.holder.toLowerCase()]) {
        const key = `${holder}.${v.name}`;
        index.chains.set(key, [...new Set([...(index.chains.get(key) ?? []), v.table])]);
      }
    }
  }
  return { owner, declares, index, tablesOfModule };
}

/** The app label a relation by string names a model with (`ForeignKey('shop.Order')`). */
function relationLabel(
  c: { module: string; fact: ModuleFacts['classes'][number] },
  unitOf: ReadonlyMap<string, Unit>,
): string {
  const parts = c.module.split('.');
  const appPkg = parts.slice(0, Math.max(1, parts.indexOf('models'))).join('.');
  return c.fact.appLabel ?? unitOf.get(c.module)?.appLabel ?? lastName(appPkg);
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
      .filter(([u]) => !notOwner(u) && !data.dataLayers.has(u))
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    if (best) owner.set(table, best[0]);
  }
  for (const [unit, tables] of data.creates)
    for (const t of tables)
      if (!owner.has(t) && !notOwner(unit) && !data.dataLayers.has(unit)) owner.set(t, unit);
  return { ...data, owner };
}
