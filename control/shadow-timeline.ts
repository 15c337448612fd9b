/**
 * Shadow evidence over time, for the console's route page. The store keeps
 * shadow evidence as running totals (store/types.ts ShadowEvidence), not as a
 * series, so the admin listener snapshots each route's totals on an interval
 * and keeps the last TIMELINE_POINTS of them in memory. A point holds the
 * totals and, from the difference with the previous point, the match rate
 * and the paired latency of the comparisons made in between.
 *
 * The series starts when the admin listener starts (it is not persisted);
 * the totals behind it are the store's, so every proxy instance's
 * comparisons count.
 */
import type { Config, RouteConfig } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { summariseMatches } from '../shadow/noise.js';
import type { ShadowEvidence, Store } from '../store/types.js';
import { sampleQuantile } from '../core/quantile.js';

export interface TimelinePoint {
  /** Epoch ms of the snapshot. */
  at: number;
  compared: number;
  /** Matched after noise, running total. */
  matched: number;
  /** Running match rate after noise; null before any comparison. */
  matchRate: number | null;
  /** Comparisons since the previous point, and the share of them that matched after noise. */
  interval: { compared: number; matchRate: number | null };
  /**
   * p50/p99 (ms) of the paired requests compared since the previous point,
   * per side; null when none were. The reservoirs keep the newest samples
   * last (store/types.ts), so the interval's pairs are their tail.
   */
  latency: { legacy: { p50: number; p99: number } | null; service: { p50: number; p99: number } | null };
}

/** One hour at the default 5 s interval. */
export const TIMELINE_POINTS = 720;

function tailQuantiles(xs: readonly number[], n: number): { p50: number; p99: number } | null {
  if (n <= 0 || xs.length === 0) return null;
  const tail = xs.slice(-Math.min(n, xs.length));
  return { p50: sampleQuantile(tail, 0.5)!, p99: sampleQuantile(tail, 0.99)! };
}

/** The next point from the previous one and fresh totals. Pure. */
export function nextPoint(
  prev: TimelinePoint | undefined,
  ev: ShadowEvidence,
  route: RouteConfig,
  at: number,
): TimelinePoint {
  const m = summariseMatches(ev, route.shadow);
  // A reset (strangler shadow reset) makes the totals fall: start over from zero.
  const base = prev && prev.compared <= ev.compared ? prev : undefined;
  const dCompared = ev.compared - (base?.compared ?? 0);
  const dMatched = m.matched - (base?.matched ?? 0);
  return {
    at,
    compared: ev.compared,
    matched: m.matched,
    matchRate: m.matchRate,
    interval: {
      compared: dCompared,
      // Noise learned later can lift `matched` more than `compared` grew; clamp to a rate.
      matchRate: dCompared > 0 ? Math.min(1, Math.max(0, dMatched / dCompared)) : null,
    },
    latency: {
      legacy: tailQuantiles(ev.latency.legacy, dCompared),
      service: tailQuantiles(ev.latency.service, dCompared),
    },
  };
}

export class ShadowTimeline {
  private readonly series = new Map<string, TimelinePoint[]>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly config: Readonly<Config>,
    private readonly logger?: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Snapshot every route now, then every `intervalMs`. */
  start(intervalMs = 5000): void {
    if (this.timer) return;
    void this.sampleAll();
    this.timer = setInterval(() => void this.sampleAll(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One snapshot of every configured route; overlapping calls share the run in progress. */
  sampleAll(): Promise<void> {
    if (!this.running)
      this.running = (async () => {
        try {
          for (const r of this.config.routes) await this.sample(r);
        } catch (err) {
          // Store away: keep the series as it is and try again next time.
          this.logger?.warn({ err }, 'shadow timeline: snapshot failed');
        } finally {
          this.running = undefined;
        }
      })();
    return this.running;
  }

  private async sample(route: RouteConfig): Promise<void> {
    const ev = await this.store.shadow.evidence(route.id);
    let points = this.series.get(route.id) ?? [];
    // After `strangler shadow reset` the chart starts over with the numbers
    // beside it (issue 26: it kept the pre-reset history). The reset's audit
    // row says when, even if new comparisons have since passed the old total.
    const [reset] = await this.store.audit.list({ route: route.id, action: 'shadow.reset', limit: 1 });
    const resetAt = reset ? Date.parse(reset.at) : Number.NEGATIVE_INFINITY;
    if (ev.compared < (points.at(-1)?.compared ?? 0)) points = [];
    else if ((points[0]?.at ?? Number.POSITIVE_INFINITY) <= resetAt)
      points = points.filter((p) => p.at > resetAt);
    const prev = points.at(-1);
    // Nothing compared yet and nothing before: no point worth keeping.
    if (!prev && ev.compared === 0) return;
    points.push(nextPoint(prev, ev, route, this.now()));
    if (points.length > TIMELINE_POINTS) points.splice(0, points.length - TIMELINE_POINTS);
    this.series.set(route.id, points);
  }

  points(route: string): TimelinePoint[] {
    return [...(this.series.get(route) ?? [])];
  }
}
