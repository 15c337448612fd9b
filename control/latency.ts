/**
 * Gathers `strangler report latency`: per route and target, latency
 * percentiles over time from the proxies' stats windows, with the shadow
 * pairs (the same requests answered by both sides) beside them where there
 * are any. Also the time binning shared with control/progress.ts.
 */
import { readStallFindings } from './findings.js';
import type { Config } from '../core/config.js';
import { StranglerError, unknownRouteError } from '../core/errors.js';
import type { Mode, Target } from '../core/types.js';
import type { LatencyData, LatencyPoint, LatencyRoute, Percentiles } from './latency-data.js';
import { LATENCY_BOUNDS_MS, bucketQuantile, sumWindows } from '../store/stats-window.js';
import type { StatsWindow, Store } from '../store/types.js';
import { sampleQuantile } from '../core/quantile.js';
import { P99_FLOOR_MS } from './evidence.js';

/** More bins than this makes an unreadable chart and a huge report: ask for a wider --step. */
export const MAX_BINS = 500;
const STEPS_MS = [60_000, 5 * 60_000, 15 * 60_000, 3_600_000, 6 * 3_600_000, 86_400_000];
const TARGET_BINS = 48;

/** The smallest of 1m, 5m, 15m, 1h, 6h, 1d that cuts [since, until) into at most 48 bins. */
export function autoStep(since: number, until: number): number {
  const span = Math.max(1, until - since);
  return STEPS_MS.find((s) => span / s <= TARGET_BINS) ?? STEPS_MS[STEPS_MS.length - 1];
}

/** Start of every bin covering [since, until), aligned to multiples of stepMs. */
export function binStarts(since: number, until: number, stepMs: number): number[] {
  if (!(stepMs > 0)) throw new StranglerError('STRANGLER_E_USAGE', `--step: expected a positive duration`);
  const first = Math.floor(since / stepMs) * stepMs;
  const count = Math.max(1, Math.ceil((until - first) / stepMs));
  if (count > MAX_BINS)
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      `--step: ${stepMs} ms over this range makes ${count} bins (at most ${MAX_BINS}); use a wider --step or a later --since`,
      { details: { field: 'step' } },
    );
  return Array.from({ length: count }, (_, i) => first + i * stepMs);
}

/**
 * A bucket quantile as a finite number: the overflow bucket (slower than the
 * last bound) is reported as the last bound, so JSON stays valid; such a value
 * means "at least this".
 */
function finiteQuantile(buckets: readonly number[], q: number): number | null {
  const v = bucketQuantile(buckets, q);
  if (v === undefined) return null;
  return Number.isFinite(v) ? v : LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1];
}

/** p50/p90/p99 of a set of windows, or null when they hold no requests. */
export function windowPercentiles(windows: readonly StatsWindow[]): Percentiles | null {
  const t = sumWindows(windows);
  if (t.requests === 0) return null;
  return {
    requests: t.requests,
    p50: finiteQuantile(t.buckets, 0.5),
    p90: finiteQuantile(t.buckets, 0.9),
    p99: finiteQuantile(t.buckets, 0.99),
  };
}

function samplePercentiles(samples: readonly number[]): Percentiles | null {
  if (samples.length === 0) return null;
  const q = (p: number) => {
    const v = sampleQuantile(samples, p);
    return v === undefined ? null : Math.round(v * 100) / 100;
  };
  return { requests: samples.length, p50: q(0.5), p90: q(0.9), p99: q(0.99) };
}

/** Route ids in config order, then any the store knows that the config no longer lists. */
export async function routeIds(store: Store, config: Readonly<Config>): Promise<string[]> {
  const ids = config.routes.map((r) => r.id);
  for (const s of await store.routes.list()) if (!ids.includes(s.id)) ids.push(s.id);
  return ids;
}

export interface GatherOptions {
  /** Epoch ms: the range is [since, now). */
  since: number;
  now: Date;
  stepMs?: number;
  /** `since` is only a limit (no --since given): start at the first recorded traffic after it. */
  fit?: boolean;
}

/**
 * Where the range starts. Without --since it starts at the first recorded
 * stats window (never further back than `since`), so a migration that began
 * minutes ago gets minute bins, not a day of hourly bins with one non-empty.
 */
export async function rangeStart(store: Store, opts: GatherOptions): Promise<number> {
  if (!opts.fit) return opts.since;
  const until = opts.now.getTime();
  let first = Number.POSITIVE_INFINITY;
  for (const w of await store.stats.query({ since: opts.since }))
    if (w.start < until && w.start < first) first = w.start;
  return Number.isFinite(first) ? Math.max(opts.since, first) : opts.since;
}

/** A bin still filling: it ends after the report's `now`. */
export function isPartialBin(start: number, stepMs: number, until: number): boolean {
  return start + stepMs > until;
}

function p99Ratio(service: number | null | undefined, legacy: number | null | undefined): number | null {
  if (service === null || service === undefined || legacy === null || legacy === undefined) return null;
  return Math.round((service / Math.max(legacy, P99_FLOOR_MS)) * 1000) / 1000;
}

/** Latency per route (or one route) and target over time. */
export async function gatherLatency(
  store: Store,
  config: Readonly<Config>,
  opts: GatherOptions & { route?: string },
): Promise<LatencyData> {
  const all = await routeIds(store, config);
  if (opts.route && !all.includes(opts.route)) throw unknownRouteError(opts.route, all);
  const until = opts.now.getTime();
  const since = await rangeStart(store, opts);
  const stepMs = opts.stepMs ?? autoStep(since, until);
  const starts = binStarts(since, until, stepMs);
  const ids = opts.route ? [opts.route] : all;
  const routes: LatencyRoute[] = [];
  for (const id of ids) {
    const windows = (await store.stats.query({ route: id, since })).filter((w) => w.start < until);
    const of = (target: Target, from = -Infinity, to = Infinity) =>
      windows.filter((w) => w.target === target && w.start >= from && w.start < to);
    const series: LatencyPoint[] = starts.map((s) => ({
      start: new Date(s).toISOString(),
      legacy: windowPercentiles(of('legacy', s, s + stepMs)),
      service: windowPercentiles(of('service', s, s + stepMs)),
    }));
    const overall = { legacy: windowPercentiles(of('legacy')), service: windowPercentiles(of('service')) };
    const ev = await store.shadow.evidence(id);
    const shadow =
      ev.compared > 0 || ev.latency.legacy.length > 0 || ev.latency.service.length > 0
        ? {
            pairs: ev.compared,
            legacy: samplePercentiles(ev.latency.legacy),
            service: samplePercentiles(ev.latency.service),
          }
        : null;
    const fromShadow = shadow ? p99Ratio(shadow.service?.p99, shadow.legacy?.p99) : null;
    const fromStats = p99Ratio(overall.service?.p99, overall.legacy?.p99);
    const state = await store.routes.get(id);
    const mode: Mode = state?.mode ?? config.routes.find((r) => r.id === id)?.mode ?? 'legacy';
    routes.push({
      id,
      mode,
      series,
      overall,
      shadow,
      p99Ratio: fromShadow ?? fromStats,
      p99RatioSource: fromShadow !== null ? 'shadow' : fromStats !== null ? 'stats' : null,
    });
  }
  const findings = await readStallFindings(store, config);
  return {
    generatedAt: opts.now.toISOString(),
    since: new Date(since).toISOString(),
    stepMs,
    routes,
    ...(findings.length ? { findings } : {}),
  };
}
