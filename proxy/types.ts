/**
 * Types shared by the stages of the proxy's request path (server → context →
 * route-table → choose-target → forward → failover → respond). They are the
 * seam with proxy/failover.ts and proxy/choose-target.ts: a change here
 * changes every stage's contract at once.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { RouteConfig } from '../core/config.js';
import type { RouteState, Target } from '../core/types.js';
import type { ShadowPlan } from '../shadow/types.js';
import type { ClientSignal } from './client-signal.js';
import type { UpstreamBody } from './upstream-body.js';

/** One compiled route of a RouteTable snapshot. */
export interface RouteEntry {
  readonly config: RouteConfig;
  readonly state: RouteState;
  /** The path pattern as written in the config (`/api/blocks/:id`). */
  readonly pattern: string;
}

/** A request in flight, created once by proxy/context.ts and passed to every stage. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  /** The traceparent sent upstream and returned to the client (our span as parent). */
  readonly traceparent: string;
  /** performance.now() when the request arrived. */
  readonly startedAt: number;
  /** The matched route; undefined for unmatched requests (served by legacy). */
  route: RouteEntry | undefined;
  /** Headers for the upstream as a flat [name, value, ...] list, hop-by-hop already stripped. */
  upstreamHeaders: string[];
  /** Whether the client request carries a body (Content-Length > 0 or Transfer-Encoding). */
  readonly hasBody: boolean;
  /**
   * Body source for the next upstream attempt. The default returns the client's
   * request stream, which can be read once. The failover stage may replace
   * this with a function returning a fresh replay of a buffered copy (see
   * `bodyConsumed` to know whether the single-use stream was already taken).
   */
  body: () => Readable | null;
  /** True once the default `body()` handed out the client's stream. */
  bodyConsumed: boolean;
  /**
   * Set by the pipeline's body intake (request-body.ts): 'replayable' when the
   * whole body is in memory and `body()` replays it, 'streamed' when it is
   * the client's single-use stream. Undefined: no intake ran (the failover
   * stage then buffers itself).
   */
  bodyIntake?: 'replayable' | 'streamed';
  /**
   * Aborted when the client goes away before its response finished. Has the
   * AbortSignal surface the stages use (`aborted`, `reason`,
   * add/removeEventListener('abort')); undici takes it as a request signal.
   */
  readonly signal: ClientSignal;
  /** Shadow capture plan, when a shadow hook asked for one. */
  shadowPlan: ShadowPlan | undefined;
}

/** Why legacy answered a request routed to a service (the x-strangler-failover header). */
export type FailoverReason = 'breaker-open' | 'refused' | 'reset' | 'timeout' | 'status-5xx' | 'error';

/** Why an upstream attempt failed, as the failover stage needs to know it. */
export type UpstreamErrorKind = 'refused' | 'reset-before-response' | 'timeout' | 'other';

/** The upstream answered with status and headers; the body streams on. */
export interface UpstreamResponse {
  ok: true;
  statusCode: number;
  /** Parsed on first read (lowercase names, repeated ones as arrays). */
  readonly headers: IncomingHttpHeaders;
  /** The head as received, [name, value, ...]: the client's head is built from it. */
  readonly rawHeaders: readonly Buffer[];
  body: UpstreamBody;
  /** Which base URL answered (for logs). */
  origin: string;
}

/** The upstream failed before any response head arrived. Nothing was written to the client. */
export interface UpstreamFailure {
  ok: false;
  kind: UpstreamErrorKind;
  error: Error;
  /** Whether the request body was (partly) sent: then a resend is unsafe unless the body is replayable. */
  requestSent: boolean;
  origin: string;
}

/** Outcome of one forward() call: resolved once a response head arrived or the attempt failed. */
export type UpstreamAttempt = UpstreamResponse | UpstreamFailure;

/** What forwardWithFailover returns: the attempt that will be answered with, and who answered. */
export type FailoverResult = UpstreamAttempt & {
  target: Target;
  failoverReason?: FailoverReason;
  /** With failoverReason: how long the failed service attempt took (ms), for its own metrics series. */
  serviceMs?: number;
};
