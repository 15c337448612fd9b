/**
 * Route rows for `strangler routes` and the admin API's GET /routes: config
 * joined with store state, the gate verdict, SLO status and rollout
 * (control/route-status.ts), and the breaker state from the audit log.
 */
import { type BreakerState, breakerStatesFromAudit } from '../core/breaker-state.js';
import type { Config, RouteConfig } from '../core/config.js';
import type { RouteState } from '../core/types.js';
import type { Store } from '../store/types.js';
import { rateLimitCell } from './rate-limit-use.js';
import { describeRoutes, statusCells } from './route-status.js';

/** One row of `strangler routes` and GET /routes: the route's state with its config and status cells. */
export interface RouteRow extends RouteState {
  pattern: string;
  methods: string[];
  service: string;
  /** `ignore`: the pattern also matches with/without a trailing slash; `strict`: only as written. */
  trailingSlash?: 'ignore' | 'strict';
  /** `http` (matched on the listener) or `function` (an extraction point called from inside the monolith). */
  kind?: 'http' | 'function';
  /** Short cells for the table: breaker state, gate verdict, SLO status, rollout. */
  extra?: Record<string, string>;
  /** The full gate verdict, SLO numbers and rollout, for --json. */
  status?: unknown;
}

export async function listRouteRows(
  config: Readonly<Config>,
  store: Store,
  now = Date.now(),
): Promise<RouteRow[]> {
  const states = new Map((await store.routes.list()).map((s) => [s.id, s]));
  const statuses = new Map((await describeRoutes(store, config, now)).map((s) => [s.route, s]));
  const rows: RouteRow[] = [];
  for (const r of config.routes) {
    const s = states.get(r.id);
    if (!s) continue;
    const status = statuses.get(r.id);
    const breaker = (await readBreakerState(store, r))?.state ?? '-';
    const rateLimit = await rateLimitCell(store, config, r, now);
    rows.push({
      ...s,
      pattern: r.match.path,
      methods: r.match.methods ?? [],
      trailingSlash: r.trailingSlash,
      service: r.service,
      kind: r.kind,
      extra: {
        breaker,
        ...(status ? statusCells(status) : {}),
        ...(rateLimit ? { 'rate limit': rateLimit } : {}),
      },
      ...(status ? { status } : {}),
    });
  }
  return rows;
}

/**
 * Rows for the table a proxy serves, without the store: what GET /routes
 * answers (marked stale) while the store is lost, so an operator sees what
 * traffic does now rather than `[]` or an older snapshot's modes.
 */
export function servedRouteRows(config: Readonly<Config>, served: RouteState[]): RouteRow[] {
  const states = new Map(served.map((s) => [s.id, s]));
  return config.routes.flatMap((r) => {
    const s = states.get(r.id);
    return s
      ? [
          {
            ...s,
            pattern: r.match.path,
            methods: r.match.methods ?? [],
            trailingSlash: r.trailingSlash,
            service: r.service,
            kind: r.kind,
          },
        ]
      : [];
  });
}

/**
 * A route's breaker as the audit log tells it, for any process (the CLI, the
 * reports, the console): the newest breaker.* row; `closed` (its starting
 * state, `at` null) when the proxy never reported a change; null when the
 * route has failover off and so no breaker. One rule for `routes`, `report
 * progress` and the admin API, which disagreed ('-' beside 'closed', issue 26).
 */
export async function readBreakerState(
  store: Store,
  route: Pick<RouteConfig, 'id' | 'failover'> | undefined,
): Promise<{ state: BreakerState; at: string | null } | null> {
  if (!route?.failover.enabled) return null;
  const rows = [
    ...(await store.audit.list({ route: route.id, action: 'breaker.open', limit: 1 })),
    ...(await store.audit.list({ route: route.id, action: 'breaker.half-open', limit: 1 })),
    ...(await store.audit.list({ route: route.id, action: 'breaker.close', limit: 1 })),
  ].sort((a, b) => a.seq - b.seq);
  const last = rows.at(-1);
  const state = breakerStatesFromAudit(rows)[route.id];
  return last && state ? { state, at: last.at } : { state: 'closed', at: null };
}
