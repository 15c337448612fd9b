/**
 * Evidence for a route, read from the store and reduced to the numbers the
 * gate (control/gate.ts), the guard and `strangler routes` decide on: shadow
 * comparisons (match rate, paired latency, errors) plus the live traffic the
 * proxies flushed as stats windows (store/stats-window.ts).
 */
import type { RouteConfig } from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import { sampleQuantile } from '../core/quantile.js';
import { type NoiseThresholds, summariseMatches } from '../shadow/noise.js';
import type { Target } from '../core/types.js';
import { type StatsTotals, bucketQuantile, sumWindows, windowStart } from '../store/stats-window.js';
import type { ShadowEvidence, StatsWindow, Store } from '../store/types.js';

export interface EvidenceSummary {
  route: string;
  /** Shadow pairs compared and how many matched after noise (exact matches plus pairs differing only in noise/ignored fields). */
  compared: number;
  matched: number;
  exactMatched: number;
  /** matched / compared; null with no comparisons. */
  matchRate: number | null;
  /** p99 latency (ms) of the paired shadow requests per side; null without samples. */
  p99: { legacy: number | null; service: number | null };
  latencySamples: { legacy: number; service: number };
  /** service p99 / legacy p99 (legacy floored at P99_FLOOR_MS); null when either side lacks samples. */
  p99Ratio: number | null;
  errors: { legacy: number; service: number };
  /** Service errors over service attempts (compared + service errors); null with no attempts. */
  serviceErrorRate: number | null;
}

/**
 * Below a millisecond, loopback latency is timer noise: a legacy p99 of 0.3 ms
 * against 0.6 ms would read as a 2x regression. Ratios use at least this.
 */
export const P99_FLOOR_MS = 1;

/**
 * Reduce stored shadow evidence to gate inputs. With the route's shadow
 * thresholds the match rate is the one after noise (shadow/noise.ts), the
 * same number `strangler report shadow` shows; without, exact matches only.
 */
export function summariseShadow(ev: ShadowEvidence, noise?: NoiseThresholds): EvidenceSummary {
  const matched = noise ? summariseMatches(ev, noise).matched : ev.matched;
  const pl = sampleQuantile(ev.latency.legacy, 0.99);
  const ps = sampleQuantile(ev.latency.service, 0.99);
  const attempts = ev.compared + ev.errors.service;
  return {
    route: ev.route,
    compared: ev.compared,
    matched,
    exactMatched: ev.matched,
    matchRate: ev.compared > 0 ? matched / ev.compared : null,
    p99: { legacy: pl ?? null, service: ps ?? null },
    latencySamples: { legacy: ev.latency.legacy.length, service: ev.latency.service.length },
    p99Ratio: pl === undefined || ps === undefined ? null : ps / Math.max(pl, P99_FLOOR_MS),
    errors: { ...ev.errors },
    serviceErrorRate: attempts > 0 ? ev.errors.service / attempts : null,
  };
}

export async function readShadowEvidence(store: Store, route: RouteConfig): Promise<EvidenceSummary> {
  return summariseShadow(await store.shadow.evidence(route.id), route.shadow);
}

/** Live traffic of one target over a time range, summed over every proxy instance. */
export interface LiveTraffic extends StatsTotals {
  target: Target;
  since: number;
  until: number;
  errorRate: number | null;
  p99Ms: number | null;
}

/**
 * A stats window counts as evidence about route version `version` when a
 * proxy recorded it under that version. Windows stored before proxies
 * recorded versions carry none and are judged by time alone (the `since` rule),
 * as they always were. `version` undefined: every window counts.
 */
export function countsFor(w: StatsWindow, version: number | undefined): boolean {
  return version === undefined || w.version === undefined || w.version === version;
}

/**
 * Stats windows of `target` that start at or after `since`, recorded under
 * route version `version` (see countsFor). Windows are aligned to the
 * proxies' flush interval, so callers pass a `since` aligned down (see
 * sloSince) to keep the window holding their first request; the version keeps
 * out what that window holds from before the route's last change.
 */
export async function readLiveTraffic(
  store: Store,
  route: string,
  target: Target,
  since: number,
  until: number,
  version: number | undefined,
): Promise<LiveTraffic> {
  const windows = (await store.stats.query({ route, target, since })).filter(
    (w) => w.start <= until && countsFor(w, version),
  );
  const t = sumWindows(windows);
  const p99 = bucketQuantile(t.buckets, 0.99);
  return {
    ...t,
    target,
    since,
    until,
    errorRate: t.requests > 0 ? t.errors / t.requests : null,
    p99Ms: p99 ?? null,
  };
}

/**
 * Start of the SLO window at `now`: the last `slo.window`, but never before the
 * route's last change (aligned down to the flush interval) — traffic from
 * before a flip says nothing about the new weight, and a route just rolled
 * back and re-flipped must not be judged on the failures that rolled it back.
 * The window holding the change also holds traffic from before it: readers
 * pass the route's version to readLiveTraffic to leave that out.
 */
export function sloSince(route: RouteConfig, now: number, lastChangeMs: number, flushMs: number): number {
  const windowMs = parseDuration(route.slo.window);
  return Math.max(windowStart(now - windowMs, flushMs), windowStart(lastChangeMs, flushMs));
}
