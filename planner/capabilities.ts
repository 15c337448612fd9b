/**
 * `planCapabilities`: the extraction candidates a migration engineer would
 * pick, ranked by the seed migration's criteria. The seed's first service,
 * `block`, depended only on the database, had its own data, was called a lot,
 * was simple, and nothing serious broke if it failed. So, per capability:
 *
 *   1. dependencies on other capabilities (only libraries and its own tables is best)
 *   2. data: tables owned alone, or shared (the blocker, named)
 *   3. entry points, and traffic through them (store or access log)
 *   4. size
 *   5. blast radius: who breaks when it fails; being imported is a cost
 *
 * Each criterion is one reason line ending with its contribution to the
 * score. Shared stateless code (helpers, constants, exceptions, base
 * classes) with no entry point is a library: listed apart, never ranked.
 * A unit that runs as its own process (planner/processes.ts) is never one.
 */
import { stronglyConnected } from './cycles.js';
import { assignUnits, type Unit } from './capability-units.js';
import { type DataOwnership, findDataOwnership, type TableUse, withSqlOwners } from './data-ownership.js';
import { type EntryPoint, findEntryPoints, type PlanRoute, routePathRegExp } from './entry-points.js';
import { findProcesses, type ProcessEvidence } from './processes.js';
import { type ModuleFacts, READER_NAMES } from './python-facts.js';
import type { ImportRecord, ModuleInfo, PlanCandidate, PlanLibrary, SharedTable } from './types.js';

export interface CapabilityInput {
  modules: ModuleInfo[];
  imports: ImportRecord[];
  facts: ReadonlyMap<string, ModuleFacts>;
  /** False for graph input: no source was read, so tables and entry points are unknown, not absent. */
  evidence?: boolean;
  /** Modules left out of the plan (migrations, tests): they still mark a Django app. */
  leftOut?: string[];
  /** Package depth for units (default: chosen from the tree). */
  depth?: number;
  routes?: PlanRoute[];
  /** Requests per config `module:` from the proxy's store. */
  traffic?: Map<string, number> | null;
  /** Requests per request path from an access log. */
  accessLog?: Map<string, number> | null;
}

export interface CapabilityPlan {
  candidates: PlanCandidate[];
  libraries: PlanLibrary[];
  /** Unit and entry points per candidate, for `--emit-routes`. */
  entryPoints: Map<string, EntryPoint[]>;
  notes: string[];
}

/** Score contributions; see the file comment for the order of importance. */
const SCORE = {
  noDependency: 1,
  perDependency: -0.5,
  dependencyFloor: -3,
  ownsData: 1.5,
  ownsSharedData: 0.5,
  perSharedOwned: -0.5,
  /** Owning many shared tables costs at most this much (the data layer's −21.5 is gone). */
  sharedOwnedFloor: -1.5,
  perForeignRead: -0.5,
  perForeignWrite: -0.75,
  foreignFloor: -2.5,
  entryPoint: 1,
  noEntryPoint: -1,
  /** Runs as its own process (entry script, __main__, a service role): extractable, though not routable by the proxy. */
  ownProcess: 0.5,
  traffic: 2,
  size: -1,
  blast: -2.5,
  callSites: -0.5,
  cycle: -1,
  /** Neither tables nor entry points: glue or scripts, not a service on its own. */
  nothingToExtract: -1,
};
const SOURCE_LABEL: Record<PlanCandidate['source'], [string, string]> = {
  'django-app': ['Django app', 'Django apps'],
  blueprint: ['Flask blueprint', 'Flask blueprints'],
  feature: ['feature across layers', 'features across layers'],
  package: ['package', 'packages'],
  module: ['module', 'modules'],
};
/** Call sites at which switching callers to a service costs the full callSites weight. */
const CALL_SITES_FULL = 100;

const LIBRARY_WORDS =
  /(^|[._])(utils?|helpers?|common|core|lib|libs|shared|base|constants?|consts|exceptions?|errors|types|typing|compat|mixins|decorators|validators|enums|conf|config|signals|templatetags|fields)$/;

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const fmt = (x: number): string => `${x >= 0 ? '+' : ''}${(Math.round(x * 100) / 100).toFixed(2)}`;
const list = (names: string[], max = 4): string =>
  names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;

export function planCapabilities(input: CapabilityInput): CapabilityPlan {
  const notes: string[] = [];
  const evidence = input.evidence !== false;
  const { units, unitOf, depth, autoDepth } = assignUnits(
    input.modules,
    input.facts,
    input.depth,
    input.leftOut,
  );
  const locOf = new Map(input.modules.map((m) => [m.name, m.loc]));
  const unitLoc = new Map(units.map((u) => [u.name, u.modules.reduce((s, m) => s + (locOf.get(m) ?? 0), 0)]));
  const packages = packageModules(input.modules);
  const graph = unitGraph(input, units, unitOf, packages);

  // --- data and entry points
  const moduleNames = new Set(input.modules.map((m) => m.name));
  const entry = findEntryPoints(input.facts, unitOf, moduleNames, input.routes ?? []);
  const firstPass = findDataOwnership(input.facts, input.imports, unitOf, packages);
  // Libraries are found before tables named only in SQL get owners: a library never owns one.
  const processes = findProcesses(units, unitOf, input.facts, (n) => graph.importers.get(n)?.size ?? 0);
  const libraryReason = findLibraries(units, graph, entry, firstPass, evidence, input.facts, processes);
  const isLibrary = (name: string): boolean => libraryReason.has(name);
  const data = withSqlOwners(firstPass, isLibrary);

  const empty = units.filter((u) => unitLoc.get(u.name) === 0 && !isLibrary(u.name));
  if (empty.length > 0)
    notes.push(
      `${plural(empty.length, 'empty package')} left out of the candidates: ${list(empty.map((u) => u.name).sort(byName))}`,
    );
  // --- the candidates: every unit with code that is not a library, rated on the five criteria
  // A data layer is never a candidate: its tables go to the capabilities using them through it.
  const caps = units.filter(
    (u) => !isLibrary(u.name) && !data.dataLayers.has(u.name) && unitLoc.get(u.name)! > 0,
  );
  const capNames = new Set(caps.map((u) => u.name));
  const { traffic, trafficSource } = unitTraffic(input, unitOf, entry);
  const ctx: CandidateContext = {
    evidence,
    graph,
    capNames,
    isLibrary,
    data,
    entry,
    processes,
    unitLoc,
    ...reachAndCycles(units, graph, capNames),
    traffic,
    trafficSource,
    maxTraffic: traffic ? Math.max(1, ...traffic.values()) : 1,
    maxLoc: Math.max(1, ...caps.map((u) => unitLoc.get(u.name)!)),
    others: Math.max(1, caps.length - 1),
  };
  const candidates = rankCandidates(caps.map((u) => rateCandidate(ctx, u)));
  const libraries = [...listLibraries(units, graph, libraryReason), ...listDataLayers(units, graph, data)];
  notes.unshift(summaryNote(candidates, libraries, depth, autoDepth));
  if (!traffic)
    notes.push('no traffic data: give --config with a store that has stats, or --access-log FILE');
  return { candidates, libraries, entryPoints: entry, notes };
}

function listLibraries(units: Unit[], graph: UnitGraph, libraryReason: Map<string, string>): PlanLibrary[] {
  return units
    .filter((u) => libraryReason.has(u.name))
    .map((u) => ({
      name: u.name,
      modules: [...u.modules].sort(byName),
      importers: [...graph.importers.get(u.name)!].sort(byName),
      reason: `shared library — copy or package it, don't extract it: ${libraryReason.get(u.name)}`,
    }))
    .sort((a, b) => b.importers.length - a.importers.length || byName(a.name, b.name));
}

/** Data layers, each with the tables it wraps and who reaches them through it. */
function listDataLayers(units: Unit[], graph: UnitGraph, data: DataOwnership): PlanLibrary[] {
  return units
    .filter((u) => data.dataLayers.has(u.name))
    .map((u) => {
      const wrapped = [...(data.declares.get(u.name) ?? [])].sort(byName);
      const users = [...data.via].filter(([x, t]) => x !== u.name && t.size > 0).map(([x]) => x);
      const holds =
        wrapped.length > 0
          ? `declares ${plural(wrapped.length, 'table')} (${list(wrapped, 3)})`
          : 'wraps the data layer below it';
      return {
        name: u.name,
        modules: [...u.modules].sort(byName),
        importers: [...graph.importers.get(u.name)!].sort(byName),
        reason: `data layer — ${holds}; ${plural(users.length, 'unit')} reach tables through it: its tables belong to the capabilities that use them through it (see their "via the data layer" lines), so it is never extracted first`,
        dataLayer: true as const,
      };
    })
    .sort((a, b) => byName(a.name, b.name));
}

/** The first note: how many capabilities of each source and libraries, and the depth packages were cut at. */
function summaryNote(
  candidates: PlanCandidate[],
  libraries: PlanLibrary[],
  depth: number,
  autoDepth: boolean,
): string {
  const sources = new Map<PlanCandidate['source'], number>();
  for (const c of candidates) sources.set(c.source, (sources.get(c.source) ?? 0) + 1);
  const layers = libraries.filter((l) => l.dataLayer).length;
  return `${plural(candidates.length, 'capability', 'capabilities')} (${[...sources].map(([s, n]) => `${n} ${SOURCE_LABEL[s][n === 1 ? 0 : 1]}`).join(', ')}) and ${plural(libraries.length - layers, 'shared library', 'shared libraries')}${layers > 0 ? `, ${plural(layers, 'data layer')}` : ''}; packages cut at depth ${depth}${autoDepth ? ' (chosen from the tree; --depth N overrides)' : ' (--depth)'}`;
}

/** Run-time imports between units, with the call sites at each imported unit. */
interface UnitGraph {
  /** Unit -> the units it imports. */
  deps: Map<string, Set<string>>;
  /** Unit -> the units importing it. */
  importers: Map<string, Set<string>>;
  /** Unit -> references to it from other units (`uses` of the imports, 1 when not counted). */
  sites: Map<string, number>;
}

function unitGraph(
  input: CapabilityInput,
  units: Unit[],
  unitOf: ReadonlyMap<string, Unit>,
  packages: ReadonlySet<string>,
): UnitGraph {
  const deps = new Map<string, Set<string>>(units.map((u) => [u.name, new Set()]));
  const importers = new Map<string, Set<string>>(units.map((u) => [u.name, new Set()]));
  const sites = new Map<string, number>();
  const reexports = reexportIndex(input.facts, packages);
  const link = (a: Unit, b: Unit, uses: number): void => {
    if (a === b) return;
    deps.get(a.name)!.add(b.name);
    importers.get(b.name)!.add(a.name);
    sites.set(b.name, (sites.get(b.name) ?? 0) + uses);
  };
  for (const imp of input.imports) {
    if (imp.kind === 'type_checking' || isOwnSubmodule(imp.from, imp.to, packages)) continue;
    const a = unitOf.get(imp.from);
    const b = unitOf.get(imp.to);
    if (!a || !b) continue;
    // `from pkg.models import Email` where pkg/models/__init__.py re-exports
    // Email from pkg/models/email.py: the dependency is on the defining module.
    const through = reexports.get(imp.to);
    const names = through ? (input.facts.get(imp.from)?.symbols ?? []).filter(([to]) => to === imp.to) : [];
    const targets = names.map(([, sym]) => through?.get(sym)).filter((m): m is string => m !== undefined);
    if (targets.length === 0) link(a, b, imp.uses ?? 1);
    else for (const t of new Set(targets)) link(a, unitOf.get(t) ?? b, 1);
  }
  return { deps, importers, sites };
}

/**
 * Libraries, with the reason each is one: no entry point, no tables
 * declared, imported by several units; state-free, or the database layer
 * holding the schema, or imported by half the tree (a framework core such
 * as django.db).
 */
function findLibraries(
  units: Unit[],
  graph: UnitGraph,
  entry: Map<string, EntryPoint[]>,
  firstPass: DataOwnership,
  evidence: boolean,
  facts: ReadonlyMap<string, ModuleFacts>,
  processes: ReadonlyMap<string, ProcessEvidence>,
): Map<string, string> {
  const libraryReason = new Map<string, string>();
  for (const u of units) {
    const n = graph.importers.get(u.name)!.size;
    if (
      (entry.get(u.name)?.length ?? 0) > 0 ||
      (firstPass.declares.get(u.name)?.size ?? 0) > 0 ||
      firstPass.dataLayers.has(u.name) ||
      processes.has(u.name) ||
      n < 2
    )
      continue;
    const sqlTables = [...(firstPass.touches.get(u.name)?.entries() ?? [])].filter(
      ([t]) => !(firstPass.declares.get(u.name)?.has(t) ?? false),
    );
    const rawSql =
      [...(firstPass.touches.get(u.name)?.values() ?? [])].some((x) => x.writes > 0) || sqlTables.length > 0;
    const creates = firstPass.creates.get(u.name)?.size ?? 0;
    const foundation = n >= Math.max(3, Math.ceil(0.5 * (units.length - 1)));
    // Without source (graph input) only a library's name or its reach says what it is.
    if (!evidence && !foundation && !LIBRARY_WORDS.test(u.name)) continue;
    if (creates >= 2)
      libraryReason.set(
        u.name,
        `database layer: holds the schema of ${plural(creates, 'table')} and is imported by ${plural(n, 'unit')}; each extracted service takes its own tables' schema with it`,
      );
    else if (!rawSql || foundation)
      libraryReason.set(
        u.name,
        evidence
          ? `${describeLibrary(u, facts)} imported by ${plural(n, 'unit')}, with no entry point and no tables of its own`
          : `${describeLibrary(u, facts).replace('stateless ', '')} imported by ${plural(n, 'unit')} (graph input: by its name and reach; no source read)`,
      );
  }
  return libraryReason;
}

/**
 * Over the unit graph: who breaks, transitively, when a unit fails (only
 * capabilities count), and the capabilities in an import cycle with it.
 */
function reachAndCycles(
  units: Unit[],
  graph: UnitGraph,
  capNames: ReadonlySet<string>,
): Pick<CandidateContext, 'reachOf' | 'cycleWith'> {
  const ids = new Map(units.map((u, i) => [u.name, i]));
  const inAdj = units.map((u) => [...graph.importers.get(u.name)!].map((x) => ids.get(x)!));
  const outAdj = units.map((u) => [...graph.deps.get(u.name)!].map((x) => ids.get(x)!));
  const reachOf = (name: string): string[] => {
    const start = ids.get(name)!;
    const seen = new Set([start]);
    const stack = [start];
    while (stack.length > 0)
      for (const p of inAdj[stack.pop()!])
        if (!seen.has(p)) {
          seen.add(p);
          stack.push(p);
        }
    seen.delete(start);
    return [...seen].map((i) => units[i].name).filter((x) => capNames.has(x));
  };
  const scc = stronglyConnected(outAdj, (a, b) => capNames.has(units[a].name) && capNames.has(units[b].name));
  const cycleWith = (name: string): string[] =>
    scc.components[scc.comp[ids.get(name)!]]
      .map((i) => units[i].name)
      .filter((x) => x !== name)
      .sort(byName);
  return { reachOf, cycleWith };
}

/** Requests per unit: the store's requests per config `module:`, else an access log's per path; null without either. */
function unitTraffic(
  input: CapabilityInput,
  unitOf: ReadonlyMap<string, Unit>,
  entry: Map<string, EntryPoint[]>,
): { traffic: Map<string, number> | null; trafficSource: string } {
  if (input.traffic && input.traffic.size > 0) {
    const traffic = new Map<string, number>();
    for (const [module, reqs] of input.traffic) {
      const u = unitOf.get(module) ?? [...unitOf].find(([m]) => m.endsWith(`.${module}`))?.[1];
      if (u) traffic.set(u.name, (traffic.get(u.name) ?? 0) + reqs);
    }
    return { traffic, trafficSource: 'the store' };
  }
  if (input.accessLog && input.accessLog.size > 0)
    return { traffic: trafficFromPaths(input.accessLog, entry), trafficSource: 'the access log' };
  return { traffic: null, trafficSource: '' };
}

/** What every candidate is rated against. */
interface CandidateContext {
  /** False for graph input: tables and entry points unknown, so never counted against a unit. */
  evidence: boolean;
  graph: UnitGraph;
  capNames: ReadonlySet<string>;
  isLibrary: (name: string) => boolean;
  data: DataOwnership;
  entry: Map<string, EntryPoint[]>;
  processes: ReadonlyMap<string, ProcessEvidence>;
  unitLoc: Map<string, number>;
  /** Capabilities a failure of this one reaches through imports. */
  reachOf: (name: string) => string[];
  /** The other capabilities in its import cycle, sorted. */
  cycleWith: (name: string) => string[];
  traffic: Map<string, number> | null;
  trafficSource: string;
  maxTraffic: number;
  maxLoc: number;
  /** Other capabilities (at least 1): the blast radius is a share of them. */
  others: number;
}

/** What is known of one capability, criterion by criterion (see the file comment). */
interface CandidateFacts {
  unit: Unit;
  // 1. dependencies
  dependsOn: string[];
  libs: string[];
  // 2. data
  owns: string[];
  /** Its own tables that other units use too. */
  ownedShares: SharedTable[];
  /** Other capabilities' tables it uses, by table name. */
  foreign: Array<[string, TableUse]>;
  // 3. entry points and traffic
  points: EntryPoint[];
  /** Why it runs as its own process (empty when it does not). */
  process: string[];
  /** An entry script or long-running role: a service to extract, not just a `__main__` launcher. */
  service: boolean;
  traffic: number | null;
  /** A URLconf mounting other capabilities' views: glue, whatever else it holds. */
  urlconfOnly: boolean;
  // 4. size
  loc: number;
  // 5. blast radius and call sites
  reach: string[];
  importers: string[];
  sites: number;
  failover: boolean;
  cycleWith: string[];
}

function rateCandidate(ctx: CandidateContext, u: Unit): PlanCandidate {
  const f = candidateFacts(ctx, u);
  const terms = candidateTerms(ctx, f);
  const foreignShares = f.foreign.map(
    ([t]): SharedTable => ({ table: t, owner: ctx.data.owner.get(t)!, with: [u.name] }),
  );
  return {
    name: u.name,
    kind: 'capability' as const,
    source: u.source,
    modules: [...u.modules].sort(byName),
    loc: f.loc,
    tables: { owns: f.owns, shares: [...f.ownedShares, ...foreignShares] },
    routes: f.points.map((p) => `${p.methods ? `${p.methods.join(',')} ` : ''}${p.path}`),
    dependsOn: f.dependsOn,
    importers: f.importers,
    traffic: f.traffic,
    score: Math.round(totalScore(terms) * 100) / 100,
    rank: 0,
    reasons: candidateReasons(ctx, f, terms),
    // Glue (no tables, no entry point) ranks after every unit with something to extract.
    ...(terms.nothingToExtract !== null ? { glue: true as const } : {}),
  };
}

function candidateFacts(ctx: CandidateContext, u: Unit): CandidateFacts {
  const { data, graph } = ctx;
  const deps = [...graph.deps.get(u.name)!];
  const owns = [...data.owner]
    .filter(([, o]) => o === u.name)
    .map(([t]) => t)
    .sort(byName);
  // A data layer is how capabilities reach a table, not one more user of it.
  const users = (table: string): string[] =>
    [...data.touches]
      .filter(([x, t]) => x !== u.name && !data.dataLayers.has(x) && t.has(table))
      .map(([x]) => x)
      .sort(byName);
  const ownedShares: SharedTable[] = [];
  for (const t of owns) {
    const w = users(t);
    if (w.length > 0) ownedShares.push({ table: t, owner: u.name, with: w });
  }
  const touched = data.touches.get(u.name) ?? new Map<string, TableUse>();
  const points = ctx.entry.get(u.name) ?? [];
  return {
    unit: u,
    dependsOn: deps.filter((d) => ctx.capNames.has(d)).sort(byName),
    libs: deps.filter((d) => ctx.isLibrary(d)).sort(byName),
    owns,
    ownedShares,
    foreign: [...touched]
      .filter(([t]) => data.owner.has(t) && data.owner.get(t) !== u.name)
      .sort((a, b) => byName(a[0], b[0])),
    points,
    process: ctx.processes.get(u.name)?.evidence ?? [],
    service: ctx.processes.get(u.name)?.service ?? false,
    traffic: ctx.traffic ? (ctx.traffic.get(u.name) ?? 0) : null,
    urlconfOnly: u.modules.every((m) => m === 'urls' || m.endsWith('.urls')),
    loc: ctx.unitLoc.get(u.name)!,
    reach: ctx.reachOf(u.name).sort(byName),
    importers: [...graph.importers.get(u.name)!].sort(byName),
    sites: graph.sites.get(u.name) ?? 0,
    failover: points.some((p) => p.source === 'config' && p.failover),
    cycleWith: ctx.cycleWith(u.name),
  };
}

// --- scoring: each criterion's contribution, null where its line only informs ("+0.00")

interface CandidateTerms {
  dependencies: number;
  ownData: number | null;
  foreignData: number | null;
  entryPoints: number | null;
  traffic: number | null;
  nothingToExtract: number | null;
  size: number;
  blast: number | null;
  callSites: number | null;
  cycle: number | null;
}

function candidateTerms(ctx: CandidateContext, f: CandidateFacts): CandidateTerms {
  const { evidence } = ctx;
  let foreign = 0;
  for (const [, use] of f.foreign) foreign += use.writes > 0 ? SCORE.perForeignWrite : SCORE.perForeignRead;
  const sharedOwned = f.ownedShares.length;
  return {
    dependencies:
      f.dependsOn.length === 0
        ? SCORE.noDependency
        : Math.max(SCORE.dependencyFloor, SCORE.perDependency * f.dependsOn.length),
    ownData:
      !evidence || f.owns.length === 0
        ? null
        : sharedOwned === 0
          ? SCORE.ownsData
          : Math.max(SCORE.sharedOwnedFloor, SCORE.ownsSharedData + SCORE.perSharedOwned * sharedOwned),
    foreignData: f.foreign.length > 0 ? Math.max(SCORE.foreignFloor, foreign) : null,
    entryPoints:
      f.points.length > 0
        ? SCORE.entryPoint
        : f.service
          ? SCORE.ownProcess
          : evidence
            ? SCORE.noEntryPoint
            : null,
    traffic: f.traffic !== null ? (SCORE.traffic * f.traffic) / ctx.maxTraffic : null,
    nothingToExtract: f.urlconfOnly || isNothingToExtract(ctx, f) ? SCORE.nothingToExtract : null,
    size: (SCORE.size * f.loc) / ctx.maxLoc,
    blast: f.reach.length > 0 ? (SCORE.blast * f.reach.length) / ctx.others : null,
    callSites:
      f.importers.length > 0
        ? (SCORE.callSites * Math.min(f.sites, CALL_SITES_FULL)) / CALL_SITES_FULL
        : null,
    cycle: f.cycleWith.length > 0 ? SCORE.cycle : null,
  };
}

/** Neither tables nor an entry point in the source: glue, scripts or code used in-process. */
function isNothingToExtract(ctx: CandidateContext, f: CandidateFacts): boolean {
  return ctx.evidence && f.owns.length === 0 && f.foreign.length === 0 && f.points.length === 0 && !f.service;
}

/** The terms summed in the order of the reasons: float addition is not associative, and ranks compare scores. */
function totalScore(t: CandidateTerms): number {
  let score = 0;
  for (const v of [
    t.dependencies,
    t.ownData,
    t.foreignData,
    t.entryPoints,
    t.traffic,
    t.nothingToExtract,
    t.size,
    t.blast,
    t.callSites,
    t.cycle,
  ])
    if (v !== null) score += v;
  return score;
}

// --- reasons: one line per criterion, ending with its contribution

function candidateReasons(ctx: CandidateContext, f: CandidateFacts, terms: CandidateTerms): string[] {
  return [
    dependencyReason(f, terms.dependencies),
    ...dataReasons(ctx, f, terms),
    ...entryPointReasons(ctx, f, terms),
    `size: ${f.loc} lines in ${plural(f.unit.modules.length, 'module')} (${fmt(terms.size)})`,
    ...blastReasons(ctx, f, terms),
  ];
}

function dependencyReason(f: CandidateFacts, term: number): string {
  const needs = [
    ...(f.libs.length > 0
      ? [`the shared ${f.libs.length === 1 ? 'library' : 'libraries'} ${list(f.libs)}`]
      : []),
    ...(f.owns.length > 0 ? ['its own tables'] : []),
  ];
  return f.dependsOn.length === 0
    ? `depends on no other capability${needs.length > 0 ? `: only ${needs.join(' and ')}` : ''} (${fmt(term)})`
    : `depends on ${plural(f.dependsOn.length, 'other capability', 'other capabilities')}: ${list(f.dependsOn)} (${fmt(term)})`;
}

function dataReasons(ctx: CandidateContext, f: CandidateFacts, terms: CandidateTerms): string[] {
  const reasons: string[] = [];
  const { owns, ownedShares: shares } = f;
  if (terms.ownData === null)
    reasons.push(
      ctx.evidence
        ? 'no tables of its own: stateless (+0.00)'
        : 'data: unknown for graph input (scan the source to find tables) (+0.00)',
    );
  else if (shares.length === 0)
    reasons.push(
      `owns its data: ${plural(owns.length, 'table')} (${list(owns)})${viaLayer(ctx, f)} that no other capability or library reads or writes (${fmt(terms.ownData)})`,
    );
  else
    reasons.push(
      `owns ${plural(owns.length, 'table')} (${list(owns)})${viaLayer(ctx, f)}; blocker: ${shares
        .slice(0, 3)
        .map((s) => `${s.table} is also used by ${list(s.with, 3)}`)
        .join(
          '; ',
        )}${shares.length > 3 ? ` and ${shares.length - 3} more shared` : ''} (${fmt(terms.ownData)})`,
    );
  if (terms.foreignData !== null) {
    const owner = ctx.data.owner;
    const writes = f.foreign.filter(([, x]) => x.writes > 0).map(([t]) => t);
    reasons.push(
      `uses ${plural(f.foreign.length, 'table')} of other capabilities: ${list(
        f.foreign.map(([t]) => `${t} (${owner.get(t)})`),
        3,
      )}${writes.length > 0 ? `, writing ${list(writes, 3)}` : ''}; blocker: give it an API or move the table first (${fmt(terms.foreignData)})`,
    );
  }
  return reasons;
}

/** ", via the data layer: a, b" for owned tables the capability reaches only through a data layer. */
function viaLayer(ctx: CandidateContext, f: CandidateFacts): string {
  const via = ctx.data.via.get(f.unit.name);
  const through = via ? f.owns.filter((t) => via.has(t)) : [];
  if (through.length === 0) return '';
  const layers = [...ctx.data.dataLayers.keys()].sort(byName);
  return `, ${through.length === f.owns.length ? 'all' : plural(through.length, 'table')} via the data layer (${list(layers, 2)})`;
}

function entryPointReasons(ctx: CandidateContext, f: CandidateFacts, terms: CandidateTerms): string[] {
  const reasons: string[] = [];
  if (f.points.length > 0)
    reasons.push(
      `serves ${plural(f.points.length, 'route')}: ${list(
        f.points.map((p) => (p.source === 'config' ? `${p.path} (route ${p.origin})` : p.path)),
        3,
      )} (${fmt(terms.entryPoints ?? 0)})`,
    );
  if (f.service)
    reasons.push(
      `runs as its own process or long-running service: ${f.process.join('; ')}${f.points.length > 0 ? ' (+0.00)' : `; the proxy routes no URL to it, its callers reach it by RPC, queue or schedule (${fmt(terms.entryPoints ?? 0)})`}`,
    );
  else if (f.process.length > 0)
    reasons.push(`${f.process.join('; ')}: a launcher, not a service of its own (+0.00)`);
  const said = f.service || f.points.length > 0;
  if (!said && terms.entryPoints === null)
    reasons.push("entry points: unknown for graph input (a config route's module: names them) (+0.00)");
  else if (!said)
    reasons.push(
      `no entry point found by the readers that ran (${READER_NAMES.join(', ')}); if it serves requests another way, a config route's module: names it (${fmt(terms.entryPoints ?? 0)})`,
    );
  if (f.traffic !== null && terms.traffic !== null)
    reasons.push(
      `traffic: ${f.traffic} requests through its routes in ${ctx.trafficSource} (${fmt(terms.traffic)})`,
    );
  else reasons.push('traffic: no traffic data (+0.00)');
  if (terms.nothingToExtract !== null)
    reasons.push(
      f.urlconfOnly
        ? `URL configuration only: the routing table that mounts other capabilities' views stays until its last route moves (${fmt(terms.nothingToExtract)})`
        : `nothing to extract on its own: no tables and no entry point (glue, scripts or code used in-process) (${fmt(terms.nothingToExtract)})`,
    );
  return reasons;
}

function blastReasons(ctx: CandidateContext, f: CandidateFacts, terms: CandidateTerms): string[] {
  const reasons: string[] = [];
  if (terms.blast === null)
    reasons.push(
      `blast radius: no other capability imports it; a failure stays inside it${f.failover ? ' and its routes fail over to legacy' : ''} (+0.00)`,
    );
  else
    reasons.push(
      `blast radius: a failure reaches ${f.reach.length} of ${ctx.others} other capabilities through imports (${list(f.reach, 3)})${f.failover ? '; its routes fail over to legacy' : ''} (${fmt(terms.blast)})`,
    );
  if (terms.callSites !== null)
    reasons.push(
      `imported by ${plural(f.importers.length, 'unit')} (${list(f.importers, 3)}) at ${plural(f.sites, 'call site')}: each must switch to calling the service (${fmt(terms.callSites)})`,
    );
  if (terms.cycle !== null)
    reasons.push(
      `in an import cycle with ${list(f.cycleWith, 3)}: cut the cycle first (see the suggested cuts) (${fmt(terms.cycle)})`,
    );
  return reasons;
}

/** Glue (rateCandidate marks it) follows every unit with something to extract, whatever its score. */
function rankCandidates(candidates: PlanCandidate[]): PlanCandidate[] {
  const glue = (c: PlanCandidate): number => (c.glue ? 1 : 0);
  candidates.sort(
    (a, b) => glue(a) - glue(b) || b.score - a.score || a.loc - b.loc || byName(a.name, b.name),
  );
  candidates.forEach((c, i) => {
    c.rank = i + 1;
  });
  return candidates;
}

/** Modules that are packages (`__init__.py`). */
function packageModules(modules: ModuleInfo[]): Set<string> {
  return new Set(
    modules.filter((m) => m.file !== null && /(^|\/)__init__\.py$/.test(m.file)).map((m) => m.name),
  );
}

/** A package's `__init__` importing its own submodules is packaging (a façade), not a dependency of logic. */
export function isOwnSubmodule(from: string, to: string, packages: ReadonlySet<string>): boolean {
  return packages.has(from) && to.startsWith(`${from}.`);
}

/** Per package: names its `__init__` re-exports from its own submodules -> the defining module. */
function reexportIndex(
  facts: ReadonlyMap<string, ModuleFacts>,
  packages: ReadonlySet<string>,
): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const pkg of packages) {
    const symbols = facts.get(pkg)?.symbols;
    if (!symbols) continue;
    const map = new Map<string, string>();
    for (const [to, sym] of symbols) if (to.startsWith(`${pkg}.`)) map.set(sym, to);
    if (map.size > 0) out.set(pkg, map);
  }
  return out;
}

/** "helpers", "constants", "exceptions"... by the unit's module names, for the library's reason. */
function describeLibrary(u: Unit, facts: ReadonlyMap<string, ModuleFacts>): string {
  const words = new Set<string>();
  for (const m of u.modules) {
    const hit = LIBRARY_WORDS.exec(m);
    if (hit) words.add(hit[2]);
  }
  const classes = u.modules.reduce((s, m) => s + (facts.get(m)?.classes.length ?? 0), 0);
  const kind =
    words.size > 0
      ? `code (${list([...words].sort(byName), 4)})`
      : classes > 0
        ? 'code (base classes)'
        : 'code';
  return `stateless ${kind}`;
}

/** Requests per unit: each logged path goes to the unit whose route pattern matches it most specifically. */
function trafficFromPaths(hits: Map<string, number>, entry: Map<string, EntryPoint[]>): Map<string, number> {
  const patterns: Array<{ unit: string; re: RegExp; weight: number }> = [];
  for (const [unit, points] of entry)
    for (const p of points)
      patterns.push({ unit, re: routePathRegExp(p.path), weight: p.path.replace(/[:*][^/]*/g, '').length });
  patterns.sort((a, b) => b.weight - a.weight);
  const out = new Map<string, number>();
  for (const [path, n] of hits) {
    const hit = patterns.find((p) => p.re.test(path));
    if (hit) out.set(hit.unit, (out.get(hit.unit) ?? 0) + n);
  }
  return out;
}
