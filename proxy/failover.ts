/**
 * Failover to legacy: its own handler wrapping the service attempt (in the
 * manner of traefik's failover.go), not branches in the pipeline. A request
 * routed to a service is answered by legacy instead when the service's
 * breaker is open, or the service refused, reset, timed out or (with
 * `on5xx`) answered 5xx — but only when sending the request again is safe:
 *
 * - Resendable requests (core/resend.ts: GET, HEAD, OPTIONS, requests with an
 *   `Idempotency-Key` header, routes marked `idempotent: true`) are resent
 *   whenever the service failed.
 * - Anything else is resent only when nothing reached the service (breaker
 *   open, connection refused, connect timeout). Otherwise the client gets
 *   502 (504 for a timeout) naming the request id, and the request has run
 *   at most once.
 * - Bodies are buffered up to `maxBufferBytes` so they can be replayed; a
 *   larger body streams straight through and is resent only when the service
 *   never took it (breaker open).
 *
 * The decision is made before the client sees a byte (forward() resolves at
 * the response head), so an answer is never begun by one target and finished
 * by another. Client disconnects are not service failures (see breaker.ts).
 */
import { Readable } from 'node:stream';
import { Counter, type Registry, register as defaultRegister } from 'prom-client';
import type { RouteConfig } from '../core/config.js';
import { StranglerError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { isResendable } from '../core/resend.js';
import type { AuditLog } from '../store/types.js';
import { BreakerRegistry, ClientAbortError, isBreakerOpen } from './breaker.js';
import type {
  FailoverReason,
  FailoverResult,
  RequestContext,
  UpstreamAttempt,
  UpstreamFailure,
  UpstreamResponse,
} from './types.js';
import { failoverReason, notResentCode } from './upstream-errors.js';

const FAILOVER_REASONS: readonly FailoverReason[] = [
  'breaker-open',
  'refused',
  'reset',
  'timeout',
  'status-5xx',
  'error',
];

/** Response header naming why legacy answered a service route. */
export const FAILOVER_HEADER = 'x-strangler-failover';

export interface FailoverFacts {
  reason: FailoverReason;
  /** Whether any of the request may have reached the service. */
  requestSent: boolean;
  resendable: boolean;
  /** Whether a body (if any) can still be given to legacy: buffered, or never handed to the service. */
  bodyAvailable: boolean;
  clientAborted: boolean;
}

export type FailoverDecision =
  | { to: 'legacy' }
  /** Answer the client 502/504 from the service's failure; never resend. */
  | { to: 'reject'; why: 'unsafe' | 'body-not-replayable' }
  /** Nobody is listening any more: do nothing further. */
  | { to: 'none' };

/** The pure failover rule; forwardWithFailover applies it. */
export function decideFailover(f: FailoverFacts): FailoverDecision {
  if (f.clientAborted) return { to: 'none' };
  if (!f.bodyAvailable) return { to: 'reject', why: 'body-not-replayable' };
  if (!f.requestSent || f.resendable) return { to: 'legacy' };
  return { to: 'reject', why: 'unsafe' };
}

/**
 * The service's headers deadline on a route: with failover on, the sooner of
 * the route's `failover.timeoutMs` and the upstream's own timeout, so a slow
 * service can still be rescued (by legacy, or the caller's own function)
 * within the client's patience; without failover, undefined: the
 * upstream's own. The one home of that rule (the pipeline and the points).
 */
export function serviceDeadlineMs(
  failover: RouteConfig['failover'],
  service: { readonly headersTimeoutMs: number },
): number | undefined {
  return failover.enabled ? Math.min(failover.timeoutMs, service.headersTimeoutMs) : undefined;
}

export interface FailoverOptions {
  audit?: Pick<AuditLog, 'append'>;
  log?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** The proxy's prom-client registry (ProxyMetrics.registry); default: prom-client's global one. */
  metrics?: Registry;
}

/** The 5xx answer of a service, thrown inside the breaker so it counts as a failure. */
class ServiceStatusError extends Error {
  constructor(readonly response: UpstreamResponse) {
    super(`service answered ${response.statusCode}`);
  }
}

/** A failed attempt, thrown inside the breaker so it counts as a failure. */
class AttemptError extends Error {
  constructor(readonly failure: UpstreamFailure) {
    super(failure.error.message, { cause: failure.error });
  }
}

/**
 * One proxy's failover state: its breakers and counters. Create one per proxy
 * and pass it to forwardWithFailover; it outlives route-table reloads.
 */
export class Failover {
  readonly breakers: BreakerRegistry;
  private readonly failovers: Counter<'route' | 'reason'>;
  /** Not resent because it may have run (decideFailover's 'unsafe'). */
  private readonly unsafe: Counter<'route'>;
  /** Not resent because its body was over maxBufferBytes and went to the service ('body-not-replayable'). */
  private readonly bodyTooLarge: Counter<'route'>;

  constructor(options: FailoverOptions = {}) {
    const reg = options.metrics ?? defaultRegister;
    this.breakers = new BreakerRegistry({ audit: options.audit, log: options.log, metrics: reg });
    this.failovers = counterOn(
      reg,
      'strangler_failovers_total',
      ['route', 'reason'],
      'Requests for a service route answered by legacy instead, by reason.',
    );
    this.unsafe = counterOn(
      reg,
      'strangler_unsafe_rejected_total',
      ['route'],
      'Failed service requests not resent to legacy because they may have run (answered 502/504).',
    );
    this.bodyTooLarge = counterOn(
      reg,
      'strangler_body_too_large_rejected_total',
      ['route'],
      'Failed service requests not resent to legacy because their body was over failover.maxBufferBytes, not kept, and already sent to the service (answered 502/504).',
    );
  }

  /** Zeroed counters and closed breakers for the routes with failover on (Prometheus: initialise known label sets). */
  initRoutes(routeIds: readonly string[]): void {
    this.breakers.initRoutes(routeIds);
    for (const route of routeIds) {
      for (const reason of FAILOVER_REASONS) this.failovers.inc({ route, reason }, 0);
      this.unsafe.inc({ route }, 0);
      this.bodyTooLarge.inc({ route }, 0);
    }
  }

  countFailover(route: string, reason: FailoverReason): void {
    this.failovers.inc({ route, reason });
  }

  /** A failed service request answered 502/504 instead of being resent, counted by why. */
  countRejected(route: string, why: 'unsafe' | 'body-not-replayable'): void {
    (why === 'unsafe' ? this.unsafe : this.bodyTooLarge).inc({ route });
  }

  close(): void {
    this.breakers.close();
  }
}

/** The registry's counter of that name (a second Failover on one registry shares it), else a new one. */
function counterOn<L extends string>(reg: Registry, name: string, labelNames: L[], help: string): Counter<L> {
  return (
    (reg.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter({ name, help, labelNames, registers: [reg] })
  );
}

/**
 * Answer a service route: try the service under its breaker and fall back to
 * legacy when that is safe. Resolves with the attempt to answer with; never
 * rejects. `failover` carries the breakers. `legacyNeedsBody: false` is an
 * extraction point's call: its legacy side is the caller's own function,
 * which has the arguments already, so no body is kept for a resend and the
 * body's size never stands in the way of a fallback (issue 25).
 */
export async function forwardWithFailover(
  ctx: RequestContext,
  route: RouteConfig,
  attemptService: () => Promise<UpstreamAttempt>,
  attemptLegacy: () => Promise<UpstreamAttempt>,
  failover: Failover,
  legacyNeedsBody = true,
): Promise<FailoverResult> {
  const cfg = route.failover;
  if (!cfg.enabled) return asResult(await attemptService(), 'service');

  // Most requests have no body: skip the promise and the await that prepareBody costs.
  const body =
    ctx.hasBody && legacyNeedsBody
      ? (ctx.bodyIntake ?? (await prepareBody(ctx, cfg.maxBufferBytes)))
      : 'none';
  if (body === 'aborted') return asResult(clientGone(), 'service');
  const resendable = isResendable(ctx.req, route);
  const breaker = failover.breakers.get(route.id, route.service, cfg);

  let reason: FailoverReason;
  let failure: UpstreamFailure | undefined;
  let fiveXx: UpstreamResponse | undefined;
  let requestSent: boolean;
  const serviceStart = performance.now();
  try {
    const answer = await breaker.run(async () => {
      const a = await attemptService();
      if (!a.ok) {
        if (ctx.signal.aborted) throw new ClientAbortError(a.error);
        throw new AttemptError(a);
      }
      if (cfg.on5xx && a.statusCode >= 500) throw new ServiceStatusError(a);
      return a;
    });
    return asResult(answer, 'service');
  } catch (err) {
    if (err instanceof ClientAbortError) return asResult(clientGone(), 'service');
    if (isBreakerOpen(err)) {
      reason = 'breaker-open';
      requestSent = false;
    } else if (err instanceof ServiceStatusError) {
      reason = 'status-5xx';
      requestSent = true;
      fiveXx = err.response;
    } else if (err instanceof AttemptError) {
      failure = err.failure;
      reason = failoverReason(failure);
      requestSent = failure.requestSent;
    } else {
      // Not ours and not the attempt's: a bug; answer 502 rather than hang.
      failure = {
        ok: false,
        kind: 'other',
        error: err as Error,
        requestSent: true,
        origin: '',
      };
      reason = 'error';
      requestSent = true;
    }
  }

  const decision = decideFailover({
    reason,
    requestSent,
    resendable,
    // A body never handed out (breaker open) is still the client's untouched stream.
    bodyAvailable: !legacyNeedsBody || !ctx.hasBody || body === 'replayable' || !ctx.bodyConsumed,
    clientAborted: ctx.signal.aborted,
  });

  if (decision.to === 'legacy') {
    fiveXx?.body.discard();
    failover.countFailover(route.id, reason);
    // The pipeline names the reason in FAILOVER_HEADER from failoverReason
    // (not res.setHeader here: a pre-set header sends Node's writeHead down
    // its slow path, which keeps only the last of repeated Set-Cookie fields).
    const serviceMs = performance.now() - serviceStart;
    return Object.assign(await attemptLegacy(), {
      target: 'legacy' as const,
      failoverReason: reason,
      serviceMs,
    });
  }
  if (decision.to === 'reject') failover.countRejected(route.id, decision.why);
  if (fiveXx && decision.to === 'none') return asResult(fiveXx, 'service');
  const f = failure ?? (fiveXx ? statusFailure(fiveXx) : breakerOpenFailure());
  return asResult(decision.to === 'reject' ? gatewayFailure(f, decision.why) : f, 'service');
}

function asResult(a: UpstreamAttempt, target: 'service' | 'legacy'): FailoverResult {
  return Object.assign(a, { target });
}

/**
 * The failure the client sees when it is not resent: a timeout stays 504,
 * anything else is 502 STRANGLER_E_UNSAFE_RETRY; the original error is kept
 * as `cause` (the log shows it), never its text in place of ours.
 */
function gatewayFailure(f: UpstreamFailure, why: 'unsafe' | 'body-not-replayable'): UpstreamFailure {
  const note =
    why === 'unsafe' ? 'not resent: the request may have run' : 'not resent: the body was too large to keep';
  const code = notResentCode(f);
  const how = code === 'STRANGLER_E_UPSTREAM_TIMEOUT' ? 'timed out' : `failed (${failedHow(f)})`;
  const error = new StranglerError(code, `service ${how}; ${note}`, { cause: f.error });
  return { ...f, error };
}

/**
 * With on5xx a service 5xx is a failure like a reset: an unsafe request that
 * got one is answered 502 like the others (its body is dropped; the log keeps
 * the status), so every failed non-resendable request looks the same.
 */
function statusFailure(r: UpstreamResponse): UpstreamFailure {
  r.body.discard();
  return {
    ok: false,
    kind: 'other',
    error: Object.assign(new Error(`service answered ${r.statusCode}`), { statusCode: r.statusCode }),
    requestSent: true,
    origin: r.origin,
  };
}

function failedHow(f: UpstreamFailure): string {
  const status = (f.error as { statusCode?: number }).statusCode;
  return status ? `answered ${status}` : f.kind;
}

function breakerOpenFailure(): UpstreamFailure {
  return {
    ok: false,
    kind: 'other',
    error: new StranglerError('STRANGLER_E_UPSTREAM', 'service unavailable (breaker open)'),
    requestSent: false,
    origin: '',
  };
}

function clientGone(): UpstreamFailure {
  return { ok: false, kind: 'other', error: new ClientAbortError(), requestSent: false, origin: '' };
}

/**
 * Make the request body replayable when it fits the cap: read it into memory
 * and replace `ctx.body` with a function returning a fresh stream each time.
 * A body over the cap (by Content-Length, or found while reading a chunked
 * one) is left single-use: what was read so far is put back in front of the
 * rest (Readable#unshift). Resolves 'aborted' when the client left while we read.
 */
function prepareBody(
  ctx: RequestContext,
  max: number,
): Promise<'none' | 'replayable' | 'streamed' | 'aborted'> {
  if (!ctx.hasBody) return Promise.resolve('none');
  const declared = Number(ctx.req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.resolve('streamed');
  const req = ctx.req;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (outcome: 'replayable' | 'streamed' | 'aborted') => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      ctx.signal.removeEventListener('abort', onAbort);
      if (outcome === 'replayable') {
        ctx.body = () => Readable.from(chunks, { objectMode: false });
        ctx.bodyConsumed = false;
      } else if (outcome === 'streamed') {
        // Put what we read back in front of the rest: ctx.body stays the
        // default single-use stream, which forward() knows not to resend.
        req.pause();
        req.unshift(Buffer.concat(chunks));
      }
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > max) done('streamed');
    };
    const onEnd = () => done('replayable');
    const onAbort = () => done('aborted');
    if (ctx.signal.aborted) return done('aborted');
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    ctx.signal.addEventListener('abort', onAbort);
  });
}
