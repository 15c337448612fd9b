/**
 * The shape of a stats window, shared by the writer (proxy/stats-recorder.ts)
 * and the readers (control/guard.ts, control/evidence.ts). It lives in store/
 * because DESIGN's one-way rule lets proxy import store but not control, and
 * both sides must agree on one fixed bucket layout: windows flushed by
 * different proxy instances are summed bucket by bucket.
 */
import type { StatsWindow } from './types.js';

/**
 * Upper bounds (ms, inclusive) of the latency buckets. `buckets[i]` counts
 * requests with duration <= LATENCY_BOUNDS_MS[i] (and > the previous bound);
 * one extra last bucket counts everything slower than the last bound.
 * Changing this list invalidates stored windows, so only ever append.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = Object.freeze([
  1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000,
  30_000, 60_000,
]);

/** Number of counters in `StatsWindow.buckets` (the bounds plus the overflow bucket). */
export const BUCKET_COUNT = LATENCY_BOUNDS_MS.length + 1;

export function emptyBuckets(): number[] {
  return new Array<number>(BUCKET_COUNT).fill(0);
}

/** Index of the bucket a duration falls in. */
export function bucketIndex(durationMs: number): number {
  // Linear scan: 26 bounds, cheaper than a binary search's branches at this size.
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (durationMs <= LATENCY_BOUNDS_MS[i]) return i;
  return LATENCY_BOUNDS_MS.length;
}

/** Start (epoch ms) of the window containing `at`, aligned to the flush interval. */
export function windowStart(at: number, windowMs: number): number {
  return Math.floor(at / windowMs) * windowMs;
}

/** Totals over several windows (any instances, any starts). */
export interface StatsTotals {
  requests: number;
  errors: number;
  failovers: number;
  buckets: number[];
}

export function sumWindows(windows: readonly StatsWindow[]): StatsTotals {
  const out: StatsTotals = { requests: 0, errors: 0, failovers: 0, buckets: emptyBuckets() };
  for (const w of windows) {
    out.requests += w.requests;
    out.errors += w.errors;
    out.failovers += w.failovers;
    w.buckets.forEach((n, i) => {
      if (i < BUCKET_COUNT) out.buckets[i] += n;
    });
  }
  return out;
}

/**
 * The q-quantile (0..1) of a bucketed histogram, reported as the upper bound of
 * the bucket it falls in: a conservative estimate (never below the true value
 * for in-range samples). Infinity when it falls in the overflow bucket;
 * undefined for an empty histogram.
 */
export function bucketQuantile(buckets: readonly number[], q: number): number | undefined {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i];
    if (seen >= rank) return i < LATENCY_BOUNDS_MS.length ? LATENCY_BOUNDS_MS[i] : Number.POSITIVE_INFINITY;
  }
  return Number.POSITIVE_INFINITY;
}
