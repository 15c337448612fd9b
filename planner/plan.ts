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
  const n = graph.size;
  const names = graph.names;
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
  const notes = [...(input.notes ?? []), ...capabilities.notes, ...(options.notes ?? [])].filter(
    // the store's own "no traffic data: ..." says why; the generic hint is then redundant
    (n, _i, all) =>
      !(n.startsWith('no traffic data: give') && all.some((x) => x.startsWith('no traffic data') && x !== n)),
  );

  // --- cycles and cut suggestions, on every import (type-only ones too: they cost ~nothing to cut)
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

  // --- runtime edges: type-only imports never load a module, so they do not order extraction
  const typeOnly: Array<Set<number> | undefined> = new Array(n);
  for (let a = 0; a < n; a++)
    for (const b of graph.out[a]) {
      if (!graph.isTypeOnly(a, b)) continue;
      const set = typeOnly[a] ?? new Set<number>();
      set.add(b);
      typeOnly[a] = set;
    }
  const runtime = (a: number, b: number): boolean => typeOnly[a] === undefined || !typeOnly[a]!.has(b);
  const fanIn = new Int32Array(n);
  for (let a = 0; a < n; a++) for (const b of graph.out[a]) if (runtime(a, b)) fanIn[b]++;

  // --- shared foundations
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
  const sharedNames = names.filter((_, id) => shared[id]).sort(byName);
  if (sharedNames.length > 0)
    notes.push(
      `shared foundation${sharedNames.length > 1 ? 's' : ''} ${sharedNames.join(', ')}: imported by most modules and importing none at load time; ` +
        'each extracted service gets its own access, so imports of it do not hold a module back and it moves last',
    );

  // --- waves
  const { wave, comp } = planWaves(graph.out, runtime, (id) => shared[id] === 1);
  let maxWave = 0;
  for (let id = 0; id < n; id++) if (wave[id] > maxWave) maxWave = wave[id];
  for (let id = 0; id < n; id++) if (shared[id]) wave[id] = maxWave + 1;
  const compMembers = new Map<number, number[]>();
  for (let id = 0; id < n; id++) {
    if (shared[id]) continue;
    const list = compMembers.get(comp[id]);
    if (list) list.push(id);
    else compMembers.set(comp[id], [id]);
  }

  // --- per-module measures
  const fanOut = new Int32Array(n);
  const calls: Array<number | null> = new Array(n).fill(null);
  const callers: string[][] = Array.from({ length: n }, () => []);
  for (let a = 0; a < n; a++) {
    for (const b of graph.out[a]) {
      if (!runtime(a, b)) continue;
      if (!shared[b]) fanOut[a]++;
      callers[b].push(names[a]);
      for (const r of graph.importsBetween(a, b))
        if (r.uses !== undefined && r.uses !== null) calls[b] = (calls[b] ?? 0) + r.uses;
    }
  }
  let blast: Int32Array | null = null;
  if (n <= BLAST_LIMIT) {
    blast = new Int32Array(n);
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
  } else notes.push(`blast radius not scored: more than ${BLAST_LIMIT} modules`);

  const routesOf = (name: string): PlanRoute[] =>
    (options.routes ?? []).filter((r) => r.module === name || name.endsWith(`.${r.module}`));
  const traffic = options.traffic && options.traffic.size > 0 ? options.traffic : null;
  if (!traffic && !notes.some((x) => x.startsWith('no traffic data'))) notes.push('no traffic data');
  const churn = options.churn ?? null;
  const trafficOf = (name: string): number | null => {
    if (!traffic) return null;
    let sum = 0;
    for (const [mod, reqs] of traffic) if (mod === name || name.endsWith(`.${mod}`)) sum += reqs;
    return sum;
  };

  const candidates = [...Array(n).keys()].filter((id) => !shared[id]);
  const maxOf = (f: (id: number) => number): number => {
    let max = 1e-9; // avoids 0/0 when no module has the measure
    for (const id of candidates) {
      const v = f(id);
      if (v > max) max = v;
    }
    return max;
  };
  const callsOf = (id: number): number => calls[id] ?? fanIn[id];
  const maxCalls = maxOf(callsOf);
  const maxFanIn = maxOf((id) => fanIn[id]);
  const maxFanOut = maxOf((id) => fanOut[id]);
  const maxLoc = maxOf((id) => graph.modules[id].loc);
  const maxBlast = blast ? maxOf((id) => blast![id]) : 1;
  const maxTraffic = traffic ? maxOf((id) => trafficOf(names[id]) ?? 0) : 1;
  const maxChurn = churn ? maxOf((id) => churn.commits.get(names[id]) ?? 0) : 1;

  const modules: PlanModule[] = graph.modules.map((m, id) => {
    const reasons: string[] = [];
    const routes = routesOf(m.name);
    const deps = graph.out[id].filter((b) => runtime(id, b));
    const sharedDeps = deps.filter((b) => shared[b]).map((b) => names[b]);
    const cycleIds = shared[id] ? [] : (compMembers.get(comp[id]) ?? []);
    const t = trafficOf(m.name);
    const ch = churn ? (churn.commits.get(m.name) ?? 0) : null;
    let score = 0;
    if (shared[id]) {
      reasons.push(
        `shared foundation: imported by ${fanIn[id]} of ${n - 1} modules; every service keeps its own access until the last wave`,
      );
    } else {
      const term = (weight: number, value: number, max: number): number => {
        const v = (weight * value) / max;
        score += v;
        return v;
      };
      const depNames = deps.filter((b) => !shared[b]).map((b) => names[b]);
      const fo = term(WEIGHT.fanOut, fanOut[id], maxFanOut);
      reasons.push(
        fanOut[id] === 0
          ? `few dependencies: imports ${sharedDeps.length > 0 ? `only the shared ${list(sharedDeps)}` : 'no other module of the tree'} (${fmt(fo)})`
          : `depends on ${fanOut[id]} module${fanOut[id] > 1 ? 's' : ''}: ${list(depNames)}${sharedDeps.length ? ` (+ shared ${list(sharedDeps)})` : ''} (${fmt(fo)})`,
      );
      const c = calls[id];
      const cv = term(WEIGHT.calls, callsOf(id), maxCalls);
      const fv = term(WEIGHT.fanIn, fanIn[id], maxFanIn);
      reasons.push(
        fanIn[id] === 0
          ? `no callers inside the tree (${fmt(cv + fv)})`
          : `${callsOf(id) >= maxCalls / 2 ? 'many callers' : 'callers'}: ${c !== null ? `${c} reference${c === 1 ? '' : 's'} from ` : ''}${fanIn[id]} module${fanIn[id] > 1 ? 's' : ''} (${list(callers[id].sort(byName))}), each a call site to switch to the service (${fmt(cv + fv)})`,
      );
      const failover = routes.length > 0 && routes.every((r) => r.failover);
      const routeWord = routes.length > 1 ? 'its routes fail' : 'its route fails';
      if (blast) {
        const bv = term(WEIGHT.blast, blast[id], maxBlast);
        const reach = `a failure reaches ${blast[id]} of ${n - 1} modules through imports (${fmt(bv)})`;
        // "Harmless" means a failure stays small: few modules reach it, or the proxy sends its traffic back to legacy.
        if (failover) reasons.push(`harmless if it fails: ${routeWord} over to legacy, and ${reach}`);
        else if (blast[id] <= (n - 1) / 2) reasons.push(`harmless if it fails: ${reach}`);
        else reasons.push(`risky if it fails: ${reach}`);
      } else if (failover) reasons.push(`harmless if it fails: ${routeWord} over to legacy`);
      const lv = term(WEIGHT.loc, m.loc, maxLoc);
      reasons.push(`${m.loc} lines of code (${fmt(lv)})`);
      if (t !== null)
        reasons.push(
          `traffic: ${t} requests through its routes (${fmt(term(WEIGHT.traffic, t, maxTraffic))})`,
        );
      else reasons.push('no traffic data');
      if (ch !== null) {
        const co = churn!.coChange.get(m.name) ?? 0;
        const chv = term(WEIGHT.churn, ch, maxChurn);
        const cov = term(WEIGHT.coChange, co, 1);
        reasons.push(
          `churn: ${ch} commit${ch === 1 ? '' : 's'}, ${Math.round(co * 100)}% changed together with other modules (${fmt(chv + cov)})`,
        );
      }
      if (cycleIds.length > 1)
        reasons.push(
          `in an import cycle with ${list(
            cycleIds
              .filter((x) => x !== id)
              .map((x) => names[x])
              .sort(byName),
          )}: extract together, or apply the suggested cuts first`,
        );
      if (routes.length > 0)
        reasons.push(
          `takes over route${routes.length > 1 ? 's' : ''}: ${routes.map((r) => `${r.id} (${r.path})`).join(', ')}`,
        );
    }
    return {
      name: m.name,
      file: m.file,
      loc: m.loc,
      wave: wave[id],
      score: Math.round(score * 100) / 100,
      rank: 0,
      fanIn: fanIn[id],
      fanOut: fanOut[id],
      cycle: cycleOf.get(m.name) ?? null,
      shared: shared[id] === 1,
      routes: routes.map((r) => r.id),
      traffic: t,
      churn: ch,
      reasons,
    };
  });

  const ordered = [...modules].sort(
    (a, b) =>
      Number(a.shared) - Number(b.shared) || a.wave - b.wave || b.score - a.score || byName(a.name, b.name),
  );
  ordered.forEach((m, i) => {
    m.rank = i + 1;
  });
  const waves: PlanWave[] = [];
  for (const m of ordered) {
    let w = waves[waves.length - 1];
    if (!w || w.wave !== m.wave) {
      w = { wave: m.wave, modules: [], ...(m.shared ? { shared: true } : {}) };
      waves.push(w);
    }
    w.modules.push(m.name);
  }
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
    waves,
    cuts,
    order: ordered.map((m) => m.name),
    problems: input.problems,
    notes,
  };
}
