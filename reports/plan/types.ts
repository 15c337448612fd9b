/**
 * The plan's data: the module graph the planner finds in a Python tree, and
 * the plan built from it. It lives beside the reporters, like every report's
 * data shape (reports never import the code that produces their data);
 * planner/types.ts re-exports it for the planner.
 */

/** Where an import sits, which decides what changing it costs. */
export const IMPORT_KINDS = ['top', 'function', 'conditional', 'try', 'type_checking'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

export interface ModuleInfo {
  /** Dotted module name: `pkg/__init__.py` is `pkg`, `pkg/a/b.py` is `pkg.a.b`. */
  name: string;
  /** Path relative to the scanned root (null for graph input without files). */
  file: string | null;
  /** Non-blank lines. */
  loc: number;
}

/** One imported name resolved to a module of the tree. */
export interface ImportRecord {
  from: string;
  to: string;
  kind: ImportKind;
  file: string | null;
  line: number | null;
  /** References in the importing file to the name this import binds (calls, attribute reads); null if unknown. */
  uses?: number | null;
}

export interface ScanProblem {
  file: string;
  line: number;
  message: string;
}

export interface ModuleGraphInput {
  root: string;
  modules: ModuleInfo[];
  imports: ImportRecord[];
  problems: ScanProblem[];
}

export interface PlanModule extends ModuleInfo {
  /** 1-based extraction wave; shared foundations come last. */
  wave: number;
  /** Higher is a better next candidate inside its wave. */
  score: number;
  /** Position in the recommended extraction order (1 = first). */
  rank: number;
  fanIn: number;
  fanOut: number;
  /** Modules in the same import cycle (extracted together unless a cut is applied). */
  cycle: string[] | null;
  shared: boolean;
  /** Config routes whose `module:` names this module. */
  routes: string[];
  traffic: number | null;
  churn: number | null;
  reasons: string[];
}

export interface PlanCycle {
  modules: string[];
  /** One shortest cycle, as concrete import lines, first module first. */
  witness: ImportRecord[];
}

export interface PlanCut {
  from: string;
  to: string;
  cost: number;
  /** The import lines to change (make lazy, move, or delete). */
  imports: ImportRecord[];
  suggestion: string;
}

export interface PlanWave {
  wave: number;
  modules: string[];
  shared?: boolean;
}

export interface Plan {
  root: string;
  modules: PlanModule[];
  imports: ImportRecord[];
  cycles: PlanCycle[];
  waves: PlanWave[];
  cuts: PlanCut[];
  /** Recommended extraction order. */
  order: string[];
  problems: ScanProblem[];
  /** Facts about the inputs: "no traffic data", shared modules chosen, depth... */
  notes: string[];
}
