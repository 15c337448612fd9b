/**
 * Entry points: the URL patterns each unit serves. Django URLconfs are
 * followed from the roots (URLconfs nobody includes) through `include()`, so
 * a pattern gets its full prefix; a pattern belongs to the unit of its view's
 * module (`views.thread.overview` resolved through the URLconf's imports),
 * else to the URLconf's own unit. Flask routes take their blueprint's
 * `url_prefix` (from `Blueprint(...)` or `register_blueprint(...)`). Routes
 * of the config whose `module:` names a module of the unit count too.
 *
 * Patterns are written as strangler route paths: `<int:pk>` becomes `:pk`, a
 * regular expression is cut at its first variable part and ends in `*`.
 */
import type { Unit } from './capability-units.js';
import type { ModuleFacts } from './python-facts.js';

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
  source: 'config' | 'django' | 'flask';
  /** Config route id, or the `file:line`-ish origin (`module:line`). */
  origin: string;
  failover?: boolean;
}

const REGEX_META = /[()[\]\\.?*+{}|]/;

/** A Django `path()` or `re_path()`/`url()` pattern (or a Flask rule) as a strangler path pattern. */
export function toRoutePath(pattern: string): string {
  let p = pattern.replace(/^\^/, '').replace(/\$$/, '');
  // Converters: Django <int:pk> / <slug>, Flask <int:id> / <path:rest>
  let out = '';
  let glob = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '<') {
      const end = p.indexOf('>', i);
      if (end < 0) {
        glob = true;
        break;
      }
      const spec = p.slice(i + 1, end);
      const [conv, name] = spec.includes(':') ? spec.split(':') : ['str', spec];
      if (conv === 'path') {
        glob = true;
        break;
      }
      out += `:${name.replace(/\W/g, '_')}`;
      i = end;
      continue;
    }
    if (REGEX_META.test(c)) {
      glob = true;
      break;
    }
    out += c;
  }
  p = `/${out}`.replace(/\/{2,}/g, '/');
  if (glob) {
    // cut back to the last whole segment so `/api/blo(?P..)` does not claim /api/blocks
    p = `${p.slice(0, p.lastIndexOf('/') + 1)}*`;
  }
  return p;
}

const joinPrefix = (prefix: string, pattern: string): string => `${prefix}${pattern.replace(/^\^/, '')}`;

export function findEntryPoints(
  facts: ReadonlyMap<string, ModuleFacts>,
  unitOf: ReadonlyMap<string, Unit>,
  moduleNames: ReadonlySet<string>,
  configRoutes: PlanRoute[],
): Map<string, EntryPoint[]> {
  const byUnit = new Map<string, EntryPoint[]>();
  const add = (unit: string, e: EntryPoint): void => {
    const list = byUnit.get(unit) ?? [];
    if (!list.some((x) => x.path === e.path && String(x.methods) === String(e.methods))) list.push(e);
    byUnit.set(unit, list);
  };

  // --- Django: mount prefixes through include()
  const urlconfs = [...facts].filter(([, f]) => f.routes.some((r) => r.framework === 'django'));
  const included = new Map<string, Array<{ from: string; prefix: string }>>();
  for (const [module, f] of urlconfs)
    for (const r of f.routes) {
      if (r.framework !== 'django' || !r.include) continue;
      const target = moduleNames.has(r.include) ? r.include : null;
      if (!target) continue;
      const list = included.get(target) ?? [];
      list.push({ from: module, prefix: r.path });
      included.set(target, list);
    }
  const prefixes = new Map<string, string>();
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
  const resolveView = (f: ModuleFacts, expr: string | null, fallback: string): string => {
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
      if (r.framework !== 'django' || r.include !== null) continue;
      const here = listPrefix.get(r.list ?? 'urlpatterns') ?? prefix;
      // `check_private(FeedView())`, `login_required(views.edit)`: the wrapped view, when it names one of ours.
      const view = resolveView(f, r.wrapped ?? null, resolveView(f, r.on, module));
      const unit = unitOf.get(view) ?? unitOf.get(module);
      if (!unit) continue;
      add(unit.name, {
        path: toRoutePath(joinPrefix(here, r.path)),
        methods: null,
        source: 'django',
        origin: `${module}:${r.line}`,
      });
    }
  }

  // --- Flask: a blueprint's prefix comes from Blueprint(url_prefix=...) or,
  // winning, from register_blueprint(bp, url_prefix=...) wherever it is
  // registered (the registering module's imports say which blueprint it is).
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
        path: toRoutePath(`${prefix.replace(/\/$/, '')}/${r.path.replace(/^\//, '')}`),
        methods: r.methods,
        source: 'flask',
        origin: `${module}:${r.line}`,
      });
    }
  }

  // --- the config's routes naming a module (full dotted name or its last components)
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
  return byUnit;
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

/** Strangler route patterns for a unit: one per distinct pattern, folded to `/first/segment/*` when there are many. */
export function routesToEmit(
  points: EntryPoint[],
  max = 6,
): Array<{ path: string; methods: string[] | null }> {
  const distinct = new Map<string, { path: string; methods: string[] | null }>();
  for (const p of points)
    if (!distinct.has(p.path)) distinct.set(p.path, { path: p.path, methods: p.methods });
  if (distinct.size <= max) return [...distinct.values()];
  const folded = new Map<string, { path: string; methods: null }>();
  for (const p of distinct.keys()) {
    const segs = p.split('/').filter((s) => s !== '');
    const first = segs.findIndex((s) => s.startsWith(':') || s === '*');
    // Static segments only, at most two: a leading variable part (`/*`, `/:slug/`) folds
    // to `/*` — never `/*/*`, which a config refuses (`*` only at the end).
    const keep = segs.slice(0, Math.min(first < 0 ? segs.length : first, 2));
    const path = keep.length === 0 ? '/*' : `/${keep.join('/')}/*`;
    folded.set(path, { path, methods: null });
  }
  return [...folded.values()];
}
