/**
 * Which code touches which table, from the symbols it references: a model
 * class or `Table` object imported by name (`from m import Order`), read
 * through a module alias (`models.Aggregate` touches Aggregate's table, not
 * every table of `models`), reached by an attribute chain (`self.db.model.changes`),
 * or named by a framework model name (`Pool().get('res.user')`).
 *
 * The **data layer** (DESIGN.md: a package that wraps the tables many
 * capabilities use — ORM models, DAO) is followed function by function: a
 * capability calling `db.instance_get(...)` touches the tables that
 * `instance_get` (and the helpers it calls, and the data-layer functions
 * those call) references, and `self.master.db.changes.getChange(...)` the
 * tables of the `db.changes` component. Those tables are the capability's
 * "via the data layer".
 */
import type { ModuleFacts } from './python-facts.js';

/** How names of the tree map to tables. */
export interface TableIndex {
  /** `module:Name` -> table: model classes and module-level `Table` objects. */
  symbols: Map<string, string>;
  /** Class name -> [module, table] pairs: a package re-exports its submodules' models. */
  byClass: Map<string, Array<[string, string]>>;
  /** `holder.name` (`model.changes`: the module's last segment or the holding class, lower case) -> tables. */
  chains: Map<string, string[]>;
  /** Framework model name (`res.user`) -> table. */
  models: Map<string, string>;
}

/** Tables one top-level definition touches directly, and what it calls. */
interface ScopeUse {
  tables: string[];
  /** Own top-level definitions called. */
  calls: string[];
  /** Names of other modules referenced (`module:Name`), to follow into the data layer. */
  names: string[];
  /** Attribute chains (`db.changes`), to follow into the data layer's components. */
  chains: string[];
}

/** Per module, per top-level definition ('' = module level): its direct table uses. */
export type ScopeUses = Map<string, Map<string, ScopeUse>>;

/** The table a `module:Name` reference names, looking under a package for a re-exported model. */
export function tableOfName(index: TableIndex, ref: string): string | null {
  const colon = ref.indexOf(':');
  const module = ref.slice(0, colon);
  const name = firstSegment(ref.slice(colon + 1)); // `Instance.uuid` is Instance's table
  const hit = index.symbols.get(`${module}:${name}`);
  if (hit !== undefined) return hit;
  const under = (index.byClass.get(name) ?? []).filter(([m]) => m.startsWith(`${module}.`));
  return under.length === 1 ? under[0][1] : null;
}

/** `Instance` of `Instance.get_by_uuid`. */
export const firstSegment = (name: string): string => {
  const dot = name.indexOf('.');
  return dot < 0 ? name : name.slice(0, dot);
};

/** Direct table uses of every definition of every module. */
export function scopeUses(facts: ReadonlyMap<string, ModuleFacts>, index: TableIndex): ScopeUses {
  const out: ScopeUses = new Map();
  for (const [module, f] of facts) {
    const per = new Map<string, ScopeUse>();
    for (const r of f.refs ?? []) {
      const tables = new Set<string>();
      for (const name of r.names) {
        const t = tableOfName(index, name);
        if (t !== null) tables.add(t);
      }
      for (const c of r.chains) for (const t of index.chains.get(c) ?? []) tables.add(t);
      per.set(r.scope, { tables: [...tables], calls: r.calls, names: r.names, chains: r.chains });
    }
    // Model names in strings are read per file: module level.
    const models = (f.orm?.modelRefs ?? []).map((m) => index.models.get(m)).filter((t) => t !== undefined);
    if (models.length > 0) {
      const top = per.get('') ?? { tables: [], calls: [], names: [], chains: [] };
      per.set('', { ...top, tables: [...new Set([...top.tables, ...models])] });
    }
    if (per.size > 0) out.set(module, per);
  }
  return out;
}

/**
 * Follows references into the data layer: the tables a data-layer function
 * or class reaches, through its own module's helpers and the data layer's
 * other functions (memoised; a cycle contributes what is known so far).
 */
export class DataLayerReach {
  private readonly memo = new Map<string, Set<string>>();
  /** `db.changes` -> data-layer modules ending in that (buildbot's connector components). */
  private readonly bySuffix = new Map<string, string[]>();
  /** Data-layer module -> its definitions' names, for a package's re-exported classes. */
  private readonly defsByName = new Map<string, string[]>();

  constructor(
    private readonly uses: ScopeUses,
    private readonly layerModules: ReadonlySet<string>,
    /** Interface name -> [module, class] of its `@implementer` classes in the layer. */
    private readonly implementers: ReadonlyMap<string, Array<[string, string]>> = new Map(),
    /** Model classes and Table objects (`module:Name` -> table). */
    private readonly tableSymbols: ReadonlyMap<string, string> = new Map(),
  ) {
    for (const m of layerModules) {
      const parts = m.split('.');
      if (parts.length >= 2) {
        const key = parts.slice(-2).join('.');
        this.bySuffix.set(key, [...(this.bySuffix.get(key) ?? []), m]);
      }
      const top = new Set([...(uses.get(m)?.keys() ?? [])].filter((x) => x !== '').map(firstSegment));
      for (const name of top) this.defsByName.set(name, [...(this.defsByName.get(name) ?? []), m]);
    }
  }

  /** Tables reached through the data layer by a `module:Name` reference; empty when it names nothing there. */
  ofName(ref: string): Set<string> {
    const colon = ref.indexOf(':');
    let module = ref.slice(0, colon);
    const name = ref.slice(colon + 1);
    const top = firstSegment(name);
    if (!this.layerModules.has(module)) {
      // `getUtility(IListManager)`: the interface names the layer's class implementing it.
      const out = new Set<string>();
      for (const [m, cls] of this.implementers.get(top) ?? [])
        if (this.layerModules.has(m)) for (const t of this.ofClass(m, cls)) out.add(t);
      return out;
    }
    const scopes = this.uses.get(module);
    if (name === '' || !(scopes?.has(name) || scopes?.has(top) || this.hasMembers(module, top))) {
      // `objects.Instance` where the package registers the class of `objects/instance.py`.
      const under = (this.defsByName.get(top) ?? []).filter((m) => m.startsWith(`${module}.`));
      if (under.length !== 1) return new Set();
      module = under[0];
    }
    // `Class.method` when the method is the class's own; else the whole class (or function).
    return this.uses.get(module)?.has(name) && name !== top
      ? this.ofScope(module, name)
      : this.ofClass(module, top);
  }

  private hasMembers(module: string, cls: string): boolean {
    for (const scope of this.uses.get(module)?.keys() ?? []) if (scope.startsWith(`${cls}.`)) return true;
    return false;
  }

  /** A class (or function) as a whole: its own statements and every method. */
  private ofClass(module: string, cls: string): Set<string> {
    const own = this.tableSymbols.get(`${module}:${cls}`);
    if (own !== undefined) return new Set([own]);
    const out = new Set(this.ofScope(module, cls));
    for (const scope of this.uses.get(module)?.keys() ?? [])
      if (scope.startsWith(`${cls}.`)) for (const t of this.ofScope(module, scope)) out.add(t);
    return out;
  }

  /** Tables of every definition of the component module a chain (`db.changes`) names. */
  ofChain(chain: string): Set<string> {
    const out = new Set<string>();
    for (const m of this.bySuffix.get(chain) ?? [])
      for (const scope of this.uses.get(m)?.keys() ?? []) for (const t of this.ofScope(m, scope)) out.add(t);
    return out;
  }

  private ofScope(module: string, scope: string): Set<string> {
    const key = `${module}:${scope}`;
    const known = this.memo.get(key);
    if (known) return known;
    // A model class stands for its own table: its relations are not uses of the caller.
    const own = this.tableSymbols.get(key);
    if (own !== undefined) return new Set([own]);
    const out = new Set<string>();
    this.memo.set(key, out); // a cycle sees the partial set
    const use = this.uses.get(module)?.get(scope);
    if (!use) return out;
    for (const t of use.tables) out.add(t);
    for (const c of use.calls)
      for (const t of c.includes('.') ? this.ofScope(module, c) : this.ofClass(module, c)) out.add(t);
    for (const n of use.names) for (const t of this.ofName(n)) out.add(t);
    for (const c of use.chains) for (const t of this.ofChain(c)) out.add(t);
    return out;
  }
}
