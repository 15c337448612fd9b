/**
 * The seam between the proxy's request path and shadow comparison. The proxy
 * asks `plan()` before forwarding (so it knows whether to keep a bounded copy
 * of the request and response bodies) and calls `afterPrimary()` once the
 * primary response has been fully sent to the client. Everything shadow does
 * happens after that call, off the primary's path, with its own lifetime.
 */
import type { RouteConfig } from '../core/config.js';
import type { RequestFacts } from '../core/resend.js';
import type { RouteState, Target } from '../core/types.js';

export interface ShadowPlan {
  /** Keep copies of request and response bodies for this request. */
  capture: boolean;
  /** Cap on each captured body; beyond it the copy is dropped (body → null) and the skip is counted. */
  maxBodyBytes: number;
}

/** What the primary exchange looked like, handed to shadow after the client has its answer. */
export interface PrimaryExchange {
  requestId: string;
  routeId: string;
  /** The route's path pattern (endpoints are grouped by pattern, not raw URL). */
  pattern: string;
  method: string;
  /** Path and query as the client sent them. */
  url: string;
  requestHeaders: Record<string, string | string[] | undefined>;
  /** null when not captured or over the cap. */
  requestBody: Buffer | null;
  /** Which side served the client. */
  target: Target;
  status: number;
  responseHeaders: Record<string, string | string[] | undefined>;
  /** Raw (possibly compressed) body; null when not captured or over the cap. */
  responseBody: Buffer | null;
  durationMs: number;
  /** Set when the primary failed (then no comparison is made, but it is counted). */
  error?: string;
  /**
   * Extraction points (kind: function) only: a second answer of the local
   * function to the same call, taken by the client for noise. Legacy is the
   * monolith's own code there, which the proxy cannot ask twice.
   */
  legacyAgain?: {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
    durationMs: number;
  };
  /**
   * Trace context for the copies (proxy/tracing.ts): each copy carries the
   * traceparent start() returns instead of the client's, and calls end() once
   * answered or failed. Absent: copies carry the client's headers as they were.
   */
  copyTrace?: CopyTrace;
}

/** Hands each shadow copy its traceparent and, with tracing on, a span of its own. */
export interface CopyTrace {
  start(side: Target): { traceparent: string; end(outcome: { status?: number; error?: string }): void };
}

export interface ShadowHook {
  /** `req`: the primary's method, headers and canonical target (a method override declines the copy). */
  plan(route: RouteConfig, state: RouteState, req: RequestFacts, target: Target): ShadowPlan;
  /** Must return at once and never throw: the work runs detached. */
  afterPrimary(route: RouteConfig, state: RouteState, exchange: PrimaryExchange): void;
  /** Count exchanges that never reached afterPrimary (an extraction point's client dropped them), by reason. */
  countSkipped?(routeId: string, reason: string, n: number): void;
  /** Shadow exchanges in flight and bytes they hold (an extraction point's batch waits for room). */
  load?(): { active: number; bytes: number };
  /** Exchanges per route whose evidence the store could not write (strangler_shadow_evidence_lost_total). */
  evidenceLost?(): Record<string, number>;
  /** Be told how the service answered each shadow copy sent to it (ok: answered below 500): the breaker's probes. */
  observeService?(fn: (routeId: string, ok: boolean) => void): void;
  close(): Promise<void>;
}
