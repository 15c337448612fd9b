/**
 * An indexed module graph with named queries, after dependency-cruiser's
 * src/graph-utl/indexed-module-graph.mjs: modules get dense integer ids, and
 * edges (one per importing/imported module pair) keep every import statement
 * behind them, so analyses run on arrays and reports can still name the
 * `file:line` to change.
 */
import type { ImportKind, ImportRecord, ModuleGraphInput, ModuleInfo } from './types.js';

/** What changing one import costs when breaking a cycle: type-only imports are ~free, lazy ones cheap. */
export const KIND_COST: Record<ImportKind, number> = {
  type_checking: 0.01,
  function: 0.25,
  try: 1,
  conditional: 1,
  top: 1,
};

export class IndexedModuleGraph {
  readonly modules: ModuleInfo[];
  readonly names: string[];
  private readonly ids = new Map<string, number>();
  /** Distinct imported module ids per module. */
  readonly out: number[][];
  /** Distinct importing module ids per module. */
  readonly in: number[][];
  /** Per importing module: imported id -> the import statements behind that edge (small-int keys stay fast at 100k modules). */
  private readonly edgeImports: Array<Map<number, ImportRecord[]> | undefined>;
  private edges = 0;

  constructor(input: Pick<ModuleGraphInput, 'modules' | 'imports'>) {
    this.modules = input.modules;
    this.names = input.modules.map((m) => m.name);
    this.names.forEach((name, id) => {
      this.ids.set(name, id);
    });
    const n = this.names.length;
    this.out = Array.from({ length: n }, () => []);
    this.in = Array.from({ length: n }, () => []);
    this.edgeImports = new Array(n);
    for (const imp of input.imports) {
      const a = this.ids.get(imp.from);
      const b = this.ids.get(imp.to);
      if (a === undefined || b === undefined || a === b) continue;
      let byTarget = this.edgeImports[a];
      if (!byTarget) {
        byTarget = new Map();
        this.edgeImports[a] = byTarget;
      }
      const list = byTarget.get(b);
      if (list) list.push(imp);
      else {
        byTarget.set(b, [imp]);
        this.out[a].push(b);
        this.in[b].push(a);
        this.edges++;
      }
    }
  }

  get size(): number {
    return this.names.length;
  }

  id(name: string): number | undefined {
    return this.ids.get(name);
  }

  /** Modules `name` imports. */
  dependencies(name: string): string[] {
    const id = this.ids.get(name);
    return id === undefined ? [] : this.out[id].map((d) => this.names[d]);
  }

  /** Modules importing `name`. */
  dependents(name: string): string[] {
    const id = this.ids.get(name);
    return id === undefined ? [] : this.in[id].map((d) => this.names[d]);
  }

  /** Import statements behind the edge a -> b (ids). */
  importsBetween(a: number, b: number): ImportRecord[] {
    return this.edgeImports[a]?.get(b) ?? [];
  }

  /**
   * The import statements behind a -> b, one per `file:line` (a statement
   * importing several names yields one record per name), in line order.
   */
  statementsBetween(a: number, b: number): ImportRecord[] {
    const seen = new Set<string>();
    const out: ImportRecord[] = [];
    for (const imp of this.importsBetween(a, b)) {
      const key = imp.line === null ? `${out.length}` : `${imp.file}:${imp.line}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(imp);
    }
    return out.sort((p, q) => (p.file ?? '').localeCompare(q.file ?? '') || (p.line ?? 0) - (q.line ?? 0));
  }

  /** Cost of removing edge a -> b: the sum of its import statements' kind costs. */
  edgeCost(a: number, b: number): number {
    let cost = 0;
    for (const imp of this.statementsBetween(a, b)) cost += KIND_COST[imp.kind];
    return cost;
  }

  /** True when every import behind a -> b is type-only (no runtime dependency). */
  isTypeOnly(a: number, b: number): boolean {
    return this.importsBetween(a, b).every((imp) => imp.kind === 'type_checking');
  }

  edgeCount(): number {
    return this.edges;
  }
}
