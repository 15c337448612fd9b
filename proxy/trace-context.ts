/**
 * The distributed-context pieces the request path uses whether or not spans
 * are exported (see proxy/tracing.ts for the whole picture): the seam the
 * pipeline calls when tracing is on, and the traceparent handling shared with
 * the OpenTelemetry implementation.
 */
import type { Target } from '../core/types.js';
import type { CopyTrace } from '../shadow/types.js';
import { nextTraceparent } from './context.js';
import type { FailoverResult, RequestContext, UpstreamAttempt } from './types.js';

/** The spans of one request (only while tracing is on). */
export interface RequestTrace {
  /** Run one upstream attempt inside a child span; `failover` marks legacy answering for a failed service. */
  attempt(target: Target, failover: boolean, run: () => Promise<UpstreamAttempt>): Promise<UpstreamAttempt>;
  /** The client's answer is over: close the attempt and request spans with what happened. */
  end(facts: RequestFacts): void;
  /** Trace context for the shadow copies of this request: spans of their own, linked to this one. */
  copies(routeId: string): CopyTrace;
}

export interface RequestFacts {
  route: string | undefined;
  mode: string | undefined;
  target: Target;
  status: number;
  outcome: string;
  answer: FailoverResult | undefined;
  rateLimited: string | undefined;
}

/** What the proxy holds while tracing is on. */
export interface Tracing {
  /** Start the request span; rewrites ctx.traceparent and the upstream headers to name it. */
  startRequest(ctx: RequestContext): RequestTrace;
  /** Export what is buffered and stop. */
  close(): Promise<void>;
}

const noEnd = () => {};

/**
 * Shadow copies with tracing off: each copy continues the request's trace
 * with a span id of its own, so the upstream can tell the copy from the
 * primary in its own logs, and the client's traceparent never rides along.
 */
export function untracedCopies(ctx: RequestContext): CopyTrace {
  const parent = ctx.traceparent;
  return { start: () => ({ traceparent: nextTraceparent(parent), end: noEnd }) };
}

/** Replace the traceparent the upstream gets (the flat header list holds exactly one, set by headers.ts). */
export function setUpstreamTraceparent(ctx: RequestContext, value: string): void {
  const h = ctx.upstreamHeaders;
  for (let i = h.length - 2; i >= 0; i -= 2) {
    if (h[i] === 'traceparent') {
      h[i + 1] = value;
      return;
    }
  }
  h.push('traceparent', value);
}
