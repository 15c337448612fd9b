/**
 * The RouteTable: config routes joined with their runtime state from the
 * store, compiled once into a find-my-way radix tree. A table is an immutable
 * snapshot: a reload builds a new one and swaps a reference, so a request
 * keeps the snapshot it started with.
 *
 * Specificity is find-my-way's: static segments beat `:param`, which beats a
 * trailing `*`; methods are matched per route (`match.methods`, else all).
 *
 * Paths given to `match` are canonical (proxy/canonical.ts). A route with
 * `trailingSlash: ignore` (the default) also owns its pattern's other
 * spelling (`/api/notes/:id/` beside `/api/notes/:id`), unless another route
 * claims that spelling itself: explicit patterns are added first.
 */
import { METHODS } from 'node:http';
import Router from 'find-my-way';
import { type Config, type RouteConfig, upstreamUrls } from '../core/config.js';
import { StranglerError } from '../core/errors.js';
import type { RouteState } from '../core/types.js';
import type { RouteEntry } from './types.js';

export interface RouteTable {
  /** One entry per config route, in config order, with the route's state as of compilation (the config's mode for a route the store does not hold yet). */
  readonly entries: ReadonlyArray<RouteEntry>;
  /** The route for a method and canonical path, or undefined → legacy. */
  match(method: string, url: string): RouteEntry | undefined;
  /** Route by id. */
  get(id: string): RouteEntry | undefined;
}

function noop(): void {}

/**
 * Compile a RouteTable. Routes the store has no state for yet (not seeded)
 * keep their config mode with version 0. Throws STRANGLER_E_CONFIG naming the
 * route when two routes claim the same method and pattern.
 */
export function compileRouteTable(config: Readonly<Config>, states: ReadonlyArray<RouteState>): RouteTable {
  const byId = new Map<string, RouteState>();
  for (const s of states) byId.set(s.id, s);
  const router = Router({ ignoreTrailingSlash: false, caseSensitive: true });
  const entries: RouteEntry[] = [];
  const index = new Map<string, RouteEntry>();
  config.routes.forEach((route: RouteConfig, i: number) => {
    const state: RouteState = byId.get(route.id) ?? {
      id: route.id,
      mode: route.mode,
      weight: route.weight,
      version: 0,
      updatedAt: new Date(0).toISOString(),
      actor: 'config',
      reason: 'not seeded yet',
    };
    const entry: RouteEntry = Object.freeze({
      config: route,
      state: Object.freeze({ ...state }),
      pattern: route.match.path,
    });
    entries.push(entry);
    index.set(route.id, entry);
    // An extraction point is reached only through /.strangler/points/ (proxy/points.ts):
    // on the listener its service path is not a route, so no client can call it as one.
    if (route.kind === 'function') return;
    const methods = route.match.methods ?? ALL_METHODS;
    try {
      router.on(methods as Router.HTTPMethod[], route.match.path, noop, entry);
    } catch (err) {
      throw new StranglerError(
        'STRANGLER_E_CONFIG',
        `routes[${i}] (${route.id}): cannot add ${route.match.path}: ${(err as Error).message}`,
        { cause: err, details: { fields: [`routes[${i}].match`] } },
      );
    }
  });
  for (const entry of entries) {
    if (entry.config.kind === 'function') continue;
    const other = trailingSlashTwin(entry.config);
    if (!other) continue;
    const methods = (entry.config.match.methods ?? ALL_METHODS).filter(
      (m) => !router.hasRoute(m as Router.HTTPMethod, other),
    );
    try {
      if (methods.length > 0) router.on(methods as Router.HTTPMethod[], other, noop, entry);
    } catch {
      // Another route claims this spelling under another parameter name: it keeps it.
    }
  }
  refuseExposedPoints(config, router);
  Object.freeze(entries);
  return {
    entries,
    match(method, url) {
      const found = router.find(method as Router.HTTPMethod, url);
      return found ? (found.store as RouteEntry) : undefined;
    },
    get: (id) => index.get(id),
  };
}

/**
 * A point's service path must not be reachable as a route: an HTTP route to the
 * same service (by name or URL) whose pattern matches it would forward a public
 * `POST path` straight to the function — without the points token and whatever
 * the point's own mode (in legacy the monolith runs it, and the service too).
 */
function refuseExposedPoints(config: Readonly<Config>, router: Router.Instance<Router.HTTPVersion.V1>): void {
  const urls = (name: string) =>
    new Set(
      config.services[name] ? upstreamUrls(config.services[name]).map((u) => u.replace(/\/+$/, '')) : [],
    );
  const sameService = (a: string, b: string) => a === b || [...urls(a)].some((u) => urls(b).has(u));
  config.routes.forEach((point, i) => {
    if (point.kind !== 'function') return;
    const found = router.find('POST', point.match.path);
    const route = (found?.store as RouteEntry | undefined)?.config;
    if (!route || !sameService(route.service, point.service)) return;
    throw new StranglerError(
      'STRANGLER_E_CONFIG',
      `routes[${i}].path (${point.id}): ${point.match.path} is matched by route "${route.id}" (${route.match.path}) to the same service, so the listener would forward a public POST to the function; give the point a path outside that route's pattern`,
      { details: { fields: [`routes[${i}].path`] } },
    );
  });
}

/** The pattern's spelling with (or without) a trailing slash, when the route ignores the difference. */
export function trailingSlashTwin(route: Pick<RouteConfig, 'match' | 'trailingSlash'>): string | undefined {
  const p = route.match.path;
  if (route.trailingSlash !== 'ignore' || p === '/' || p.endsWith('*')) return undefined;
  return p.endsWith('/') ? p.slice(0, -1) : `${p}/`;
}

// Every method Node's parser accepts (find-my-way knows them all); a route
// without `methods` takes them all.
const ALL_METHODS: string[] = [...METHODS];
