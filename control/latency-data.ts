/**
 * Latency per route and target over time, as gathered by control/latency.ts
 * from the stats windows (bucketed, so percentiles are bucket upper bounds)
 * and the shadow pairs (raw samples of the same requests sent to both sides).
 * The producer (control/) owns this shape; reporters import it type-only.
 */
import type { KeepAliveStallFinding } from '../core/keepalive-stall.js';
import type { Mode } from '../core/types.js';

export interface Percentiles {
  requests: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface LatencyPoint {
  /** Bin start, ISO-8601. */
  start: string;
  legacy: Percentiles | null;
  service: Percentiles | null;
}

export interface LatencyRoute {
  id: string;
  mode: Mode;
  series: LatencyPoint[];
  /** Over the whole range. */
  overall: { legacy: Percentiles | null; service: Percentiles | null };
  /** Shadow pairs: the same requests answered by both sides; null when none were compared. */
  shadow: { pairs: number; legacy: Percentiles | null; service: Percentiles | null } | null;
  /** service p99 / legacy p99: from shadow pairs when there are any (like for like), else from live traffic. */
  p99Ratio: number | null;
  p99RatioSource: 'shadow' | 'stats' | null;
}

export interface LatencyData {
  generatedAt: string;
  since: string;
  stepMs: number;
  routes: LatencyRoute[];
  /** Upstreams the proxies found stalling on kept-alive connections (skews p99s); absent when none. */
  findings?: KeepAliveStallFinding[];
}
