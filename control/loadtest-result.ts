/**
 * What one `strangler loadtest` run measured: the same route driven with the
 * same load at each target in turn. Saved whole in store.results ('loadtest',
 * route id) so later reports can show it; reporters read this shape only.
 * The producer (control/) owns this shape; reporters import it type-only.
 */
import type { KeepAliveStallFinding } from '../core/keepalive-stall.js';

export const LOADTEST_TARGETS = ['legacy', 'service', 'proxy'] as const;
export type LoadtestTarget = (typeof LOADTEST_TARGETS)[number];

export interface LatencySummary {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LoadtestTargetResult {
  target: LoadtestTarget;
  url: string;
  /** Responses received (any status). */
  requests: number;
  durationS: number;
  /** Mean responses per second over the run. */
  rps: number;
  /** Milliseconds, over all responses. */
  latencyMs: LatencySummary;
  /** Connection errors, timeouts included. */
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Responses per HTTP status that was not 2xx, e.g. { "404": 3 }. */
  non2xxByStatus: Record<string, number>;
  /** Mean response bytes per second. */
  bytesPerSec: number;
}

/** b / a for each figure (e.g. service / legacy): above 1 means b is slower (latency) or faster (rps). */
export interface LoadtestRatio {
  of: LoadtestTarget;
  over: LoadtestTarget;
  rps: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface LoadtestResult {
  route: string;
  method: string;
  path: string;
  connections: number;
  durationS: number;
  /** Overall requests/s cap, or null when unlimited. */
  rate: number | null;
  /** Bytes of request body sent with each request (0 for none). */
  bodyBytes: number;
  /** The route's mode when the run started, and which direct target the proxy serves in it. */
  mode: string;
  directTarget: 'legacy' | 'service';
  startedAt: string;
  finishedAt: string;
  targets: LoadtestTargetResult[];
  /** service/legacy and proxy/direct, when both sides were measured. */
  ratios: LoadtestRatio[];
  /** Targets that stall on kept-alive connections (probed after the run, or found by a proxy); absent when none. */
  findings?: KeepAliveStallFinding[];
}
