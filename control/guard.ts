/**
 * The guard: while a route sends traffic to its service (canary or service
 * mode), judge its SLO against the service traffic every proxy flushed for the
 * last `slo.window` under the route's current version (never traffic from
 * before its last change, even within the same stats window), and on breach
 * flip it back to `shadow`, audited as actor `guard` with the numbers. Too little traffic to judge neither advances nor
 * rolls back, and says so (logged, and reported by describeRoute).
 */
import type { Config, RouteConfig, SloConfig } from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import { isStranglerError } from '../core/errors.js';
import { percent } from '../core/percent.js';
import type { Logger } from '../core/log.js';
import type { RouteState } from '../core/types.js';
import type { StatsTotals } from '../store/stats-window.js';
import type { Store } from '../store/types.js';
import { type Clock, pollSerially, systemClock } from './clock.js';
import { readLiveTraffic, sloSince } from './evidence.js';
import { flipRoute } from './flip.js';
import { defaultFlipSteps } from './flip-steps.js';

export type SloState = 'ok' | 'breach' | 'insufficient' | 'idle';

export interface SloStatus {
  route: string;
  state: SloState;
  requests: number;
  errors: number;
  failovers: number;
  errorRate: number | null;
  p99Ms: number | null;
  /** The judged range, epoch ms. */
  since: number;
  until: number;
  limits: { maxErrorRate: number; maxP99Ms: number; minRequests: number };
  /** Human lines naming each broken limit with its measured value. */
  breaches: string[];
  message: string;
}

/**
 * Judge service traffic totals against an SLO. Pure. A limit is broken only
 * when exceeded: a measured value equal to the limit is within the SLO.
 */
export function judgeSlo(
  route: string,
  slo: SloConfig,
  t: StatsTotals & { errorRate: number | null; p99Ms: number | null },
  range: { since: number; until: number },
): SloStatus {
  const base = {
    route,
    requests: t.requests,
    errors: t.errors,
    failovers: t.failovers,
    errorRate: t.errorRate,
    p99Ms: t.p99Ms,
    since: range.since,
    until: range.until,
    limits: { maxErrorRate: slo.maxErrorRate, maxP99Ms: slo.maxP99Ms, minRequests: slo.minRequests },
  };
  const secs = Math.round((range.until - range.since) / 1000);
  if (t.requests < slo.minRequests)
    return {
      ...base,
      state: 'insufficient',
      breaches: [],
      message: `too little service traffic to judge: ${t.requests} requests in the last ${secs}s, SLO needs ${slo.minRequests}; neither advancing nor rolling back`,
    };
  const breaches: string[] = [];
  if (t.errorRate !== null && t.errorRate > slo.maxErrorRate)
    breaches.push(
      `error rate ${percent(t.errorRate, 2)} (${t.errors}/${t.requests}) > ${percent(slo.maxErrorRate, 2)}`,
    );
  if (t.p99Ms !== null && t.p99Ms > slo.maxP99Ms)
    breaches.push(
      `p99 ${Number.isFinite(t.p99Ms) ? `${t.p99Ms} ms` : 'over the top latency bucket'} > ${slo.maxP99Ms} ms`,
    );
  return {
    ...base,
    state: breaches.length ? 'breach' : 'ok',
    breaches,
    message: breaches.length
      ? `SLO breached over ${secs}s of service traffic: ${breaches.join('; ')}`
      : `SLO ok: ${t.requests} service requests in ${secs}s, error rate ${percent(t.errorRate ?? 0, 2)}, p99 ${t.p99Ms} ms`,
  };
}

/** Service traffic is what the SLO judges; routes not sending any are idle. */
export function servesService(state: RouteState): boolean {
  return state.mode === 'service' || (state.mode === 'canary' && state.weight > 0);
}

/** A route's SLO status at `now` from the stats windows in the store. */
export async function sloStatus(
  store: Store,
  config: Readonly<Config>,
  route: RouteConfig,
  state: RouteState,
  now: number,
): Promise<SloStatus> {
  const since = sloSince(route, now, Date.parse(state.updatedAt), config.proxy.statsFlushMs);
  // Only this version's traffic: a rollback's reason must quote its own evidence.
  const live = await readLiveTraffic(store, route.id, 'service', since, now, state.version);
  const status = judgeSlo(route.id, route.slo, live, { since, until: now });
  if (servesService(state)) return status;
  return {
    ...status,
    state: 'idle',
    breaches: [],
    message: `not judged: route is in ${state.mode} mode (no service traffic)`,
  };
}

export interface GuardDecision {
  route: string;
  status: SloStatus;
  /** 'rolled-back' when the guard flipped the route to shadow on this tick. */
  action: 'none' | 'rolled-back';
}

export interface Guard {
  stop(): void;
  /** Judge every route once now (the timer calls this; tests may too). */
  tick(): Promise<GuardDecision[]>;
}

/** Actor and audit action of the guard's flips. */
export const GUARD_ACTOR = 'guard';
export const GUARD_ACTION = 'guard.rollback';

/**
 * Start watching every configured route. Ticks are serial (the next is
 * scheduled after the previous finishes), every `intervalMs` — by default a
 * sixth of the shortest SLO window, at most the proxies' flush interval, so a
 * breach is acted on well within one window.
 */
export function startGuard(opts: {
  config: Readonly<Config>;
  store: Store;
  logger: Logger;
  clock?: Clock;
  intervalMs?: number;
}): Guard {
  const { config, store, logger } = opts;
  const clock = opts.clock ?? systemClock;
  const windows = config.routes.map((r) => parseDuration(r.slo.window));
  const intervalMs =
    opts.intervalMs ??
    Math.min(
      5000,
      Math.max(100, Math.min(config.proxy.statsFlushMs, ...windows.map((w) => Math.floor(w / 6)))),
    );
  const last = new Map<string, SloState>();

  async function judge(route: RouteConfig): Promise<GuardDecision | undefined> {
    const state = await store.routes.get(route.id);
    if (!state || !servesService(state)) {
      last.delete(route.id);
      return undefined;
    }
    const status = await sloStatus(store, config, route, state, clock.now());
    if (last.get(route.id) !== status.state) {
      const log = status.state === 'breach' ? logger.warn.bind(logger) : logger.info.bind(logger);
      log({ route: route.id, slo: status }, `guard: ${route.id}: ${status.message}`);
    }
    last.set(route.id, status.state);
    if (status.state !== 'breach') return { route: route.id, status, action: 'none' };
    try {
      await flipRoute(
        store,
        config,
        {
          route: route.id,
          mode: 'shadow',
          actor: GUARD_ACTOR,
          action: GUARD_ACTION,
          reason: status.message,
          // Judged on this version: if someone flipped meanwhile, the verdict is stale.
          expectVersion: state.version,
          details: { slo: status },
        },
        defaultFlipSteps(),
      );
    } catch (err) {
      if (isStranglerError(err, 'STRANGLER_E_STALE_VERSION'))
        return { route: route.id, status, action: 'none' };
      throw err;
    }
    logger.warn(
      { route: route.id, slo: status },
      `guard: rolled ${route.id} back to shadow: ${status.message}`,
    );
    last.delete(route.id);
    return { route: route.id, status, action: 'rolled-back' };
  }

  async function tick(): Promise<GuardDecision[]> {
    const out: GuardDecision[] = [];
    for (const route of config.routes) {
      try {
        const d = await judge(route);
        if (d) out.push(d);
      } catch (err) {
        // One route's store hiccup must not stop the guard watching the others.
        logger.error({ route: route.id, err }, `guard: cannot judge ${route.id}: ${(err as Error).message}`);
      }
    }
    return out;
  }

  const stop = pollSerially(clock, { firstMs: intervalMs, everyMs: intervalMs }, tick);
  return { stop, tick };
}
