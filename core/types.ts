/**
 * The vocabulary of DESIGN.md as types shared by every folder. This module is a
 * leaf: it imports nothing of ours, so proxy, control, store and reports can all
 * depend on it without breaking the one-way dependency rule.
 */

/** A route's mode, in the order a migration walks through them. */
export const MODES = ['legacy', 'shadow', 'canary', 'service'] as const;
export type Mode = (typeof MODES)[number];

/** Which side answered (or would answer) a request. */
export type Target = 'legacy' | 'service';

/** Runtime state of one route as the store owns it. */
export interface RouteState {
  id: string;
  mode: Mode;
  /** Percentage (0-100) of traffic sent to the service in `canary` mode. */
  weight: number;
  /** Monotonic per route; bumped by every flip. Used for --expect-version. */
  version: number;
  updatedAt: string; // ISO-8601
  actor: string;
  reason: string;
}

/** What the config file seeds into the store for a route it has never seen. */
export interface RouteSeed {
  id: string;
  mode: Mode;
  weight: number;
  /**
   * The route's definition (core/route-definitions.ts, JSON). Seeded with a
   * new route, and into a route the store holds without one (a store from
   * before definitions lived there); never over a stored definition.
   */
  definition?: Record<string, unknown>;
}

/** One row of the append-only audit log. */
export interface AuditEntry {
  seq: number;
  at: string; // ISO-8601
  actor: string;
  route: string | null;
  /** e.g. 'flip', 'seed', 'breaker.open', 'breaker.close', 'shadow.reset', 'guard.rollback' */
  action: string;
  before: Partial<RouteState> | null;
  after: Partial<RouteState> | null;
  reason: string;
  /** Free-form structured details (gate evidence, forced override, breaker numbers). */
  details?: Record<string, unknown>;
}

export type AuditInput = Omit<AuditEntry, 'seq' | 'at'> & { at?: string };

/** A requested change of a route's mode/weight. */
export interface RouteChange {
  route: string;
  mode: Mode;
  weight: number;
  actor: string;
  reason: string;
  /** Optimistic concurrency: refuse unless the route is still at this version. */
  expectVersion?: number;
  /** Extra audit details recorded with the flip (evidence, force override...). */
  details?: Record<string, unknown>;
  action?: string;
}
