/**
 * One store interface with two implementations: SQLite (store/sqlite/, the
 * embedded default, one machine) and Redis (store/redis/, many proxy
 * instances). The store is the single source of truth for runtime modes; the
 * config seeds it. Every method is async so both backends fit.
 *
 * Sub-stores are separate objects so each concern (routes, audit, shadow
 * evidence, stats windows, load-test results) lives in its own module per
 * backend. test/store/contract.ts runs the same suite against every backend.
 */
import type { AuditEntry, AuditInput, Mode, RouteChange, RouteSeed, RouteState, Target } from '../core/types.js';

export interface RouteStore {
  /** Insert routes the store has never seen (audited as 'seed'); existing runtime state wins over the config. */
  seed(routes: RouteSeed[], actor: string): Promise<RouteState[]>;
  list(): Promise<RouteState[]>;
  get(id: string): Promise<RouteState | undefined>;
  /**
   * Change a route's mode/weight and append the audit row in one transaction.
   * Throws STRANGLER_E_UNKNOWN_ROUTE, or STRANGLER_E_STALE_VERSION when
   * `expectVersion` is given and differs (nothing is changed then).
   */
  flip(change: RouteChange): Promise<RouteState>;
  /** A number that changes whenever any route changes: proxies poll it to refresh their table. */
  tableVersion(): Promise<number>;
}

export interface AuditLog {
  append(entry: AuditInput): Promise<AuditEntry>;
  /** Newest last. */
  list(query?: { route?: string; limit?: number; action?: string }): Promise<AuditEntry[]>;
}

/** Per-route shadow evidence. Owned by shadow/; shapes defined in shadow/types.ts as they land. */
export interface ShadowStore {
  /** Apply a batch of counter increments and samples for one route (one transaction). */
  record(route: string, batch: ShadowBatch): Promise<void>;
  evidence(route: string): Promise<ShadowEvidence>;
  reset(route: string): Promise<void>;
}

export interface ShadowBatch {
  compared: number;
  matched: number;
  /** Requests not compared, by reason (sampled-out, concurrency-cap, body-cap, timeout, error...). */
  skipped: Record<string, number>;
  /** Per field path: times it differed against the service, times it differed between two legacy answers, legacy-vs-legacy pairs observed. */
  fieldDiffs: Record<string, number>;
  fieldNoise: Record<string, number>;
  noisePairs: number;
  /** Latency samples in ms from the same paired requests. */
  latency: { legacy: number[]; service: number[] };
  errors: { legacy: number; service: number };
  samples: ShadowSample[];
}

export interface ShadowSample {
  at: string;
  endpoint: string; // the route pattern, not the raw URL
  request: { method: string; url: string; headers: Record<string, string> };
  legacy: { status: number; headers: Record<string, string>; body: string };
  service: { status: number; headers: Record<string, string>; body: string };
  differences: Array<{ path: string; kind: string; legacy?: unknown; service?: unknown }>;
}

export interface ShadowEvidence {
  route: string;
  compared: number;
  matched: number;
  skipped: Record<string, number>;
  fieldDiffs: Record<string, number>;
  fieldNoise: Record<string, number>;
  noisePairs: number;
  /** Latency histograms (ms buckets) or raw reservoirs per target — see shadow/ for the exact encoding. */
  latency: { legacy: number[]; service: number[] };
  errors: { legacy: number; service: number };
  samples: ShadowSample[];
}

/** Requests, errors and a latency histogram per route and target over one window, flushed by each proxy. */
export interface StatsWindow {
  route: string;
  target: Target;
  instance: string;
  /** Window start, epoch ms, aligned to the flush interval. */
  start: number;
  durationMs: number;
  requests: number;
  errors: number;
  failovers: number;
  /** Counts per latency bucket upper bound (ms), same bounds for every window: see control/stats.ts. */
  buckets: number[];
}

export interface StatsStore {
  add(windows: StatsWindow[]): Promise<void>;
  /** Windows whose start is >= since (epoch ms), for a route or all. */
  query(q: { route?: string; since: number; target?: Target }): Promise<StatsWindow[]>;
}

/** Saved load-test runs and plans, so reports can show them later. */
export interface ResultStore {
  put(kind: 'loadtest' | 'plan', key: string, value: unknown): Promise<void>;
  latest(kind: 'loadtest' | 'plan', key?: string): Promise<{ key: string; at: string; value: unknown } | undefined>;
  list(kind: 'loadtest' | 'plan', limit?: number): Promise<Array<{ key: string; at: string; value: unknown }>>;
}

export interface Store {
  readonly kind: 'sqlite' | 'redis';
  readonly routes: RouteStore;
  readonly audit: AuditLog;
  readonly shadow: ShadowStore;
  readonly stats: StatsStore;
  readonly results: ResultStore;
  /**
   * Call `onChange` soon after any route changes, from this process or another
   * (SQLite: polling a version; Redis: pub/sub plus a periodic version check).
   */
  watch(onChange: () => void, intervalMs?: number): () => void;
  close(): Promise<void>;
}

export type { Mode };
