/**
 * `buildPlan`: from a module graph to a leaf-first extraction plan with
 * reasons. Pure: scanning, git history, config and store reads happen in
 * planner/inputs.ts and arrive here as plain data.
 *
 * The method (the strangler-fig "extract the leaves first"): picture the
 * modules as a tree, move the leaves first, and keep going. A foundation that
 * nearly everything imports (the database layer) is not a leaf to move first:
 * each extracted service gets its own access to it, so it is set aside as
 * shared and moves last.
 */
import { feedbackArcs, stronglyConnected, witnessCycle } from './cycles.js';
import { IndexedModuleGraph, KIND_COST } from './graph.js';
import type {
  ImportRecord,
  ModuleGraphInput,
  Plan,
  PlanCut,
  PlanCycle,
  PlanModule,
  PlanWave,
} from './types.js';
import { type CapabilityPlan, planCapabilities } from './capabilities.js';
import type { PlanRoute } from './entry-points.js';
import { planWaves } from './waves.js';

export type { PlanRoute };

export interface ChurnStats {
  /** Commits touching each module's file. */
  commits: Map<string, number>;
  /** Per module: share (0..1) of its commits that also touched another module of the tree. */
  coChange: Map<string, number>;
  commitsScanned: number;
}

export interface PlanOptions {
  /** Modules to treat as shared foundations, besides those detected. */
  shared?: string[];
  /** Detect shared foundations (default true). */
  autoShared?: boolean;
  routes?: PlanRoute[];
  /** Requests per module from the proxy's stats; null/absent: no traffic data. */
  traffic?: Map<string, number> | null;
  churn?: ChurnStats | null;
  /** Facts from gathering the inputs, passed through to the plan. */
  notes?: string[];
  /** Capabilities ranked from the scanned tree; absent: found from `input` alone (graph input has no facts). */
  capabilities?: CapabilityPlan;
}

/**
 * Score weights: + pushes a module earlier within its wave. Being imported is
 * a cost (every call site changes to call the service, issue 14), never a bonus.
 */
const WEIGHT = {
  calls: -0.5,
  fanIn: -0.5,
  fanOut: -1.5,
  blast: -1,
  loc: -0.5,
  traffic: 1,
  churn: 0.5,
  coChange: -0.5,
};
/** Reverse reachability is O(V·E): skip the blast-radius term on huge graphs. */
const BLAST_LIMIT = 5000;

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const fmt = (x: number): string => (Math.round(x * 100) / 100).toFixed(2);
const list = (names: string[], max = 5): string =>
  names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;

function isPackageFile(file: string | null): boolean {
  return file !== null && /(^|\/)__init__\.py$/.test(file);
}

function firstImport(records: ImportRecord[]): ImportRecord {
  return [...records].sort((a, b) => (a.line ?? 0) - (b.line ?? 0))[0];
}

function cutSuggestion(records: ImportRecord[]): string {
  const kinds = new Set(records.map((r) => r.kind));
  if (kinds.size === 1 && kinds.has('type_checking'))
    return 'type-only import (under TYPE_CHECKING): no runtime dependency; keep annotations as strings';
  if ([...kinds].every((k) => k === 'function' || k === 'type_checking'))
    return 'already lazy (inside a function): replace the call with a call to the extracted service, or pass the dependency in';
  return 'module-level import: move it into the function that needs it, or invert the dependency';
}

export function buildPlan(input: ModuleGraphInput, options: PlanOptions = {}): Plan {
  const graph = new IndexedModuleGraph(input);
  const capabilities =
    options.capabilities ??
    planCapabilities({
      modules: input.modules,
      imports: input.imports,
      facts: new Map(),
      evidence: false,
      routes: options.routes,
      traffic: options.traffic,
    });
  // Notes keep the order the sections below add them in: the reports print them as written.
  const notes = mergeNotes([...(input.notes ?? []), ...capabilities.notes, ...(options.notes ?? [])]);
  const { cycles, cuts, cycleOf } = findCycles(graph);
  const runtime = runtimeEdges(graph);
  const fanIn = countFanIn(graph, runtime);
  const shared = findSharedFoundations(graph, fanIn, options, notes);
  const { wave, cycleMembers } = assignWaves(graph, runtime, shared);
  const measures = measureModules(graph, runtime, shared, fanIn, options, notes);
  const modules = graph.modules.map((m, id) =>
    planModule(measures, id, wave[id], cycleMembers(id), cycleOf.get(m.name) ?? null),
  );
  const ordered = rankModules(modules);
  if (cycles.length > 0)
    notes.push(
      `${cycles.length} import cycle${cycles.length > 1 ? 's' : ''}; cut costs: ${Object.entries(KIND_COST)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')} per import`,
    );
  const imports = [...input.imports].sort(
    (a, b) => byName(a.from, b.from) || byName(a.to, b.to) || (a.line ?? 0) - (b.line ?? 0),
  );
  return {
    root: input.root,
    candidates: capabilities.candidates,
    libraries: capabilities.libraries,
    modules: ordered,
    imports,
    cycles,
    waves: groupWaves(ordered),
    cuts,
    order: ordered.map((m) => m.name),
    problems: input.problems,
    notes,
  };
}

/** The store's own "no traffic data: ..." says why there is none; the generic hint beside it is then redundant. */
function mergeNotes(notes: string[]): string[] {
  return notes.filter(
    (n, _i, all) =>
      !(n.startsWith('no traffic data: give') && all.some((x) => x.startsWith('no traffic data') && x !== n)),
  );
}

/** Import cycles with a witness ring each, and the cheapest cuts that break them. */
function findCycles(graph: IndexedModuleGraph): {
  cycles: PlanCycle[];
  cuts: PlanCut[];
  cycleOf: Map<string, number>;
} {
  const names = graph.names;
  // Every import counts here, type-only ones too: they cost ~nothing to cut.
  const scc = stronglyConnected(graph.out);
  const cycles: PlanCycle[] = [];
  const cuts: PlanCut[] = [];
  for (const members of scc.components) {
    if (members.length < 2) continue;
    const ring = witnessCycle(graph.out, scc.comp, members, names);
    const witness = ring.map((a, i) => firstImport(graph.importsBetween(a, ring[(i + 1) % ring.length])));
    cycles.push({ id: 0, modules: members.map((m) => names[m]).sort(byName), witness });
    for (const [a, b] of feedbackArcs(graph.out, scc.comp, members, (x, y) => graph.edgeCost(x, y))) {
      // One line per import statement: `from x import a, b, c` is one change, not three.
      const imports = graph.statementsBetween(a, b);
      cuts.push({
        from: names[a],
        to: names[b],
        cost: Math.round(graph.edgeCost(a, b) * 100) / 100,
        imports,
        suggestion: cutSuggestion(imports),
      });
    }
  }
  cycles.sort((a, b) => b.modules.length - a.modules.length || byName(a.modules[0], b.modules[0]));
  const cycleOf = new Map<string, number>();
  cycles.forEach((c, i) => {
    c.id = i + 1;
    for (const m of c.modules) cycleOf.set(m, c.id);
  });
  cuts.sort((a, b) => byName(a.from, b.from) || byName(a.to, b.to));
  return { cycles, cuts, cycleOf };
}

type RuntimeEdge = (a: number, b: number) => boolean;

/** Type-only imports never load a module, so they do not order extraction: every other edge is a runtime edge. */
function runtimeEdges(graph: IndexedModuleGraph): RuntimeEdge {
  const typeOnly: Array<Set<number> | undefined> = new Array(graph.size);
  for (let a = 0; a < graph.size; a++)
    for (const b of graph.out[a]) {
      if (!graph.isTypeOnly(a, b)) continue;
      const set = typeOnly[a] ?? new Set<number>();
      set.add(b);
      typeOnly[a] = set;
    }
  return (a, b) => typeOnly[a] === undefined || !typeOnly[a]!.has(b);
}

function countFanIn(graph: IndexedModuleGraph, runtime: RuntimeEdge): Int32Array {
  const fanIn = new Int32Array(graph.size);
  for (let a = 0; a < graph.size; a++) for (const b of graph.out[a]) if (runtime(a, b)) fanIn[b]++;
  return fanIn;
}

/**
 * Shared foundations (1 per module id): those named by `--shared`, and, unless
 * turned off, those imported by at least half the tree that import nothing at
 * load time themselves.
 */
function findSharedFoundations(
  graph: IndexedModuleGraph,
  fanIn: Int32Array,
  options: PlanOptions,
  notes: string[],
): Uint8Array {
  const n = graph.size;
  const shared = new Uint8Array(n);
  for (const name of options.shared ?? []) {
    const id = graph.id(name);
    if (id === undefined) notes.push(`--shared ${name}: no such module (ignored)`);
    else shared[id] = 1;
  }
  if (options.autoShared !== false && n >= 4) {
    const threshold = Math.max(3, Math.ceil(0.5 * (n - 1)));
    for (let id = 0; id < n; id++) {
      if (shared[id] || isPackageFile(graph.modules[id].file) || fanIn[id] < threshold) continue;
      const eager = graph.out[id].some((b) =>
        graph.importsBetween(id, b).some((r) => r.kind !== 'function' && r.kind !== 'type_checking'),
      );
      if (!eager) shared[id] = 1;
    }
  }
  const sharedNames = graph.names.filter((_, id) => shared[id]).sort(byName);
  if (sharedNames.length > 0)
    notes.push(
      `shared foundation${sharedNames.length > 1 ? 's' : ''} ${sharedNames.join(', ')}: imported by most modules and importing none at load time; ` +
        'each extracted service gets its own access, so imports of it do not hold a module back and it moves last',
    );
  return shared;
}

/** Leaf-first waves over runtime edges; shared foundations all go to one wave after the last. */
function assignWaves(
  graph: IndexedModuleGraph,
  runtime: RuntimeEdge,
  shared: Uint8Array,
): { wave: Int32Array; cycleMembers: (id: number) => number[] } {
  const n = graph.size;
  const { wave, comp } = planWaves(graph.out, runtime, (id) => shared[id] === 1);
  let maxWave = 0;
  for (let id = 0; id < n; id++) if (wave[id] > maxWave) maxWave = wave[id];
  for (let id = 0; id < n; id++) if (shared[id]) wave[id] = maxWave + 1;
  const compMembers = new Map<number, number[]>();
  for (let id = 0; id < n; id++) {
    if (shared[id]) continue;
    const members = compMembers.get(comp[id]);
    if (members) members.push(id);
    else compMembers.set(comp[id], [id]);
  }
  // The module itself among the members of its runtime cycle (alone when in none).
  return { wave, cycleMembers: (id) => (shared[id] ? [] : (compMembers.get(comp[id]) ?? [])) };
}

/** What every module's score and reasons are computed from. */
interface ModuleMeasures {
  graph: IndexedModuleGraph;
  runtime: RuntimeEdge;
  shared: Uint8Array;
  fanIn: Int32Array;
  /** Runtime imports of modules that are not shared foundations. */
  fanOut: Int32Array;
  /** References to the names importers bind from each module; null when no import record counts them (graph input). */
  calls: Array<number | null>;
  callers: string[][];
  /** Modules a failure reaches through runtime imports; null on graphs over BLAST_LIMIT. */
  blast: Int32Array | null;
  traffic: Map<string, number> | null;
  churn: ChurnStats | null;
  routes: PlanRoute[];
  /** The largest value of each measure among candidates (not shared): each score term is scaled by it. */
  max: Record<'calls' | 'fanIn' | 'fanOut' | 'loc' | 'blast' | 'traffic' | 'churn', number>;
}

function measureModules(
  graph: IndexedModuleGraph,
  runtime: RuntimeEdge,
  shared: Uint8Array,
  fanIn: Int32Array,
  options: PlanOptions,
  notes: string[],
): ModuleMeasures {
  const n = graph.size;
  const fanOut = new Int32Array(n);
  const calls: Array<number | null> = new Array(n).fill(null);
  const callers: string[][] = Array.from({ length: n }, () => []);
  for (let a = 0; a < n; a++) {
    for (const b of graph.out[a]) {
      if (!runtime(a, b)) continue;
      if (!shared[b]) fanOut[a]++;
      callers[b].push(graph.names[a]);
      for (const r of graph.importsBetween(a, b))
        if (r.uses !== undefined && r.uses !== null) calls[b] = (calls[b] ?? 0) + r.uses;
    }
  }
  let blast: Int32Array | null = null;
  if (n <= BLAST_LIMIT) blast = blastRadius(graph, runtime);
  else notes.push(`blast radius not scored: more than ${BLAST_LIMIT} modules`);
  const traffic = options.traffic && options.traffic.size > 0 ? options.traffic : null;
  if (!traffic && !notes.some((x) => x.startsWith('no traffic data'))) notes.push('no traffic data');
  const churn = options.churn ?? null;
  const measured = { graph, runtime, shared, fanIn, fanOut, calls, callers, blast, traffic, churn };
  return { ...measured, routes: options.routes ?? [], max: maxima(measured) };
}

/** For each module, how many modules import it directly or through others at runtime (a DFS per module: O(V·E)). */
function blastRadius(graph: IndexedModuleGraph, runtime: RuntimeEdge): Int32Array {
  const n = graph.size;
  const blast = new Int32Array(n);
  const seen = new Int32Array(n).fill(-1);
  for (let s = 0; s < n; s++) {
    const stack = [s];
    seen[s] = s;
    let count = 0;
    while (stack.length > 0) {
      const x = stack.pop()!;
      for (const p of graph.in[x]) {
        if (seen[p] === s || !runtime(p, x)) continue;
        seen[p] = s;
        count++;
        stack.push(p);
      }
    }
    blast[s] = count;
  }
  return blast;
}

function maxima(ms: Omit<ModuleMeasures, 'routes' | 'max'>): ModuleMeasures['max'] {
  const { graph, blast, traffic, churn } = ms;
  const candidates = [...Array(graph.size).keys()].filter((id) => !ms.shared[id]);
  const maxOf = (f: (id: number) => number): number => {
    let max = 1e-9; // avoids 0/0 when no module has the measure
    for (const id of candidates) {
      const v = f(id);
      if (v > max) max = v;
    }
    return max;
  };
  return {
    calls: maxOf((id) => callsOf(ms, id)),
    fanIn: maxOf((id) => ms.fanIn[id]),
    fanOut: maxOf((id) => ms.fanOut[id]),
    loc: maxOf((id) => graph.modules[id].loc),
    blast: blast ? maxOf((id) => blast[id]) : 1,
    traffic: traffic ? maxOf((id) => trafficOf(traffic, graph.names[id]) ?? 0) : 1,
    churn: churn ? maxOf((id) => churn.commits.get(graph.names[id]) ?? 0) : 1,
  };
}

/** References when the scan counted them, else the number of importing modules. */
function callsOf(ms: Pick<ModuleMeasures, 'calls' | 'fanIn'>, id: number): number {
  return ms.calls[id] ?? ms.fanIn[id];
}

/** Requests through the routes of a module or of its submodules; null without traffic data. */
function trafficOf(traffic: Map<string, number> | null, name: string): number | null {
  if (!traffic) return null;
  let sum = 0;
  for (const [mod, reqs] of traffic) if (mod === name || name.endsWith(`.${mod}`)) sum += reqs;
  return sum;
}

/** What one module's reasons speak of, beside its measures. */
interface ModuleEvidence {
  id: number;
  routes: PlanRoute[];
  traffic: number | null;
  churn: number | null;
  /** Share of its commits that changed other modules too (0 without churn data). */
  coChange: number;
  /** The module and the others in its runtime import cycle. */
  cycleMembers: number[];
}

function planModule(
  ms: ModuleMeasures,
  id: number,
  wave: number,
  cycleMembers: number[],
  cycle: number | null,
): PlanModule {
  const m = ms.graph.modules[id];
  const churnStats = ms.churn;
  const churn = churnStats ? (churnStats.commits.get(m.name) ?? 0) : null;
  const evidence: ModuleEvidence = {
    id,
    routes: ms.routes.filter((r) => r.module === m.name || m.name.endsWith(`.${r.module}`)),
    traffic: trafficOf(ms.traffic, m.name),
    churn,
    coChange: churnStats ? (churnStats.coChange.get(m.name) ?? 0) : 0,
    cycleMembers,
  };
  let score = 0;
  let reasons: string[];
  if (ms.shared[id]) reasons = [sharedReason(ms, id)];
  else {
    const terms = scoreTerms(ms, evidence);
    score = totalScore(terms);
    reasons = candidateReasons(ms, evidence, terms);
  }
  return {
    name: m.name,
    file: m.file,
    loc: m.loc,
    wave,
    score: Math.round(score * 100) / 100,
    rank: 0,
    fanIn: ms.fanIn[id],
    fanOut: ms.fanOut[id],
    cycle,
    shared: ms.shared[id] === 1,
    routes: evidence.routes.map((r) => r.id),
    traffic: evidence.traffic,
    churn,
    reasons,
  };
}

// --- scoring: one weighted term per measure, each scaled by its largest value among candidates

/** A term is null when its measure is absent (no blast radius on a huge graph, no traffic or churn data). */
interface ScoreTerms {
  fanOut: number;
  calls: number;
  fanIn: number;
  blast: number | null;
  loc: number;
  traffic: number | null;
  churn: number | null;
  coChange: number | null;
}

function scoreTerms(ms: ModuleMeasures, ev: ModuleEvidence): ScoreTerms {
  const { id } = ev;
  const { max } = ms;
  const term = (weight: number, value: number, max: number): number => (weight * value) / max;
  return {
    fanOut: term(WEIGHT.fanOut, ms.fanOut[id], max.fanOut),
    calls: term(WEIGHT.calls, callsOf(ms, id), max.calls),
    fanIn: term(WEIGHT.fanIn, ms.fanIn[id], max.fanIn),
    blast: ms.blast ? term(WEIGHT.blast, ms.blast[id], max.blast) : null,
    loc: term(WEIGHT.loc, ms.graph.modules[id].loc, max.loc),
    traffic: ev.traffic !== null ? term(WEIGHT.traffic, ev.traffic, max.traffic) : null,
    churn: ev.churn !== null ? term(WEIGHT.churn, ev.churn, max.churn) : null,
    coChange: ev.churn !== null ? term(WEIGHT.coChange, ev.coChange, 1) : null,
  };
}

/** The terms summed in one fixed order: float addition is not associative, and equal scores fall back to names. */
function totalScore(t: ScoreTerms): number {
  let score = 0;
  for (const v of [t.fanOut, t.calls, t.fanIn, t.blast, t.loc, t.traffic, t.churn, t.coChange])
    if (v !== null) score += v;
  return score;
}

// --- reasons: the score terms and measures in words, in the order the reports print them

function sharedReason(ms: ModuleMeasures, id: number): string {
  return `shared foundation: imported by ${ms.fanIn[id]} of ${ms.graph.size - 1} modules; every service keeps its own access until the last wave`;
}

function candidateReasons(ms: ModuleMeasures, ev: ModuleEvidence, terms: ScoreTerms): string[] {
  const { id } = ev;
  const m = ms.graph.modules[id];
  const reasons = [dependencyReason(ms, id, terms.fanOut), callerReason(ms, id, terms.calls + terms.fanIn)];
  const failure = failureReason(ms, ev, terms.blast);
  if (failure !== null) reasons.push(failure);
  reasons.push(`${m.loc} lines of code (${fmt(terms.loc)})`);
  if (ev.traffic !== null && terms.traffic !== null)
    reasons.push(`traffic: ${ev.traffic} requests through its routes (${fmt(terms.traffic)})`);
  else reasons.push('no traffic data');
  const ch = ev.churn;
  if (ch !== null && terms.churn !== null && terms.coChange !== null)
    reasons.push(
      `churn: ${ch} commit${ch === 1 ? '' : 's'}, ${Math.round(ev.coChange * 100)}% changed together with other modules (${fmt(terms.churn + terms.coChange)})`,
    );
  if (ev.cycleMembers.length > 1)
    reasons.push(
      `in an import cycle with ${list(
        ev.cycleMembers
          .filter((x) => x !== id)
          .map((x) => ms.graph.names[x])
          .sort(byName),
      )}: extract together, or apply the suggested cuts first`,
    );
  if (ev.routes.length > 0)
    reasons.push(
      `takes over route${ev.routes.length > 1 ? 's' : ''}: ${ev.routes.map((r) => `${r.id} (${r.path})`).join(', ')}`,
    );
  return reasons;
}

function dependencyReason(ms: ModuleMeasures, id: number, term: number): string {
  const { graph, shared, fanOut } = ms;
  const deps = graph.out[id].filter((b) => ms.runtime(id, b));
  const sharedDeps = deps.filter((b) => shared[b]).map((b) => graph.names[b]);
  const depNames = deps.filter((b) => !shared[b]).map((b) => graph.names[b]);
  return fanOut[id] === 0
    ? `few dependencies: imports ${sharedDeps.length > 0 ? `only the shared ${list(sharedDeps)}` : 'no other module of the tree'} (${fmt(term)})`
    : `depends on ${fanOut[id]} module${fanOut[id] > 1 ? 's' : ''}: ${list(depNames)}${sharedDeps.length ? ` (+ shared ${list(sharedDeps)})` : ''} (${fmt(term)})`;
}

function callerReason(ms: ModuleMeasures, id: number, term: number): string {
  const { fanIn } = ms;
  const c = ms.calls[id];
  return fanIn[id] === 0
    ? `no callers inside the tree (${fmt(term)})`
    : `${callsOf(ms, id) >= ms.max.calls / 2 ? 'many callers' : 'callers'}: ${c !== null ? `${c} reference${c === 1 ? '' : 's'} from ` : ''}${fanIn[id]} module${fanIn[id] > 1 ? 's' : ''} (${list(ms.callers[id].sort(byName))}), each a call site to switch to the service (${fmt(term)})`;
}

/** "Harmless" means a failure stays small: few modules reach it, or the proxy sends its traffic back to legacy. */
function failureReason(ms: ModuleMeasures, ev: ModuleEvidence, term: number | null): string | null {
  const { routes, id } = ev;
  const failover = routes.length > 0 && routes.every((r) => r.failover);
  const routeWord = routes.length > 1 ? 'its routes fail' : 'its route fails';
  const n = ms.graph.size;
  if (ms.blast && term !== null) {
    const reach = `a failure reaches ${ms.blast[id]} of ${n - 1} modules through imports (${fmt(term)})`;
    if (failover) return `harmless if it fails: ${routeWord} over to legacy, and ${reach}`;
    if (ms.blast[id] <= (n - 1) / 2) return `harmless if it fails: ${reach}`;
    return `risky if it fails: ${reach}`;
  }
  return failover ? `harmless if it fails: ${routeWord} over to legacy` : null;
}

// --- ranking: shared foundations last, then by wave, by score, by name

function rankModules(modules: PlanModule[]): PlanModule[] {
  const ordered = [...modules].sort(
    (a, b) =>
      Number(a.shared) - Number(b.shared) || a.wave - b.wave || b.score - a.score || byName(a.name, b.name),
  );
  ordered.forEach((m, i) => {
    m.rank = i + 1;
  });
  return ordered;
}

function groupWaves(ordered: PlanModule[]): PlanWave[] {
  const waves: PlanWave[] = [];
  for (const m of ordered) {
    let w = waves[waves.length - 1];
    if (!w || w.wave !== m.wave) {
      w = { wave: m.wave, modules: [], ...(m.shared ? { shared: true } : {}) };
      waves.push(w);
    }
    w.modules.push(m.name);
  }
  return waves;
}
