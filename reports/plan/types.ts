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
  /** Facts about how the tree was read (src/ layout, Python 2 implicit relative imports). */
  notes?: string[];
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
  /** Id of the import cycle holding this module (an index into `cycles`), or null. */
  cycle: number | null;
  shared: boolean;
  /** Config routes whose `module:` names this module. */
  routes: string[];
  traffic: number | null;
  churn: number | null;
  reasons: string[];
}

export interface PlanCycle {
  /** Referenced by modules' `cycle` (the JSON stays linear in the cycle's size). */
  id: number;
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

/** A table a capability touches that someone else touches too: the blocker to solve before extracting it. */
export interface SharedTable {
  table: string;
  /** The capability owning it (null: nobody declares it). */
  owner: string | null;
  /** Other capabilities and libraries reading or writing it. */
  with: string[];
}

/** A unit worth extracting as a service, ranked by the seed migration's criteria. */
export interface PlanCandidate {
  name: string;
  kind: 'capability';
  /** How the unit was found: a Django app, a Flask blueprint, a feature sliced across layer packages (`pkg:thread` = models/thread.py + views/thread.py), a package at the chosen depth, or a module. */
  source: 'django-app' | 'blueprint' | 'feature' | 'package' | 'module';
  modules: string[];
  loc: number;
  tables: { owns: string[]; shares: SharedTable[] };
  /** Entry points: `METHOD path` patterns (from urls.py, Flask routes, or the config's `module:`). */
  routes: string[];
  /** Other capabilities it imports at run time. */
  dependsOn: string[];
  /** Capabilities importing it (each is a set of call sites to switch to the service). */
  importers: string[];
  traffic: number | null;
  score: number;
  rank: number;
  /** Each criterion as a sentence ending with its contribution to the score, e.g. "(+1.00)". */
  reasons: string[];
  /** Set when the source shows neither tables nor an entry point (glue, scripts, a URLconf): ranked after every unit with something to extract, never "extract first". */
  glue?: true;
}

/** Shared stateless code: copied or packaged, never extracted as a service. */
export interface PlanLibrary {
  name: string;
  modules: string[];
  /** Capabilities and libraries importing it. */
  importers: string[];
  reason: string;
  /** A data layer (DESIGN.md): wraps the tables capabilities use; its tables are theirs. */
  dataLayer?: true;
}

export interface Plan {
  root: string;
  /** Capabilities in recommended order (first = extract first). */
  candidates: PlanCandidate[];
  libraries: PlanLibrary[];
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
