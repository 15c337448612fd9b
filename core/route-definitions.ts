/**
 * Route definitions (DESIGN.md): everything that decides where a route's
 * requests go or whether a change is allowed — the validated route object of
 * the config schema without its mode and weight (those are the route's state,
 * changed only by a flip) — and the upstreams (legacy's and every service's
 * URLs and settings), since a changed URL moves traffic too. The store holds
 * them; a config file seeds an empty store and after that reaches it only
 * through `strangler apply` (control/apply-plan.ts).
 *
 * This module is the one place an "effective config" is built: a process's
 * file (its process settings: listen, admin, store, proxy limits, tracing,
 * drain…) overlaid with the store's definitions and modes. Pure data, no I/O.
 */
import type { Config, RouteConfig, UpstreamConfig } from './config.js';
import type { Mode, RouteState } from './types.js';

/** A route as the store holds it: the config's route object minus mode and weight. */
export type RouteDefinition = Omit<RouteConfig, 'mode' | 'weight'>;

export interface UpstreamDefinitions {
  legacy: UpstreamConfig;
  services: Record<string, UpstreamConfig>;
}

/** What the store holds besides route states; `upstreams` undefined: a store seeded before definitions lived there. */
export interface StoredDefinitions {
  routes: Record<string, RouteDefinition>;
  upstreams: UpstreamDefinitions | undefined;
}

/** Definitions with their upstreams: a config file's, or a store's that decides the routes. */
export type FullDefinitions = StoredDefinitions & { upstreams: UpstreamDefinitions };

/** One field that differs, as a dotted path (`match.path`, `gate.minCompared`) with both values. */
export interface FieldChange {
  field: string;
  old: unknown;
  new: unknown;
}

export interface RouteDiff {
  id: string;
  op: 'add' | 'remove' | 'change';
  fields: FieldChange[];
}

/** How a file's definitions differ from the store's, route by route, then the upstreams. */
export interface DefinitionDiff {
  routes: RouteDiff[];
  /** Fields as `legacy.url`, `services.block-service.timeoutMs`; `services.NAME` whole when added or removed. */
  upstreams: FieldChange[];
}

/** A JSON copy: what the store writes and reads back, so comparisons see the same shape. */
function plain<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export function definitionOf(route: RouteConfig): RouteDefinition {
  const { mode: _mode, weight: _weight, ...definition } = route;
  return plain(definition);
}

export function upstreamsOf(config: Readonly<Config>): UpstreamDefinitions {
  return plain({ legacy: config.legacy, services: config.services });
}

/** The definitions a config file would write (`seed`, `apply`). */
export function fileDefinitions(config: Readonly<Config>): FullDefinitions {
  return {
    routes: Object.fromEntries(config.routes.map((r) => [r.id, definitionOf(r)])),
    upstreams: upstreamsOf(config),
  };
}

/**
 * Whether the store decides the routes: it holds the upstreams document the
 * first definition-aware seed writes. A store seeded before definitions lived
 * there (or a test seeding bare states) leaves the file's routes in charge
 * until `serve` or `strangler seed` migrates it.
 */
export function storeDefinesRoutes(stored: StoredDefinitions | undefined): stored is FullDefinitions {
  return stored?.upstreams !== undefined;
}

/**
 * The effective config: the file's process settings with the store's routes
 * (in id order, the store's) and upstreams, each route carrying its stored
 * mode and weight. A route state without a stored definition (not migrated
 * yet) keeps the file's definition when the file has one.
 */
export function effectiveConfig(
  file: Readonly<Config>,
  stored: StoredDefinitions | undefined,
  states: ReadonlyArray<RouteState> = [],
): Readonly<Config> {
  if (!storeDefinesRoutes(stored)) return file;
  const byId = new Map(states.map((s) => [s.id, s]));
  const fileRoutes = new Map(file.routes.map((r) => [r.id, r]));
  const ids = new Set([...Object.keys(stored.routes), ...states.map((s) => s.id)]);
  const routes: RouteConfig[] = [];
  for (const id of [...ids].sort()) {
    const definition = stored.routes[id] ?? (fileRoutes.get(id) && definitionOf(fileRoutes.get(id)!));
    if (!definition) continue;
    const state = byId.get(id);
    const mode: Mode = state?.mode ?? 'legacy';
    routes.push(deepFreeze({ ...plain(definition), mode, weight: state?.weight ?? 0 }) as RouteConfig);
  }
  return Object.freeze({
    ...file,
    legacy: deepFreeze(plain(stored.upstreams.legacy)),
    services: deepFreeze(plain(stored.upstreams.services)),
    routes: Object.freeze(routes) as RouteConfig[],
  });
}

/** `{a: {b: 1}}` → `[['a.b', 1]]`; arrays are leaves (a changed list shows whole). */
function leaves(v: unknown, prefix = '', out: Array<[string, unknown]> = []): Array<[string, unknown]> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const k of Object.keys(v as object).sort())
      leaves((v as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k, out);
  } else out.push([prefix, v]);
  return out;
}

/** Field changes from `before` to `after` as dotted paths; a field absent on one side is undefined there. */
export function fieldChanges(before: unknown, after: unknown, prefix = ''): FieldChange[] {
  const a = new Map(leaves(plain(before ?? {}), prefix));
  const b = new Map(leaves(plain(after ?? {}), prefix));
  const out: FieldChange[] = [];
  for (const field of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const o = a.get(field);
    const n = b.get(field);
    if (JSON.stringify(o) !== JSON.stringify(n)) out.push({ field, old: o, new: n });
  }
  return out;
}

/** How `file` differs from `stored`: what `strangler apply` would change. */
export function diffDefinitions(stored: FullDefinitions, file: FullDefinitions): DefinitionDiff {
  const routes: RouteDiff[] = [];
  for (const id of [...new Set([...Object.keys(stored.routes), ...Object.keys(file.routes)])].sort()) {
    const before = stored.routes[id];
    const after = file.routes[id];
    if (!before) routes.push({ id, op: 'add', fields: fieldChanges(undefined, after) });
    else if (!after) routes.push({ id, op: 'remove', fields: fieldChanges(before, undefined) });
    else {
      const fields = fieldChanges(before, after);
      if (fields.length) routes.push({ id, op: 'change', fields });
    }
  }
  const upstreams = fieldChanges({ legacy: stored.upstreams.legacy }, { legacy: file.upstreams.legacy });
  for (const name of [
    ...new Set([...Object.keys(stored.upstreams.services), ...Object.keys(file.upstreams.services)]),
  ].sort()) {
    const o = stored.upstreams.services[name];
    const n = file.upstreams.services[name];
    if (!o || !n) upstreams.push({ field: `services.${name}`, old: o, new: n });
    else upstreams.push(...fieldChanges(o, n, `services.${name}`));
  }
  return { routes, upstreams };
}

/** "config differs from the store (N routes)": the one wording, for logs, /healthz, `strangler routes` and the console. */
export function describeDrift(diff: DefinitionDiff): string | undefined {
  const n = diff.routes.length;
  if (!n && !diff.upstreams.length) return undefined;
  const parts = n ? [`${n} route${n === 1 ? '' : 's'}`] : [];
  if (diff.upstreams.length) parts.push('upstreams');
  return `config differs from the store (${parts.join(', ')}): see \`strangler apply --dry-run\``;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
