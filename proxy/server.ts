/**
 * The proxy: a node:http listener in front of the request path
 *
 *   admit (canonical request, framing rules) → context → match route
 *   → choose target → forward (→ failover) → respond
 *   → record metrics/stats → shadow (after the response finished)
 *
 * Each stage is a function of its own module; `Pipeline.handle` reads the
 * path top to bottom. The RouteTable is an immutable snapshot swapped on
 * reload: a request keeps the table it started with.
 */
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { Server as NetServer } from 'node:net';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import type { Config } from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import { parseHostPort, urlHost } from '../core/host-port.js';
import { createLogger, type Logger } from '../core/log.js';
import { isResendable } from '../core/resend.js';
import type { RouteState, Target } from '../core/types.js';
import type { PrimaryExchange, ShadowHook } from '../shadow/types.js';
import type { Store } from '../store/types.js';
import { chooseTarget } from './choose-target.js';
import { ClientSignal } from './client-signal.js';
import {
  awaitTurn,
  awaitUpgradeTurn,
  closeAfterThisAnswer,
  onClientError,
  turnOf,
} from './client-connection.js';
import { createContext, nextTraceparent, requestIdOf } from './context.js';
import { FAILOVER_HEADER, Failover, forwardWithFailover } from './failover.js';
import { capturedBodies, type ForwardOptions, forward, pipeToClient, respondError } from './forward.js';
import {
  admit,
  answerAsterisk,
  checkMethod,
  EdgeRefusal,
  refuseOnSocket,
  respondRefusal,
} from './edge-rules.js';
import { BadRequestHeaders, upstreamRequestHeaders } from './headers.js';
import { watchKeepAliveStalls } from './keepalive-stall.js';
import { type Outcome, ProxyMetrics, rescuedOutcome, statusOutcome, UNMATCHED } from './metrics.js';
import { isPointsUrl, PointEndpoints } from './points.js';
import {
  type Admission,
  createRateLimits,
  RATE_LIMITED_HEADER,
  type RateLimits,
  respondOverLimit,
} from './rate-limit.js';
import { Readiness, type ReadinessState, upstreamsInUse } from './readiness.js';
import type { LiveConfig } from '../store/live-config.js';
import { compileRouteTable, type RouteTable } from './route-table.js';
import { clientConnectionOptions, connectionCap, limitConnections } from './connection-limits.js';
import { BodyBudget, type IntakeOutcome, intakeBody, watchBody } from './request-body.js';
import { StatsRecorder } from './stats-recorder.js';
import { StoreFreshness } from './store-freshness.js';
import { type RequestTrace, type Tracing, untracedCopies } from './trace-context.js';
import { createTracing } from './tracing.js';
import type { FailoverResult, RequestContext, RouteEntry, UpstreamAttempt } from './types.js';
import { failureCode } from './upstream-errors.js';
import { Upstreams } from './upstreams.js';
import { createUpgradeProxy, isWebSocketUpgrade, serveAsPlainHttp, type UpgradeProxy } from './websocket.js';

export interface ProxyOptions {
  config: Readonly<Config>;
  store: Store;
  logger?: Logger;
  shadow?: ShadowHook;
  /** Names this proxy in stats windows; default HOST:PID. */
  instanceId?: string;
  /** Overrides config.listen; port 0 picks a free port. */
  listen?: { host: string; port: number };
  /** Bearer token of the extraction-point endpoints (proxy/points.ts); unset → they answer 403. */
  pointsToken?: string;
  /**
   * The store's route definitions and upstreams over `config`'s process
   * settings (store/live-config.ts), re-read on every table change: how
   * `serve` runs (issue 29). Without it the proxy serves `config`'s routes.
   */
  live?: LiveConfig;
}

export interface ProxyServer {
  url: string;
  port: number;
  /** The current snapshot. */
  routeTable(): RouteTable;
  /** Re-read route states from the store and swap the table (serialised). */
  reload(): Promise<void>;
  /** Prometheus text exposition. */
  metrics(): Promise<string>;
  metricsContentType: string;
  /** The proxy's own prom-client Registry (cluster workers hand it to AggregatorRegistry). */
  registry: Registry;
  /**
   * Live per-route facts of this data plane, for the admin API's /routes:
   * the mode and version this proxy is serving (shows whether a flip
   * arrived) and the failover breaker's state once it has one.
   */
  routeExtras(): Record<string, Record<string, string>>;
  /**
   * The route states this proxy serves now (its last good table): what the
   * admin API's /routes answers, marked stale, while the store is lost.
   */
  servedStates(): RouteState[];
  /** Whether this proxy should get traffic (admin GET /readyz): see proxy/readiness.ts. */
  readiness(): ReadinessState;
  /**
   * The first half of a graceful stop (SIGTERM): not ready from now on, and
   * every answer carries `Connection: close` so kept-alive clients move to a
   * new connection (elsewhere, once the load balancer saw /readyz fail).
   * Keeps serving; resolves after `delayMs`. close() does the rest.
   */
  drain(delayMs: number): Promise<void>;
  /** Graceful: stop accepting, finish in-flight requests (up to drain.timeout), close idle keep-alive sockets, then the pools. */
  close(): Promise<void>;
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

class Pipeline {
  table: RouteTable;
  /** Set by ProxyServer.drain(): every answer closes its connection. */
  draining = false;

  constructor(
    table: RouteTable,
    readonly upstreams: Upstreams,
    readonly metrics: ProxyMetrics,
    readonly stats: StatsRecorder,
    readonly logger: Logger,
    readonly shadow: ShadowHook | undefined,
    // The proxy's breakers (audited, on this proxy's metrics registry).
    readonly failover: Failover,
    readonly points: PointEndpoints,
    /** Undefined when no route has a rateLimit: the stage is skipped. */
    readonly limits: RateLimits | undefined,
    /** Undefined unless tracing.otlp is set. */
    readonly tracing: Tracing | undefined,
    readonly bodies: BodyBudget,
    /** The edge's limits and path rules (config.proxy). */
    readonly edge: Readonly<Config['proxy']>,
  ) {
    this.table = table;
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
          headersTimeoutMs: Math.min(route.failover.timeoutMs, service.headersTimeoutMs),
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

  /**
   * A WebSocket upgrade, admitted (canonical target) by the caller: the same
   * route match, target choice, request headers and metrics as a plain
   * request, then a tunnel. No failover: a tunnel cannot be replayed.
   */
  upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    authority: string | undefined,
    upgrades: UpgradeProxy,
  ): void {
    const startedAt = performance.now();
    const requestId = requestIdOf(req);
    const tp = req.headers.traceparent;
    const traceparent = nextTraceparent(typeof tp === 'string' ? tp : undefined);
    let headers: string[];
    try {
      headers = upstreamRequestHeaders(req, requestId, traceparent, authority);
    } catch (err) {
      refuseOnSocket(socket, new EdgeRefusal('STRANGLER_E_BAD_REQUEST', (err as Error).message));
      return;
    }
    const entry = this.match(req);
    const target = targetOf(entry, req);
    const upstream =
      target === 'service' && entry ? this.upstreams.service(entry.config.service) : this.upstreams.legacy;
    const routeId = entry ? entry.config.id : UNMATCHED;
    const extra = {
      'x-strangler-route': routeId,
      'x-strangler-target': target,
      'x-request-id': requestId,
      traceparent,
    };
    upgrades.upgrade(req, socket, head, upstream.pickOrigin(), headers, extra, (r) => {
      const outcome: Outcome = r.failed
        ? 'error'
        : r.status === undefined
          ? 'aborted'
          : statusOutcome(r.status);
      this.metrics.observe(routeId, target, outcome, (performance.now() - startedAt) / 1000);
    });
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
function targetOf(entry: RouteEntry | undefined, req: IncomingMessage): Target {
  return entry ? chooseTarget(entry.config, entry.state, req).target : 'legacy';
}

function onResponseClose(this: TrackedResponse): void {
  const ctx = this[FLIGHT];
  if (ctx) ctx.pipeline.finish(ctx, this);
}

function parseListen(
  config: Readonly<Config>,
  override?: { host: string; port: number },
): { host: string; port: number } {
  if (override) return override;
  return parseHostPort(config.listen, 'listen');
}

/**
 * Start a proxy. The caller seeds the store (store.routes.seed); the proxy
 * reads route states, compiles a RouteTable and follows the store's changes
 * (store.watch) so a flip from another process applies within one poll.
 */
export async function startProxy(opts: ProxyOptions): Promise<ProxyServer> {
  const { store, live } = opts;
  const config = live?.view ?? opts.config;
  const logger = opts.logger ?? createLogger('strangler-proxy');
  const instanceId = opts.instanceId ?? `${hostname()}:${process.pid}`;

  const readiness = new Readiness(config, logger);
  const initial = await loadInitialTable(config, store, readiness, logger, live);
  const upstreams = new Upstreams(config);
  const stallWatch = watchKeepAliveStalls(upstreams, store, logger);
  const metrics = new ProxyMetrics();
  const routeIds = config.routes.map((r) => r.id);
  metrics.initRoutes(routeIds);
  const lostEvidence = opts.shadow?.evidenceLost?.bind(opts.shadow);
  if (lostEvidence) metrics.countEvidenceLost(routeIds, lostEvidence);
  const stats = new StatsRecorder(store, instanceId, config.proxy.statsFlushMs);
  stats.start();
  // One Failover per proxy: its breakers outlive table reloads.
  const failover = new Failover({ audit: store.audit, log: logger, metrics: metrics.registry });
  failover.initRoutes(config.routes.filter((r) => r.failover.enabled).map((r) => r.id));
  // Shadow copies to the service probe its breaker (a route in shadow sends it no live traffic).
  opts.shadow?.observeService?.((route, ok) => failover.breakers.probe(route, ok));
  const bodies = new BodyBudget(config.proxy.maxBufferedBodyBytes);
  const points = new PointEndpoints({
    config,
    table: (): RouteTable => pipeline.table,
    upstreams,
    failover,
    metrics,
    stats,
    shadow: opts.shadow,
    logger,
    token: opts.pointsToken,
  });
  const limits = createRateLimits(config, metrics.registry, logger);
  const tracing = await createTracing(config, logger);
  const pipeline: Pipeline = new Pipeline(
    initial.table,
    upstreams,
    metrics,
    stats,
    logger,
    opts.shadow,
    failover,
    points,
    limits,
    tracing,
    bodies,
    config.proxy,
  );
  const upgrades: UpgradeProxy = createUpgradeProxy(logger);
  const follower = followRouteTable(config, store, pipeline, readiness, initial.storeAway, live);

  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    pipeline.handle(req, res).catch((err) => {
      logger.error({ err }, 'request pipeline failed');
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
  };
  // A connection's requests are served in turn, and none after an answer
  // that closed it (proxy/client-connection.ts).
  const server = createServer(clientConnectionOptions(config.proxy), (req, res) => {
    const turn = turnOf(req, res);
    if (turn === 'now') serve(req, res);
    else if (turn === 'later') awaitTurn(req, res, serve);
    else req.resume();
  });
  server.on('clientError', onClientError);
  limitConnections(server, connectionCap(config.proxy.maxConnections), metrics.registry, logger);
  const fresh = watchFreshConnections(server);
  serveUpgrades(server, pipeline, upgrades);

  const where = parseListen(config, opts.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(where.port, where.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'listener error'));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : where.port;
  const host = urlHost(where.host);

  const graceMs = parseDuration(config.drain.timeout);
  let closing: Promise<void> | undefined;
  logger.info({ url: `http://${host}:${port}`, routes: initial.table.entries.length }, 'proxy listening');
  return {
    url: `http://${host}:${port}`,
    port,
    routeTable: () => pipeline.table,
    readiness: () =>
      readiness.state(
        upstreamsInUse(
          pipeline.table.entries.map((e) => ({ service: e.config.service, mode: e.state.mode })),
        ),
      ),
    drain: (delayMs) => drain(pipeline, readiness, delayMs),
    reload: follower.reload,
    metrics: () => metrics.text(),
    metricsContentType: metrics.contentType,
    registry: metrics.registry,
    routeExtras: () => routeExtras(pipeline.table, failover),
    servedStates: () => pipeline.table.entries.map((e) => e.state),
    close: () => {
      closing ??= closeProxy(server, pipeline, readiness, follower, upgrades, stallWatch, graceMs, fresh);
      return closing;
    },
  };
}

/** The first table: the store's states, or the config's own modes while the store is away at start. */
async function loadInitialTable(
  config: Readonly<Config>,
  store: Store,
  readiness: Readiness,
  logger: Logger,
  live: LiveConfig | undefined,
): Promise<{ table: RouteTable; storeAway: boolean }> {
  try {
    const states = await store.routes.list();
    await live?.refresh(store, states);
    const table = compileRouteTable(config, states);
    readiness.markTableLoaded();
    return { table, storeAway: false };
  } catch (err) {
    // A store away at start still leaves the config's own modes to serve.
    if ((err as { code?: string }).code === 'STRANGLER_E_CONFIG') throw err;
    logger.warn({ err }, 'store unavailable at start: serving config modes until it answers');
    return { table: compileRouteTable(config, []), storeAway: true };
  }
}

/**
 * Follow the store's route states: on every change (store.watch) and on the
 * freshness timer, re-read them and swap the pipeline's table. Reloads are
 * serialised; a failed one keeps the last good table.
 */
function followRouteTable(
  config: Readonly<Config>,
  store: Store,
  pipeline: Pipeline,
  readiness: Readiness,
  storeAwayAtStart: boolean,
  live: LiveConfig | undefined,
): { reload(): Promise<void>; stop(): void } {
  const logger = pipeline.logger;
  const freshness = new StoreFreshness(
    store,
    pipeline.metrics.registry,
    logger,
    config.proxy.pollIntervalMs,
    () => void reload(),
  );
  if (storeAwayAtStart) freshness.markUnreachable();
  let reloading: Promise<void> = Promise.resolve();
  const reloadOnce = async () => {
    // A store that lost its state answers with nothing (or someone else's
    // state): keep serving the table we had, see StoreFreshness.
    if (freshness.lost() !== undefined) return;
    try {
      const states = await store.routes.list();
      // Checked here too, not only on the freshness timer, and after the read
      // so it vouches for what was read: a store re-seeded since (another
      // identity) must not hand us the config's modes, nor a Redis restored
      // from an older snapshot (a pub/sub reconnect reloads at once) its
      // older modes (store/generation.ts).
      const integrity = await store.integrity();
      if (integrity.state === 'lost') {
        freshness.noticeLost(integrity);
        return;
      }
      // Definitions first: an applied match, service or upstream URL takes
      // effect with the same swap as the states (issue 29).
      if (live && (await live.refresh(store, states)).upstreamsChanged) pipeline.upstreams.replace(config);
      // A store that lost routes (a Redis restarted without persistence) must
      // not silently send a migrated route back to its config mode: keep the
      // last state this proxy served for any route the store no longer has.
      // Where the store holds the definitions, a route it no longer has was
      // removed by an audited apply: it goes.
      const have = new Set(states.map((st) => st.id));
      const kept = live?.storeDecides()
        ? []
        : pipeline.table.entries.filter((e) => !have.has(e.config.id) && e.state.version > 0);
      if (kept.length)
        logger.warn(
          { routes: kept.map((e) => e.config.id) },
          'store has no state for these routes: keeping the last state served',
        );
      pipeline.table = compileRouteTable(config, [...states, ...kept.map((e) => e.state)]);
      pipeline.points.tableSwapped();
      freshness.confirmed();
      readiness.markTableLoaded();
    } catch (err) {
      logger.error({ err }, 'route table reload failed: keeping the last good table');
    }
  };
  const reload = () => {
    reloading = reloading.then(reloadOnce);
    return reloading;
  };
  const stopWatching = store.watch(() => void reload(), config.proxy.pollIntervalMs);
  return {
    reload,
    stop() {
      stopWatching();
      freshness.stop();
    },
  };
}

/** CONNECT is refused; a WebSocket upgrade is admitted like a request and tunnelled; any other upgrade is plain HTTP. */
function serveUpgrades(server: Server, pipeline: Pipeline, upgrades: UpgradeProxy): void {
  const logger = pipeline.logger;
  // CONNECT asks for a tunnel to anywhere: not this proxy's job (RFC 9110 §9.3.6).
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    refuseOnSocket(socket, new EdgeRefusal('STRANGLER_E_METHOD_NOT_ALLOWED', 'CONNECT is not supported'));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    awaitUpgradeTurn(socket, () => upgrade(req, socket, head)),
  );
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // h2c, TLS upgrades, bodies with Upgrade: served as ordinary HTTP/1.1 (websocket.ts).
    if (!isWebSocketUpgrade(req)) {
      serveAsPlainHttp(server, req, socket, head);
      return;
    }
    const admission = admit(req, pipeline.edge.paths);
    if (admission.kind !== 'forward') {
      refuseOnSocket(
        socket,
        admission.kind === 'refuse'
          ? admission.refusal
          : new EdgeRefusal('STRANGLER_E_BAD_REQUEST', 'upgrade of "*"'),
      );
      return;
    }
    // The points' reserved prefix is the proxy's own on an upgrade too: never
    // tunnelled to legacy (with the points token in its Authorization).
    if (isPointsUrl(req.url)) {
      refuseOnSocket(
        socket,
        new EdgeRefusal('STRANGLER_E_BAD_REQUEST', 'extraction-point endpoints do not upgrade'),
      );
      return;
    }
    try {
      pipeline.upgrade(req, socket, head, admission.authority, upgrades);
    } catch (err) {
      logger.error({ err }, 'upgrade failed');
      socket.destroy();
    }
  };
}

/** How long a connection that sent nothing yet may still be sending its first request. */
const FRESH_CONNECTION_MS = 1000;

interface FreshConnections {
  /** True once no connection accepted in the last FRESH_CONNECTION_MS is still without its first request. */
  settled(): boolean;
}

/**
 * Connections accepted that have not carried a request yet. Closing one as
 * idle while its client's first request is on the way resets that request,
 * and the client cannot know whether it ran; a stopping proxy waits (bounded)
 * until each has sent its request or stayed silent a while (issue 25).
 */
function watchFreshConnections(server: Server): FreshConnections {
  const fresh = new Map<Duplex, number>();
  server.on('connection', (socket: Duplex) => {
    fresh.set(socket, Date.now());
    socket.once('close', () => fresh.delete(socket));
  });
  server.on('request', (req: IncomingMessage) => fresh.delete(req.socket));
  return {
    settled: () => {
      const now = Date.now();
      for (const [socket, at] of fresh) if (!socket.destroyed && now - at < FRESH_CONNECTION_MS) return false;
      return true;
    },
  };
}

/** ProxyServer.drain: not ready, every answer closes its connection; resolves after delayMs. */
function drain(pipeline: Pipeline, readiness: Readiness, delayMs: number): Promise<void> {
  readiness.markDraining();
  pipeline.draining = true;
  pipeline.logger.info({ delayMs }, 'draining: not ready, answering with Connection: close');
  return new Promise<void>((resolve) => setTimeout(resolve, delayMs));
}

/** ProxyServer.close: stop accepting, let in-flight requests finish (up to graceMs), then every part in order. */
async function closeProxy(
  server: Server,
  pipeline: Pipeline,
  readiness: Readiness,
  follower: { stop(): void },
  upgrades: UpgradeProxy,
  stallWatch: { stop(): void },
  graceMs: number,
  fresh: FreshConnections,
): Promise<void> {
  readiness.markDraining();
  readiness.close();
  pipeline.draining = true;
  follower.stop();
  // Upgraded sockets still count as the listener's connections: a tunnel
  // has no request boundary to finish at, so it is closed now.
  upgrades.close();
  // Held mode polls of extraction points would keep the drain waiting: answer them now.
  pipeline.points.close();
  const started = Date.now();
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  // Stop accepting, but keep the open connections for now: http's close()
  // would also close the idle ones at once, and a point client may be sending
  // its next call on one of them; that call would meet a reset and could not
  // know whether it ran (issue 25). Once no such connection may be reused:
  NetServer.prototype.close.call(server);
  // A connection accepted just before that may have its first request on the way.
  const until = started + graceMs;
  while (!(fresh.settled() && pipeline.points.settled()) && Date.now() < until)
    await new Promise((r) => setTimeout(r, 25));
  // Keep-alive sockets become idle as their in-flight requests finish;
  // close them as they do, and give up on stragglers after the grace.
  const sweep = setInterval(() => {
    server.closeIdleConnections();
    if (Date.now() - started > graceMs) server.closeAllConnections();
  }, 50);
  server.closeIdleConnections();
  await closed;
  clearInterval(sweep);
  // Now http's own close(): nothing is left to close, but it also stops the
  // server's connection-checking timer, which the net-level close above skipped.
  server.close();
  // Again: a kept-alive connection may have upgraded during the drain.
  upgrades.close();
  pipeline.failover.close();
  await pipeline.limits?.close();
  await pipeline.tracing?.close();
  stallWatch.stop();
  await pipeline.stats.close().catch((err) => pipeline.logger.warn({ err }, 'final stats flush failed'));
  await pipeline.upstreams.close();
}

/** ProxyServer.routeExtras: per route, the mode/weight/version served and the breaker's state once it has one. */
function routeExtras(table: RouteTable, failover: Failover): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  const breakers = failover.breakers.states();
  for (const e of table.entries) {
    out[e.config.id] = {
      servedMode: e.state.mode,
      servedWeight: String(e.state.weight),
      servedVersion: String(e.state.version),
      ...(breakers[e.config.id] ? { breaker: breakers[e.config.id] } : {}),
    };
  }
  return out;
}
