/**
 * The migration at a glance, as gathered by control/progress.ts from the store
 * (routes, stats windows, shadow evidence, audit log, saved plan and load
 * tests). Reporters read this shape only.
 * The producer (control/) owns this shape; reporters import it type-only.
 */
import type { Mode } from '../core/types.js';

export interface ProgressRoute {
  id: string;
  service: string;
  /** The monolith module the route belongs to (config `module:`), if declared. */
  module: string | null;
  mode: Mode;
  weight: number;
  version: number;
  /** Shadow comparisons that matched (after noise); null with none compared. */
  matchRate: number | null;
  compared: number;
  /** Requests each target served in the report's time range (stats windows). */
  requests: { legacy: number; service: number };
  errors: { legacy: number; service: number };
  /** p99 latency (ms) per target from the stats windows' buckets (bucket upper bound); null with no traffic. */
  p99Ms: { legacy: number | null; service: number | null };
  /** From the latest breaker.* audit row: "open", "half-open" or "closed" (`at` null: never changed); null without failover. */
  breaker: { state: string; at: string | null } | null;
  lastChange: { at: string; actor: string; reason: string };
  /** The latest saved load test of this route, reduced to its ratios. */
  loadtest: { at: string; serviceOverLegacyP99: number | null; serviceOverLegacyRps: number | null } | null;
}

export interface TrafficPoint {
  /** Bin start, ISO-8601. */
  start: string;
  legacy: number;
  service: number;
  /** The current bin: it ends after the report was generated, so its counts are still growing. */
  partial?: boolean;
}

export interface NextCandidate {
  module: string;
  wave: number | null;
  rank: number | null;
  reasons: string[];
}

export interface ProgressData {
  generatedAt: string;
  /** Start of the traffic range, ISO-8601, and the width of each traffic bin. */
  since: string;
  stepMs: number;
  modes: Record<Mode, number>;
  traffic: TrafficPoint[];
  totals: { legacy: number; service: number; serviceShare: number | null };
  routes: ProgressRoute[];
  /** From the latest saved plan (store.results 'plan'); null when no plan was saved. */
  plan: { at: string; candidates: NextCandidate[] } | null;
}
