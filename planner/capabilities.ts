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
 * classes) is a library: listed apart, never ranked.
 */
import { stronglyConnected } from './cycles.js';
import { assignUnits, type Unit } from './capability-units.js';
import { findDataOwnership, withSqlOwners } from './data-ownership.js';
import { type EntryPoint, findEntryPoints, type PlanRoute, routePathRegExp } from './entry-points.js';
import type { ModuleFacts } from './python-facts.js';
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
  perForeignRead: -0.5,
  perForeignWrite: -0.75,
  foreignFloor: -2.5,
  entryPoint: 1,
  noEntryPoint: -1,
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

  // --- the unit graph: run-time imports between units, with their call sites
  const deps = new Map<string, Set<string>>(units.map((u) => [u.name, new Set()]));
  const importers = new Map<string, Set<string>>(units.map((u) => [u.name, new Set()]));
  const sites = new Map<string, number>();
  const packages = packageModules(input.modules);
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

  // --- data and entry points
  const moduleNames = new Set(input.modules.map((m) => m.name));
  const entry = findEntryPoints(input.facts, unitOf, moduleNames, input.routes ?? []);
  const firstPass = findDataOwnership(input.facts, input.imports, unitOf, packages);

  // --- libraries: no entry point, no tables declared, imported by several
  // units; state-free, or the database layer holding the schema, or imported
  // by half the tree (a framework core such as django.db).
  const libraryReason = new Map<string, string>();
  for (const u of units) {
    const n = importers.get(u.name)!.size;
    if ((entry.get(u.name)?.length ?? 0) > 0 || (firstPass.declares.get(u.name)?.size ?? 0) > 0 || n < 2)
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
          ? `${describeLibrary(u, input.facts)} imported by ${plural(n, 'unit')}, with no entry point and no tables of its own`
          : `${describeLibrary(u, input.facts).replace('stateless ', '')} imported by ${plural(n, 'unit')} (graph input: by its name and reach; no source read)`,
      );
  }
  const isLibrary = (name: string): boolean => libraryReason.has(name);
  const data = withSqlOwners(firstPass, isLibrary);

  const empty = units.filter((u) => unitLoc.get(u.name) === 0 && !isLibrary(u.name));
  if (empty.length > 0)
    notes.push(
      `${plural(empty.length, 'empty package')} left out of the candidates: ${list(empty.map((u) => u.name).sort(byName))}`,
    );
  const caps = units.filter((u) => !isLibrary(u.name) && unitLoc.get(u.name)! > 0);
  const capNames = new Set(caps.map((u) => u.name));

  // --- blast radius over the unit graph: who breaks, transitively, when a unit fails
  const ids = new Map(units.map((u, i) => [u.name, i]));
  const inAdj = units.map((u) => [...importers.get(u.name)!].map((x) => ids.get(x)!));
  const outAdj = units.map((u) => [...deps.get(u.name)!].map((x) => ids.get(x)!));
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

  // --- traffic: the store's requests per module, or an access log's per path
  let traffic: Map<string, number> | null = null;
  let trafficSource = '';
  if (input.traffic && input.traffic.size > 0) {
    traffic = new Map();
    trafficSource = 'the store';
    for (const [module, reqs] of input.traffic) {
      const u = unitOf.get(module) ?? [...unitOf].find(([m]) => m.endsWith(`.${module}`))?.[1];
      if (u) traffic.set(u.name, (traffic.get(u.name) ?? 0) + reqs);
    }
  } else if (input.accessLog && input.accessLog.size > 0) {
    traffic = trafficFromPaths(input.accessLog, entry);
    trafficSource = 'the access log';
  }
  const maxTraffic = traffic ? Math.max(1, ...traffic.values()) : 1;
  const maxLoc = Math.max(1, ...caps.map((u) => unitLoc.get(u.name)!));
  const others = Math.max(1, caps.length - 1);

  const candidates: PlanCandidate[] = caps.map((u) => {
    const reasons: string[] = [];
    let score = 0;
    const term = (v: number): string => {
      score += v;
      return fmt(v);
    };
    // 1. dependencies
    const dependsOn = [...deps.get(u.name)!].filter((d) => capNames.has(d)).sort(byName);
    const libs = [...deps.get(u.name)!].filter((d) => isLibrary(d)).sort(byName);
    const ownsAny = [...data.owner.values()].includes(u.name);
    const needs = [
      ...(libs.length > 0 ? [`the shared ${libs.length === 1 ? 'library' : 'libraries'} ${list(libs)}`] : []),
      ...(ownsAny ? ['its own tables'] : []),
    ];
    if (dependsOn.length === 0)
      reasons.push(
        `depends on no other capability${needs.length > 0 ? `: only ${needs.join(' and ')}` : ''} (${term(SCORE.noDependency)})`,
      );
    else
      reasons.push(
        `depends on ${plural(dependsOn.length, 'other capability', 'other capabilities')}: ${list(dependsOn)} (${term(Math.max(SCORE.dependencyFloor, SCORE.perDependency * dependsOn.length))})`,
      );
    // 2. data
    const touched = data.touches.get(u.name) ?? new Map();
    const owns = [...data.owner]
      .filter(([, o]) => o === u.name)
      .map(([t]) => t)
      .sort(byName);
    const users = (table: string): string[] =>
      [...data.touches]
        .filter(([x, t]) => x !== u.name && t.has(table))
        .map(([x]) => x)
        .sort(byName);
    const shares: SharedTable[] = [];
    for (const t of owns) {
      const w = users(t);
      if (w.length > 0) shares.push({ table: t, owner: u.name, with: w });
    }
    if (!evidence) reasons.push('data: unknown for graph input (scan the source to find tables) (+0.00)');
    else if (owns.length === 0) reasons.push('no tables of its own: stateless (+0.00)');
    else if (shares.length === 0)
      reasons.push(
        `owns its data: ${plural(owns.length, 'table')} (${list(owns)}) that no other capability or library reads or writes (${term(SCORE.ownsData)})`,
      );
    else
      reasons.push(
        `owns ${plural(owns.length, 'table')} (${list(owns)}); blocker: ${shares
          .slice(0, 3)
          .map((s) => `${s.table} is also used by ${list(s.with, 3)}`)
          .join(
            '; ',
          )}${shares.length > 3 ? ` and ${shares.length - 3} more shared` : ''} (${term(SCORE.ownsSharedData + SCORE.perSharedOwned * shares.length)})`,
      );
    const foreign = [...touched]
      .filter(([t]) => data.owner.has(t) && data.owner.get(t) !== u.name)
      .sort((a, b) => byName(a[0], b[0]));
    if (foreign.length > 0) {
      let v = 0;
      for (const [t, use] of foreign) {
        v += use.writes > 0 ? SCORE.perForeignWrite : SCORE.perForeignRead;
        shares.push({ table: t, owner: data.owner.get(t)!, with: [u.name] });
      }
      const writes = foreign.filter(([, x]) => x.writes > 0).map(([t]) => t);
      reasons.push(
        `uses ${plural(foreign.length, 'table')} of other capabilities: ${list(
          foreign.map(([t]) => `${t} (${data.owner.get(t)})`),
          3,
        )}${writes.length > 0 ? `, writing ${list(writes, 3)}` : ''}; blocker: give it an API or move the table first (${term(Math.max(SCORE.foreignFloor, v))})`,
      );
    }
    // 3. entry points and traffic
    const points = entry.get(u.name) ?? [];
    if (points.length > 0)
      reasons.push(
        `serves ${plural(points.length, 'route')}: ${list(
          points.map((p) => (p.source === 'config' ? `${p.path} (route ${p.origin})` : p.path)),
          3,
        )} (${term(SCORE.entryPoint)})`,
      );
    else if (!evidence)
      reasons.push("entry points: unknown for graph input (a config route's module: names them) (+0.00)");
    else
      reasons.push(
        `no entry point: no URL pattern, Flask route or config route names it; its callers must change before the proxy can route to it (${term(SCORE.noEntryPoint)})`,
      );
    const t = traffic ? (traffic.get(u.name) ?? 0) : null;
    if (t !== null)
      reasons.push(
        `traffic: ${t} requests through its routes in ${trafficSource} (${term((SCORE.traffic * t) / maxTraffic)})`,
      );
    else reasons.push('traffic: no traffic data (+0.00)');
    const urlconfOnly = u.modules.every((m) => m === 'urls' || m.endsWith('.urls'));
    if (urlconfOnly)
      reasons.push(
        `URL configuration only: the routing table that mounts other capabilities' views stays until its last route moves (${term(SCORE.nothingToExtract)})`,
      );
    else if (evidence && owns.length === 0 && foreign.length === 0 && points.length === 0)
      reasons.push(
        `nothing to extract on its own: no tables and no entry point (glue, scripts or code used in-process) (${term(SCORE.nothingToExtract)})`,
      );
    // 4. size
    const loc = unitLoc.get(u.name)!;
    reasons.push(
      `size: ${loc} lines in ${plural(u.modules.length, 'module')} (${term((SCORE.size * loc) / maxLoc)})`,
    );
    // 5. blast radius and call sites
    const reach = reachOf(u.name);
    const direct = [...importers.get(u.name)!].sort(byName);
    const failover = points.some((p) => p.source === 'config' && p.failover);
    if (reach.length === 0)
      reasons.push(
        `blast radius: no other capability imports it; a failure stays inside it${failover ? ' and its routes fail over to legacy' : ''} (+0.00)`,
      );
    else
      reasons.push(
        `blast radius: a failure reaches ${reach.length} of ${others} other capabilities through imports (${list(reach.sort(byName), 3)})${failover ? '; its routes fail over to legacy' : ''} (${term((SCORE.blast * reach.length) / others)})`,
      );
    if (direct.length > 0) {
      const s = sites.get(u.name) ?? 0;
      reasons.push(
        `imported by ${plural(direct.length, 'unit')} (${list(direct, 3)}) at ${plural(s, 'call site')}: each must switch to calling the service (${term((SCORE.callSites * Math.min(s, CALL_SITES_FULL)) / CALL_SITES_FULL)})`,
      );
    }
    const comp = scc.components[scc.comp[ids.get(u.name)!]];
    if (comp.length > 1)
      reasons.push(
        `in an import cycle with ${list(
          comp
            .map((i) => units[i].name)
            .filter((x) => x !== u.name)
            .sort(byName),
          3,
        )}: cut the cycle first (see the suggested cuts) (${term(SCORE.cycle)})`,
      );
    return {
      name: u.name,
      kind: 'capability' as const,
      source: u.source,
      modules: [...u.modules].sort(byName),
      loc,
      tables: { owns, shares },
      routes: points.map((p) => `${p.methods ? `${p.methods.join(',')} ` : ''}${p.path}`),
      dependsOn,
      importers: direct,
      traffic: t,
      score: Math.round(score * 100) / 100,
      rank: 0,
      reasons,
    };
  });
  // Glue (no tables, no entry point) follows every unit with something to extract, whatever its score.
  const glue = (c: PlanCandidate): number =>
    c.modules.every((m) => m === 'urls' || m.endsWith('.urls'))
      ? 1
      : evidence && c.tables.owns.length === 0 && c.tables.shares.length === 0 && c.routes.length === 0
        ? 1
        : 0;
  candidates.sort(
    (a, b) => glue(a) - glue(b) || b.score - a.score || a.loc - b.loc || byName(a.name, b.name),
  );
  candidates.forEach((c, i) => {
    c.rank = i + 1;
    if (glue(c)) c.glue = true;
  });

  const libraries: PlanLibrary[] = units
    .filter((u) => isLibrary(u.name))
    .map((u) => ({
      name: u.name,
      modules: [...u.modules].sort(byName),
      importers: [...importers.get(u.name)!].sort(byName),
      reason: `shared library — copy or package it, don't extract it: ${libraryReason.get(u.name)}`,
    }))
    .sort((a, b) => b.importers.length - a.importers.length || byName(a.name, b.name));

  const sources = new Map<PlanCandidate['source'], number>();
  for (const c of candidates) sources.set(c.source, (sources.get(c.source) ?? 0) + 1);
  notes.unshift(
    `${plural(candidates.length, 'capability', 'capabilities')} (${[...sources].map(([s, n]) => `${n} ${SOURCE_LABEL[s][n === 1 ? 0 : 1]}`).join(', ')}) and ${plural(libraries.length, 'shared library', 'shared libraries')}; packages cut at depth ${depth}${autoDepth ? ' (chosen from the tree; --depth N overrides)' : ' (--depth)'}`,
  );
  if (!traffic)
    notes.push('no traffic data: give --config with a store that has stats, or --access-log FILE');
  return { candidates, libraries, entryPoints: entry, notes };
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
