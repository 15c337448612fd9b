/**
 * The request path: a Pipeline's stages, in the order handle() runs them
 *
 *   admit (canonical request, framing rules) → context → match route
 *   → choose target → forward (→ failover) → respond
 *   → record metrics/stats → shadow (after the response finished)
 *
 * Each stage is a function of its own module; `Pipeline.handle` reads the
 * path top to bottom. The RouteTable is an immutable snapshot swapped on
 * reload: a request keeps the table it started with. The listener and its
 * start/stop are proxy/server.ts and proxy/listener.ts; upgrades
 * proxy/upgrades.ts.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { isResendable } from '../core/resend.js';
import type { Target } from '../core/types.js';
import type { PrimaryExchange, ShadowHook } from '../shadow/types.js';
import { chooseTarget } from './choose-target.js';
import { ClientSignal } from './client-signal.js';
import { closeAfterThisAnswer } from './client-connection.js';
import { createContext } from './context.js';
import { FAILOVER_HEADER, type Failover, forwardWithFailover, serviceDeadlineMs } from './failover.js';
import { capturedBodies, type ForwardOptions, forward, pipeToClient, respondError } from './forward.js';
import { admit, answerAsterisk, checkMethod, EdgeRefusal, respondRefusal } from './edge-rules.js';
import { BadRequestHeaders } from './headers.js';
import { type Outcome, type ProxyMetrics, rescuedOutcome, statusOutcome, UNMATCHED } from './metrics.js';
import { isPointsUrl, type PointEndpoints } from './points.js';
import { type Admission, RATE_LIMITED_HEADER, type RateLimits, respondOverLimit } from './rate-limit.js';
import type { RouteTable } from './route-table.js';
import { type BodyBudget, type IntakeOutcome, intakeBody, watchBody } from './request-body.js';
import type { StatsRecorder } from './stats-recorder.js';
import { type RequestTrace, type Tracing, untracedCopies } from './trace-context.js';
import type { FailoverResult, RequestContext, RouteEntry, UpstreamAttempt } from './types.js';
import { failureCode } from './upstream-errors.js';
import type { Upstreams } from './upstreams.js';

/** What a Pipeline serves with: startProxy builds each part once per proxy. */
export interface PipelineOptions {
  /** The first RouteTable; swapped by the route-table follower (proxy/route-table-follower.ts). */
  table: RouteTable;
  upstreams: Upstreams;
  metrics: ProxyMetrics;
  stats: StatsRecorder;
  logger: Logger;
  shadow: ShadowHook | undefined;
  /** The proxy's breakers (audited, on this proxy's metrics registry). */
  failover: Failover;
  points: PointEndpoints;
  /** Undefined when no route has a rateLimit: the stage is skipped. */
  limits: RateLimits | undefined;
  /** Undefined unless tracing.otlp is set. */
  tracing: Tracing | undefined;
  bodies: BodyBudget;
  /** The edge's limits and path rules (config.proxy). */
  edge: Readonly<Config['proxy']>;
}

/** Per-request state beyond the stage-visible context; lives on the context object. */
interface Flight extends RequestContext {
  pipeline: Pipeline;
  abort: ClientSignal;
  target: Target;
  answer: FailoverResult | undefined;
  /** Set by the rate-limit stage: 'spilled' (legacy answers instead of the service) or 'rejected' (429). */
  overLimit: 'spilled' | 'rejected' | undefined;
  /** This request's spans; undefined while tracing is off. */
  trace: RequestTrace | undefined;
  /** Whether the service's rate limit lets this request's shadow copy through (asked alongside the primary). */
  copyAdmitted: Promise<boolean> | undefined;
}

const FLIGHT = Symbol('strangler.flight');
type TrackedResponse = ServerResponse & { [FLIGHT]?: Flight };
export class Pipeline {
  table: RouteTable;
  /** Set by ProxyServer.drain(): every answer closes its connection. */
  draining = false;
  readonly upstreams: Upstreams;
  readonly metrics: ProxyMetrics;
  readonly stats: StatsRecorder;
  readonly logger: Logger;
  readonly shadow: ShadowHook | undefined;
  readonly failover: Failover;
  readonly points: PointEndpoints;
  readonly limits: RateLimits | undefined;
  readonly tracing: Tracing | undefined;
  readonly bodies: BodyBudget;
  readonly edge: Readonly<Config['proxy']>;

  constructor(opts: PipelineOptions) {
    this.table = opts.table;
    this.upstreams = opts.upstreams;
    this.metrics = opts.metrics;
    this.stats = opts.stats;
    this.logger = opts.logger;
    this.shadow = opts.shadow;
    this.failover = opts.failover;
    this.points = opts.points;
    this.limits = opts.limits;
    this.tracing = opts.tracing;
    this.bodies = opts.bodies;
    this.edge = opts.edge;
  }

  /**
   * One request through the stages: the edge admits it and gives it a
   * context, routing picks the target, the body is taken in, the primary is
   * forwarded (with failover on a service route), and the answer goes back.
   * finish() (on the response's 'close') records it. Each stage answers the
   * client itself when it ends the request early, and returns false then.
   */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctx = this.admitRequest(req, res);
    if (ctx === 'points') return this.points.handle(req, res);
    if (!ctx || !this.routeRequest(ctx)) return;
    // Only routes with a rateLimit pay for the await; the stages' awaits are
    // here, not in async stage methods (one promise fewer each).
    const limits = ctx.route?.config.rateLimit ? this.limits : undefined;
    if (limits && !this.applyQuota(ctx, await this.askQuota(ctx, limits))) return;
    this.planShadow(ctx);
    if (ctx.hasBody && !this.keepBody(ctx, await this.takeBody(ctx))) return;

    let answer: FailoverResult;
    try {
      const entry = ctx.route;
      answer =
        ctx.target === 'service' && entry
          ? await this.forwardToService(ctx, entry)
          : Object.assign(await this.forwardToLegacy(ctx), { target: 'legacy' as const });
    } catch (err) {
      // forward() never rejects; this is a failover-stage bug. Answer, do not crash.
      this.logger.error({ err, requestId: ctx.requestId }, 'failover stage threw');
      respondError(
        ctx,
        'STRANGLER_E_UPSTREAM',
        'proxy failed to forward the request',
        this.answerHeaders(ctx, ctx.target),
      );
      return;
    }
    this.answerClient(ctx, answer);
  }

  /**
   * The edge: `Connection: close` while draining, the canonical
   * target (from here on req.url is the one spelling routing, every upstream
   * and the shadow copy see), OPTIONS *, and the request context. Undefined
   * when the edge answered (or dropped) the request itself; 'points' for the
   * extraction points' reserved prefix, the proxy's own and never legacy's.
   */
  admitRequest(req: IncomingMessage, res: ServerResponse): Flight | 'points' | undefined {
    // RFC 9112 §9.6: the drain's answers close their connections; a request
    // pipelined behind one is then never processed (proxy/client-connection.ts).
    if (this.draining) closeAfterThisAnswer(req, res);
    const admission = admit(req, this.edge.paths);
    if (admission.kind === 'refuse') {
      respondRefusal(res, admission.refusal);
      return undefined;
    }
    if (admission.kind === 'asterisk') {
      answerAsterisk(res, { 'x-strangler-route': UNMATCHED });
      return undefined;
    }
    if (isPointsUrl(req.url)) return 'points';
    const abort = new ClientSignal();
    let ctx: Flight;
    try {
      ctx = createContext(req, res, abort, admission.authority) as Flight;
    } catch (err) {
      this.refuse(req, res, err);
      return undefined;
    }
    ctx.pipeline = this;
    ctx.abort = abort;
    ctx.answer = undefined;
    ctx.overLimit = undefined;
    ctx.copyAdmitted = undefined;
    ctx.trace = this.tracing ? this.tracing.startRequest(ctx) : undefined;
    (res as TrackedResponse)[FLIGHT] = ctx;
    res.on('close', onResponseClose);
    return ctx;
  }

  /** The route and the target; false after a 405 (method not allowed on the route). */
  routeRequest(ctx: Flight): boolean {
    const req = ctx.req;
    const entry = this.match(req);
    ctx.route = entry;
    const notAllowed = checkMethod(req.method ?? 'GET', entry);
    if (notAllowed) {
      ctx.target = 'legacy';
      respondError(ctx, notAllowed.code, notAllowed.message, this.answerHeaders(ctx, 'legacy'));
      return false;
    }
    ctx.target = targetOf(entry, req);
    return true;
  }

  /** The route's rate limit, asked for this request's target. */
  askQuota(ctx: Flight, limits: RateLimits): Promise<Admission> {
    const entry = ctx.route!;
    const req = ctx.req;
    return limits.admit(entry.config, entry.state.mode, ctx.target, req, {
      resendable: isResendable(req, entry.config),
      aborted: ctx.abort.aborted,
    });
  }

  /** The rate limit's answer: may move the target (spill to legacy); false after a 429. */
  applyQuota(ctx: Flight, quota: Admission): boolean {
    ctx.target = quota.target;
    if (!quota.ok) {
      ctx.overLimit = 'rejected';
      respondOverLimit(ctx, quota, this.answerHeaders(ctx, quota.target));
      return false;
    }
    if (quota.spilled) ctx.overLimit = 'spilled';
    return true;
  }

  /** Whether this request's exchange is captured for a shadow copy (decided before it is forwarded). */
  planShadow(ctx: Flight): void {
    const entry = ctx.route;
    if (!entry || !this.shadow) return;
    ctx.shadowPlan = this.shadow.plan(entry.config, entry.state, ctx.req, ctx.target);
    // In shadow mode the copy goes to the service: it takes a point of the
    // service's limit, asked now and not awaited (never in the primary's way).
    if (
      ctx.shadowPlan.capture &&
      entry.config.rateLimit?.service &&
      entry.state.mode === 'shadow' &&
      this.limits
    )
      ctx.copyAdmitted = this.limits.admitCopy(entry.config, ctx.req);
  }

  /**
   * Read the body (up to a hold size) before any upstream connection is
   * taken; a stalled body is answered 408 here or while it streams
   * (request-body.ts).
   */
  takeBody(ctx: Flight): Promise<IntakeOutcome> {
    watchBody(ctx, {
      idleMs: this.edge.bodyIdleTimeoutMs,
      minBytesPerSecond: this.edge.bodyMinBytesPerSecond,
      onTimeout: (why) => this.bodyTooSlow(ctx, why),
    });
    return intakeBody(ctx, this.bodies, this.holdBytes(ctx.route, ctx.target));
  }

  /** Keep what the intake took; false when the client went away meanwhile. */
  keepBody(ctx: Flight, intake: IntakeOutcome): boolean {
    if (intake === 'aborted') return false;
    ctx.bodyIntake = intake;
    return true;
  }

  /** The primary to legacy: a target chosen by the route, or an unmatched request. */
  forwardToLegacy(ctx: Flight): Promise<UpstreamAttempt> {
    const legacy = this.upstreams.legacy;
    return ctx.trace ? ctx.trace.attempt('legacy', false, () => forward(ctx, legacy)) : forward(ctx, legacy);
  }

  /** Stream the chosen answer to the client, or answer for an upstream that failed. */
  answerClient(ctx: Flight, answer: FailoverResult): void {
    ctx.answer = answer;
    if (ctx.abort.aborted) {
      if (answer.ok) answer.body.destroy();
      return;
    }
    const extra = this.answerHeaders(ctx, answer.target);
    if (answer.ok) {
      pipeToClient(ctx, answer, extra);
      return;
    }
    const code = failureCode(answer);
    this.logger.warn(
      {
        err: answer.error,
        code,
        requestId: ctx.requestId,
        route: ctx.route?.config.id,
        target: answer.target,
        origin: answer.origin,
      },
      'upstream failed',
    );
    respondError(ctx, code, `${answer.target} upstream: ${answer.error.message}`, extra);
  }

  /** The route of an admitted request (plain or upgrade); undefined: unmatched, legacy's. */
  match(req: IncomingMessage): RouteEntry | undefined {
    return this.table.match(req.method ?? 'GET', req.url ?? '/');
  }

  /** Bytes of body read before forwarding: enough to resend on failover, else the small-body size. */
  holdBytes(entry: RouteEntry | undefined, target: Target): number {
    const failover = entry?.config.failover;
    const resend = target === 'service' && failover?.enabled ? failover.maxBufferBytes : 0;
    return Math.max(this.edge.requestBufferBytes, resend);
  }

  /** 408 for a body that stalled (before or while it streams), then stop the upstream attempt. */
  bodyTooSlow(ctx: Flight, why: string): void {
    if (ctx.abort.aborted || ctx.res.writableEnded) return;
    this.logger.info(
      { requestId: ctx.requestId, route: ctx.route?.config.id, why },
      'request body too slow: 408',
    );
    respondError(ctx, 'STRANGLER_E_REQUEST_TIMEOUT', why, {
      ...this.answerHeaders(ctx, ctx.target),
      connection: 'close',
    });
    // The upstream (if it has the request) stops too; the breaker ignores it (a client matter).
    ctx.abort.abort();
  }

  forwardToService(ctx: Flight, entry: RouteEntry): Promise<FailoverResult> {
    const route = entry.config;
    const service = this.upstreams.service(route.service);
    // With failover on, the service gets the route's failover deadline so a
    // slow service can still be rescued by legacy within the client's patience.
    // forward()'s own resend-on-reset must follow the same
    // rule as failover (PUT/DELETE without Idempotency-Key are not resent).
    const opts: ForwardOptions | undefined = route.failover.enabled
      ? {
          headersTimeoutMs: serviceDeadlineMs(route.failover, service),
          resendable: isResendable(ctx.req, route),
        }
      : undefined;
    const legacy = this.upstreams.legacy;
    const trace = ctx.trace;
    return forwardWithFailover(
      ctx,
      route,
      trace
        ? () => trace.attempt('service', false, () => forward(ctx, service, opts))
        : () => forward(ctx, service, opts),
      trace ? () => trace.attempt('legacy', true, () => forward(ctx, legacy)) : () => forward(ctx, legacy),
      this.failover,
    );
  }

  answerHeaders(ctx: Flight, target: Target): OutgoingHttpHeaders {
    const extra: OutgoingHttpHeaders = {
      'x-strangler-route': ctx.route ? ctx.route.config.id : UNMATCHED,
      'x-strangler-target': target,
      'x-request-id': ctx.requestId,
      traceparent: ctx.traceparent,
    };
    const reason = ctx.answer?.failoverReason;
    if (reason) extra[FAILOVER_HEADER] = reason;
    if (ctx.overLimit) extra[RATE_LIMITED_HEADER] = ctx.overLimit === 'spilled' ? 'service' : ctx.target;
    return extra;
  }

  /** 400 for a request refused before it got a context (two Host headers). */
  refuse(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    if (!(err instanceof BadRequestHeaders)) {
      this.logger.error({ err }, 'request context failed');
      res.destroy();
      return;
    }
    respondRefusal(res, new EdgeRefusal('STRANGLER_E_BAD_REQUEST', err.message));
    req.resume();
  }

  /** The last stage: metrics, stats and shadow, once the client's response is over (finished or abandoned). */
  finish(ctx: Flight, res: ServerResponse): void {
    const finished = res.writableFinished;
    if (!finished) ctx.abort.abort();
    const durationMs = performance.now() - ctx.startedAt;
    const answer = ctx.answer;
    const target = answer ? answer.target : ctx.target;
    // No answer but a finished response: the proxy answered itself (405, 408).
    const outcome: Outcome = !finished
      ? 'aborted'
      : answer?.ok || !answer
        ? statusOutcome(res.statusCode)
        : 'error';
    const entry = ctx.route;
    const routeId = entry ? entry.config.id : UNMATCHED;
    this.metrics.observe(routeId, target, outcome, durationMs / 1000);
    // Legacy rescued it: the service's own failure is counted too, on target service.
    if (answer?.failoverReason)
      this.metrics.observe(
        routeId,
        'service',
        rescuedOutcome(answer.failoverReason),
        (answer.serviceMs ?? 0) / 1000,
      );
    ctx.trace?.end({
      route: entry?.config.id,
      mode: entry?.state.mode,
      target,
      status: res.statusCode,
      outcome,
      answer,
      rateLimited: ctx.overLimit,
    });
    // The edge's own answers (405, 408, our 429) say nothing about either side: no stats, no shadow.
    if (!entry || !finished || !answer) return;
    const { id } = entry.config;
    const { version } = entry.state;
    if (answer?.failoverReason) this.stats.record(id, version, 'service', durationMs, false, true);
    else this.stats.record(id, version, target, durationMs, outcome !== 'error' && outcome !== '5xx', false);
    if (ctx.shadowPlan?.capture && this.shadow) this.afterPrimary(ctx, entry, res, durationMs);
  }

  afterPrimary(ctx: Flight, entry: RouteEntry, res: ServerResponse, durationMs: number): void {
    const answer = ctx.answer;
    const bodies = capturedBodies(ctx);
    const exchange: PrimaryExchange = {
      requestId: ctx.requestId,
      routeId: entry.config.id,
      pattern: entry.pattern,
      method: ctx.req.method ?? 'GET',
      url: ctx.req.url ?? '/',
      requestHeaders: ctx.req.headers,
      requestBody: bodies.requestBody,
      target: answer ? answer.target : ctx.target,
      status: res.statusCode,
      responseHeaders: answer?.ok ? answer.headers : {},
      responseBody: answer?.ok ? bodies.responseBody : null,
      durationMs,
      error: answer && !answer.ok ? failureCode(answer) : undefined,
      copyTrace: ctx.trace ? ctx.trace.copies(entry.config.id) : untracedCopies(ctx),
    };
    const hand = () => {
      try {
        this.shadow!.afterPrimary(entry.config, entry.state, exchange);
      } catch (err) {
        // The hook promises never to throw; if it does, the client is already served.
        this.logger.error({ err, requestId: ctx.requestId }, 'shadow afterPrimary threw');
      }
    };
    if (ctx.copyAdmitted) void ctx.copyAdmitted.then((ok) => ok && hand());
    else hand();
  }
}

/** Where a matched request goes by its route's mode and weight (before rate limits and failover); unmatched → legacy. */
export function targetOf(entry: RouteEntry | undefined, req: IncomingMessage): Target {
  return entry ? chooseTarget(entry.config, entry.state, req).target : 'legacy';
}

function onResponseClose(this: TrackedResponse): void {
  const ctx = this[FLIGHT];
  if (ctx) ctx.pipeline.finish(ctx, this);
}
