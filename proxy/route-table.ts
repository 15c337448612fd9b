/**
 * The RouteTable: config routes joined with their runtime state from the
 * store, compiled once into a find-my-way radix tree. A table is an immutable
 * snapshot: a reload builds a new one and swaps a reference, so a request
 * keeps the snapshot it started with.
 *
 * Specificity is find-my-way's: static segments beat `:param`, which beats a
 * trailing `*`; methods are matched per route (`match.methods`, else all).
 */
import { METHODS } from 'node:http';
import Router from 'find-my-way';
import type { Config, RouteConfig } from '../core/config.js';
import { StranglerError } from '../core/errors.js';
import type { RouteState } from '../core/types.js';
import type { RouteEntry } from './types.js';

export interface RouteTable {
  /** Route states by id, the moment the table was compiled. */
  readonly entries: ReadonlyArray<RouteEntry>;
  /** The route for a method and URL (path and query), or undefined → legacy. */
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

// Every method Node's parser accepts (find-my-way knows them all); a route
// without `methods` takes them all.
const ALL_METHODS: string[] = [...METHODS];
