/**
 * Entry points: the URL patterns each unit serves. Django URLconfs are
 * followed from the roots (URLconfs nobody includes) through `include()`, so
 * a pattern gets its full prefix; a pattern belongs to the unit of its view's
 * module (`views.thread.overview` resolved through the URLconf's imports),
 * else to the URLconf's own unit. Flask routes take their blueprint's
 * `url_prefix` (from `Blueprint(...)` or `register_blueprint(...)`). Routes
 * of the config whose `module:` names a module of the unit count too.
 * Django prefixes also come from `include(module_object)`, `include(u)` over
 * a settings list (`AUTHENTICATION_URLS`) and Horizon's dashboard and panel
 * slugs; routes under `if settings.DEBUG:` are marked `debug` and never
 * emitted. Other frameworks' readers (planner/route-readers/) give full
 * paths; a route belongs to the unit of its handler's module when the handler
 * is an imported name, else to its own module's. Object-routed trees
 * (mailman's `@child()`) are walked from their roots across files.
 *
 * Patterns are written as strangler route paths: `<int:pk>` becomes `:pk`, a
 * regular expression is cut at its first variable part and ends in `*`.
 */
import type { Unit } from './capability-units.js';
import type { ModuleFacts, RouteFact } from './python-facts.js';
import { toRoutePath } from './route-readers/context.js';

export { toRoutePath };

/** A config route naming a `module:` (read by planner/inputs.ts). */
export interface PlanRoute {
  id: string;
  /** The config's `module:` (full dotted name, or its last components). */
  module: string;
  path: string;
  methods?: string[];
  failover: boolean;
}

export interface EntryPoint {
  /** A strangler path pattern: static segments, `:param`, a trailing `*`. */
  path: string;
  methods: string[] | null;
  /** `config`, or the framework whose reader found it. */
  source: 'config' | RouteFact['framework'];
  /** Config route id, or the `file:line`-ish origin (`module:line`). */
  origin: string;
  failover?: boolean;
  /** Served only with `DEBUG` on: shown, never emitted. */
  debug?: true;
}

const joinPrefix = (prefix: string, pattern: string): string => `${prefix}${pattern.replace(/^\^/, '')}`;

type AddPoint = (unit: string, e: EntryPoint) => void;

/** The module an expression names through the file's imports (`views.thread.overview` -> `pkg.views.thread`), or `fallback`. */
function resolveModule(
  f: ModuleFacts,
  expr: string | null | undefined,
  fallback: string,
  moduleNames: ReadonlySet<string>,
): string {
  if (!expr || !f.locals) return fallback;
  const parts = expr.split('.');
  let module = f.locals[parts[0]];
  if (!module) return fallback;
  for (let i = 1; i < parts.length; i++) {
    const next = `${module}.${parts[i]}`;
    if (!moduleNames.has(next)) break;
    module = next;
  }
  return module;
}

export function findEntryPoints(
  facts: ReadonlyMap<string, ModuleFacts>,
  unitOf: ReadonlyMap<string, Unit>,
  moduleNames: ReadonlySet<string>,
  configRoutes: PlanRoute[],
): Map<string, EntryPoint[]> {
  const byUnit = new Map<string, EntryPoint[]>();
  const add: AddPoint = (unit, e) => {
    const list = byUnit.get(unit) ?? [];
    if (!list.some((x) => x.path === e.path && String(x.methods) === String(e.methods))) list.push(e);
    byUnit.set(unit, list);
  };
  djangoPoints(facts, unitOf, moduleNames, add);
  flaskPoints(facts, unitOf, add);
  readerPoints(facts, unitOf, moduleNames, add);
  objectTreePoints(facts, unitOf, moduleNames, add);
  configPoints(configRoutes, unitOf, add);
  return byUnit;
}

/** Django URLconfs nobody includes are roots; what each includes gets its mount prefix. */
function djangoIncludes(
  facts: ReadonlyMap<string, ModuleFacts>,
  moduleNames: ReadonlySet<string>,
): Map<string, Array<{ from: string; prefix: string }>> {
  const isUrlconf = (m: string): boolean =>
    facts.get(m)?.routes.some((r) => r.framework === 'django') ?? false;
  const settingLists = new Map<string, string[]>();
  for (const f of facts.values())
    for (const [k, v] of Object.entries(f.dottedLists ?? {})) settingLists.set(k, v);
  const included = new Map<string, Array<{ from: string; prefix: string }>>();
  const mount = (target: string, from: string, prefix: string): void => {
    const list = included.get(target) ?? [];
    list.push({ from, prefix });
    included.set(target, list);
  };
  for (const [module, f] of facts) {
    // A left-out test URLconf including the app at '' must not win over the real mount.
    if (!moduleNames.has(module)) continue;
    for (const r of f.routes) {
      if (r.framework !== 'django') continue;
      if (r.include && moduleNames.has(r.include)) mount(r.include, module, r.path);
      for (const t of r.includeSetting ? (settingLists.get(r.includeSetting) ?? []) : [])
        if (moduleNames.has(t)) mount(t, module, r.path);
      // `include(rest.urls)` (a module object) and `_wrapped_include(horizon.urls)`.
      for (const expr of [r.includeList, r.wrapped, r.include === null ? r.on : null]) {
        const target = resolveModule(f, expr, '', moduleNames);
        if (target !== '' && target !== module && isUrlconf(target)) mount(target, module, r.path);
      }
    }
  }
  return included;
}

/** Horizon: a panel's URLconf is served at `/<dashboard slug>/<panel slug>/`, a dashboard's at `/<slug>/`. */
function horizonPrefixes(facts: ReadonlyMap<string, ModuleFacts>): Map<string, string> {
  const out = new Map<string, string>();
  const dashboards = new Map<string, string>();
  for (const [m, f] of facts)
    if (f.horizon?.kind === 'dashboard') dashboards.set(m.slice(0, m.lastIndexOf('.')), f.horizon.slug);
  for (const [pkg, slug] of dashboards) out.set(`${pkg}.urls`, `${slug}/`);
  for (const [m, f] of facts) {
    // A panel subclassing another dashboard's panel (`class GroupSnapshots(project_panel.GroupSnapshots)`)
    // inherits its slug, which Horizon's panels keep equal to their folder's name.
    const inherits = m.endsWith('.panel') && f.classes.some((c) => c.bases.some((b) => b.includes('.')));
    if (f.horizon?.kind !== 'panel' && !inherits) continue;
    const pkg = m.slice(0, m.lastIndexOf('.'));
    const slug = f.horizon?.slug ?? pkg.slice(pkg.lastIndexOf('.') + 1);
    for (let p = pkg.slice(0, pkg.lastIndexOf('.')); p.includes('.'); p = p.slice(0, p.lastIndexOf('.'))) {
      const dash = dashboards.get(p);
      if (dash !== undefined) {
        out.set(`${pkg}.urls`, `${dash}/${slug}/`);
        break;
      }
    }
  }
  return out;
}

function djangoPoints(
  facts: ReadonlyMap<string, ModuleFacts>,
  unitOf: ReadonlyMap<string, Unit>,
  moduleNames: ReadonlySet<string>,
  add: AddPoint,
): void {
  const urlconfs = [...facts].filter(
    ([m, f]) => moduleNames.has(m) && f.routes.some((r) => r.framework === 'django'),
  );
  const included = djangoIncludes(facts, moduleNames);
  const viewOf = (f: ModuleFacts, module: string, r: RouteFact): string =>
    resolveModule(f, r.wrapped, resolveModule(f, r.on, module, moduleNames), moduleNames);
  // A view module many apps' URLconfs point at (Horizon's AngularIndexView) is the
  // framework's generic view: the route is the app's, not the framework's.
  const fanIn = new Map<string, Set<string>>();
  for (const [module, f] of urlconfs)
    for (const r of f.routes) {
      if (r.framework !== 'django') continue;
      const v = viewOf(f, module, r);
      if (v === module) continue;
      const set = fanIn.get(v) ?? new Set<string>();
      set.add(unitOf.get(module)?.name ?? module);
      fanIn.set(v, set);
    }
  const GENERIC_VIEW_FAN_IN = 3;
  const prefixes = horizonPrefixes(facts);
  const prefixOf = (module: string, seen: Set<string>): string => {
    const known = prefixes.get(module);
    if (known !== undefined) return known;
    const parents = included.get(module);
    if (!parents || seen.has(module)) return '';
    seen.add(module);
    const first = parents[0];
    const p = joinPrefix(prefixOf(first.from, seen), first.prefix);
    prefixes.set(module, p);
    return p;
  };
  for (const [module, f] of urlconfs) {
    const prefix = prefixOf(module, new Set());
    // Lists mounted inside the same URLconf: `path('list/<fqdn>/', include(list_patterns))`.
    const listPrefix = new Map<string, string>([['urlpatterns', prefix]]);
    for (let pass = 0; pass < 4; pass++)
      for (const r of f.routes) {
        if (r.framework !== 'django' || r.includeList === null) continue;
        const outer = listPrefix.get(r.list ?? 'urlpatterns');
        if (outer !== undefined && !listPrefix.has(r.includeList))
          listPrefix.set(r.includeList, joinPrefix(outer, r.path));
      }
    for (const r of f.routes) {
      if (r.framework !== 'django' || r.include !== null || r.includeSetting) continue;
      // A mount of another URLconf (module object) is not a route of its own.
      const mounted = [r.wrapped, r.on].some((e) => {
        const t = resolveModule(f, e, '', moduleNames);
        return t !== '' && t !== module && included.get(t)?.some((x) => x.from === module);
      });
      if (mounted) continue;
      const here = listPrefix.get(r.list ?? 'urlpatterns') ?? prefix;
      // `check_private(FeedView())`, `login_required(views.edit)`: the wrapped view, when it names one of ours.
      const view = viewOf(f, module, r);
      const generic = (fanIn.get(view)?.size ?? 0) >= GENERIC_VIEW_FAN_IN;
      const unit = (generic ? undefined : unitOf.get(view)) ?? unitOf.get(module);
      if (!unit) continue;
      add(unit.name, {
        path: toRoutePath(joinPrefix(here, r.path)),
        methods: null,
        source: 'django',
        origin: `${module}:${r.line}`,
        ...(r.debug ? { debug: true as const } : {}),
      });
    }
  }
}

/**
 * Flask: a blueprint's prefix comes from Blueprint(url_prefix=...) or,
 * winning, from register_blueprint(bp, url_prefix=...) wherever it is
 * registered (the registering module's imports say which blueprint it is).
 * FastAPI's APIRouter(prefix=) and include_router(prefix=) are read the same way.
 */
function flaskPoints(
  facts: ReadonlyMap<string, ModuleFacts>,
  unitOf: ReadonlyMap<string, Unit>,
  add: AddPoint,
): void {
  const blueprintPrefix = new Map<string, string>();
  const key = (module: string, variable: string): string => `${module}\u0000${variable}`;
  for (const [module, f] of facts)
    for (const b of f.blueprints) if (b.prefix) blueprintPrefix.set(key(module, b.variable), b.prefix);
  for (const [module, f] of facts)
    for (const r of f.registrations) {
      if (!r.prefix) continue;
      const local = r.variable.split('.')[0];
      const target = f.locals?.[local];
      const own = facts.get(target ?? '')?.blueprints ?? [];
      if (target && own.length === 1) blueprintPrefix.set(key(target, own[0].variable), r.prefix);
      else if (f.blueprints.some((b) => b.variable === local))
        blueprintPrefix.set(key(module, local), r.prefix);
    }
  for (const [module, f] of facts) {
    const unit = unitOf.get(module);
    if (!unit) continue;
    for (const r of f.routes) {
      if (r.framework !== 'flask') continue;
      const on = r.on?.split('.').pop() ?? '';
      const prefix = blueprintPrefix.get(key(module, on)) ?? '';
      add(unit.name, {
        // FastAPI writes `{item_id}` where Flask writes `<item_id>`.
        path: toRoutePath(
          `${prefix.replace(/\/$/, '')}/${r.path.replace(/^\//, '').replace(/\{(\w+)\}/g, '<$1>')}`,
        ),
        methods: r.methods,
        source: 'flask',
        origin: `${module}:${r.line}`,
      });
    }
  }
}

/** Routes of planner/route-readers/: full paths already; the handler's module picks the unit. */
function readerPoints(
  facts: ReadonlyMap<string, ModuleFacts>,
  unitOf: ReadonlyMap<string, Unit>,
  moduleNames: ReadonlySet<string>,
  add: AddPoint,
): void {
  for (const [module, f] of facts)
    for (const r of f.routes) {
      if (!moduleNames.has(module) || r.framework === 'django' || r.framework === 'flask') continue;
      const unit = unitOf.get(resolveModule(f, r.on, module, moduleNames)) ?? unitOf.get(module);
      if (!unit) continue;
      add(unit.name, {
        path: r.path,
        methods: r.methods,
        source: r.framework,
        origin: `${module}:${r.line}`,
      });
    }
}

/** At most this many routes from one object-routed tree: a bound on a walk that revisits shared resources. */
const MAX_TREE_ROUTES = 400;

/** mailman's `@child()` trees: from each root class (one no child returns), path by path, across files. */
function objectTreePoints(
  facts: ReadonlyMap<string, ModuleFacts>,
  unitOf: ReadonlyMap<string, Unit>,
  moduleNames: ReadonlySet<string>,
  add: AddPoint,
): void {
  const childrenOf = new Map<
    string,
    Array<{ module: string; child: NonNullable<ModuleFacts['children']>[number] }>
  >();
  const definedIn = new Map<string, string>();
  for (const [module, f] of facts) {
    if (!moduleNames.has(module)) continue;
    for (const c of f.classes) if (!definedIn.has(c.name)) definedIn.set(c.name, module);
    for (const child of f.children ?? []) {
      const list = childrenOf.get(child.cls) ?? [];
      list.push({ module, child });
      childrenOf.set(child.cls, list);
    }
  }
  if (childrenOf.size === 0) return;
  const returned = new Set([...childrenOf.values()].flatMap((l) => l.flatMap((x) => x.child.returns)));
  let count = 0;
  const walk = (cls: string, base: string, onPath: Set<string>): void => {
    for (const { module, child } of childrenOf.get(cls) ?? []) {
      if (count >= MAX_TREE_ROUTES) return;
      const path = `${base}/${child.segment ?? ':param'}`;
      const served = child.returns.map((r) => definedIn.get(r)).find((m) => m !== undefined);
      const unit = unitOf.get(served ?? module) ?? unitOf.get(module);
      if (unit) {
        add(unit.name, { path, methods: null, source: 'falcon', origin: `${module}:${child.line}` });
        count++;
      }
      for (const r of child.returns) {
        if (onPath.has(r) || !childrenOf.has(r)) continue;
        walk(r, child.pops ? `${path}/:id` : path, new Set([...onPath, r]));
      }
    }
  };
  for (const root of [...childrenOf.keys()].filter((c) => !returned.has(c)).sort())
    walk(root, '', new Set([root]));
}

/** The config's routes naming a module (full dotted name or its last components). */
function configPoints(configRoutes: PlanRoute[], unitOf: ReadonlyMap<string, Unit>, add: AddPoint): void {
  for (const r of configRoutes) {
    let unit: Unit | undefined = unitOf.get(r.module);
    if (!unit)
      for (const [name, u] of unitOf)
        if (name.endsWith(`.${r.module}`) || u.name === r.module || u.name.endsWith(`.${r.module}`)) {
          unit = u;
          break;
        }
    if (!unit) continue;
    add(unit.name, {
      path: r.path,
      methods: r.methods ?? null,
      source: 'config',
      origin: r.id,
      failover: r.failover,
    });
  }
}

/** A path pattern as a RegExp over request paths (`:x` one segment, trailing `*` anything). */
export function routePathRegExp(pattern: string): RegExp {
  let re = '';
  const body = pattern.endsWith('*') ? pattern.slice(0, -1) : pattern;
  for (const seg of body.split(/(:[A-Za-z0-9_]+)/)) {
    if (seg.startsWith(':')) re += '[^/]+';
    else re += seg.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}${pattern.endsWith('*') ? '.*' : '/?'}$`);
}

/** A pattern that matches every path of the site (`/*`, `/:slug/*`): emitting it would move the whole site. */
export function isCatchAll(path: string): boolean {
  const segs = path.split('/').filter((s) => s !== '');
  return segs.length > 0 && segs.every((s) => s === '*' || s.startsWith(':')) && path.endsWith('*');
}

export interface EmitChoice {
  routes: Array<{ path: string; methods: string[] | null }>;
  /** Patterns left out, each with why (a catch-all, DEBUG only). */
  refused: string[];
}

/**
 * Strangler route patterns for a unit: one per distinct pattern, folded when
 * there are many — to the one static prefix they all share (`/auth/*`), else
 * to `/first/second/*` per pattern. Never a catch-all that would take the
 * whole site (`/*`, `/:slug/*`) and never a DEBUG-only route.
 */
export function routesToEmit(points: EntryPoint[], max = 6): EmitChoice {
  const refused: string[] = [];
  const distinct = new Map<string, { path: string; methods: string[] | null }>();
  for (const p of points) {
    if (p.debug) refused.push(`${p.path} (DEBUG only)`);
    else if (isCatchAll(p.path)) refused.push(`${p.path} (a catch-all: it would move the whole site)`);
    else if (!distinct.has(p.path)) distinct.set(p.path, { path: p.path, methods: p.methods });
  }
  if (distinct.size <= max) return { routes: [...distinct.values()], refused };
  const statics = [...distinct.keys()].map((p) => {
    const segs = p.split('/').filter((s) => s !== '');
    const first = segs.findIndex((s) => s.startsWith(':') || s === '*');
    return segs.slice(0, first < 0 ? segs.length : first);
  });
  // The longest static prefix every pattern shares, when there is one.
  let shared = statics[0];
  for (const s of statics) {
    let k = 0;
    while (k < shared.length && k < s.length && shared[k] === s[k]) k++;
    shared = shared.slice(0, k);
  }
  if (shared.length > 0) return { routes: [{ path: `/${shared.join('/')}/*`, methods: null }], refused };
  const folded = new Map<string, { path: string; methods: null }>();
  for (const [i, p] of [...distinct.keys()].entries()) {
    // Static segments only, at most two: a pattern with none (`/`, a leading variable) is kept as it is.
    const keep = statics[i].slice(0, 2);
    const path = keep.length === 0 ? p : `/${keep.join('/')}/*`;
    if (keep.length === 0 && isCatchAll(p)) continue;
    folded.set(path, { path, methods: null });
  }
  return { routes: [...folded.values()], refused };
}
