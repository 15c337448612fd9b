/**
 * OpenTelemetry spans for the proxy, exported over OTLP/HTTP (JSON) with the
 * official packages. Loaded only when `tracing.otlp` is set (proxy/tracing.ts).
 *
 * One trace per request:
 *   request span (SERVER, parent: the caller's traceparent)
 *   ├─ attempt span (CLIENT) per upstream attempt: the service, then — when
 *   │  it failed and resending was safe — a second one, `failover legacy`,
 *   │  carrying the reason; each upstream sees its own attempt as parent
 *   └─ (after the answer) a shadow copy is its own trace, linked to the
 *      request span: it runs after the client was served and must neither
 *      stretch nor fail the primary's trace.
 *
 * No context manager and no global registration: spans are parented
 * explicitly, so nothing is added to other code's async hops.
 */
import {
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type SpanContext,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../core/log.js';
import type { Target } from '../core/types.js';
import type { CopyTrace } from '../shadow/types.js';
import {
  type RequestFacts,
  type RequestTrace,
  setUpstreamTraceparent,
  type Tracing,
} from './trace-context.js';
import type { RequestContext, UpstreamAttempt } from './types.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The caller's span as a remote parent, when its traceparent is valid (W3C trace-context §3.2). */
function remoteParent(header: string | string[] | undefined): SpanContext | undefined {
  if (typeof header !== 'string') return undefined;
  const m = TRACEPARENT.exec(header.trim().toLowerCase());
  if (!m) return undefined;
  const sc: SpanContext = {
    traceId: m[1],
    spanId: m[2],
    traceFlags: Number.parseInt(m[3], 16) & 1,
    isRemote: true,
  };
  return trace.isSpanContextValid(sc) ? sc : undefined;
}

/**
 * Epoch milliseconds with sub-millisecond precision for span times. Left to
 * itself the SDK starts each span at Date.now() (whole milliseconds) and adds
 * a precise duration, so a child could end after its parent by up to 1 ms;
 * one monotonic clock for every start and end keeps children inside parents.
 */
const nowMs = () => performance.timeOrigin + performance.now();

export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & 1}`;
}

export class OtelTracing implements Tracing {
  private readonly provider: BasicTracerProvider;
  readonly tracer: Tracer;

  constructor(
    opts: { otlp: string; serviceName: string; sampleRate: number },
    private readonly logger: Pick<Logger, 'warn'>,
  ) {
    const exporter = new OTLPTraceExporter({ url: new URL('/v1/traces', opts.otlp).href });
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': opts.serviceName }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(opts.sampleRate) }),
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
    });
    this.tracer = this.provider.getTracer('strangler');
  }

  startRequest(ctx: RequestContext): RequestTrace {
    const req = ctx.req;
    const parent = remoteParent(req.headers.traceparent);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const span = this.tracer.startSpan(
      `${req.method ?? 'GET'}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': req.method ?? 'GET',
          'url.path': q < 0 ? url : url.slice(0, q),
          'strangler.request_id': ctx.requestId,
        },
        startTime: performance.timeOrigin + ctx.startedAt,
      },
      parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT,
    );
    // The client gets our request span as its traceparent; upstreams get their attempt's.
    const tp = formatTraceparent(span.spanContext());
    (ctx as { traceparent: string }).traceparent = tp;
    setUpstreamTraceparent(ctx, tp);
    return new OtelRequestTrace(this.tracer, span, ctx);
  }

  async close(): Promise<void> {
    try {
      await this.provider.shutdown();
    } catch (err) {
      this.logger.warn({ err }, 'tracing: final span export failed');
    }
  }
}

class OtelRequestTrace implements RequestTrace {
  /** The attempt whose answer is being sent: ended with the request. */
  private open: Span | undefined = undefined;
  private attempts = 0;

  constructor(
    private readonly tracer: Tracer,
    private readonly span: Span,
    private readonly ctx: RequestContext,
  ) {}

  async attempt(
    target: Target,
    failover: boolean,
    run: () => Promise<UpstreamAttempt>,
  ): Promise<UpstreamAttempt> {
    // A service 5xx that failover discards is over once the next attempt starts.
    this.open?.end(nowMs());
    this.open = undefined;
    const route = this.ctx.route;
    const span = this.tracer.startSpan(
      `${failover ? 'failover' : 'attempt'} ${target}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'strangler.target': target,
          'strangler.attempt': ++this.attempts,
          ...(route ? { 'strangler.route': route.config.id, 'strangler.mode': route.state.mode } : {}),
          ...(failover ? { 'strangler.failover': true } : {}),
        },
        startTime: nowMs(),
      },
      trace.setSpan(ROOT_CONTEXT, this.span),
    );
    setUpstreamTraceparent(this.ctx, formatTraceparent(span.spanContext()));
    const a = await run();
    span.setAttribute('server.address', a.origin);
    if (a.ok) {
      span.setAttribute('http.response.status_code', a.statusCode);
      if (a.statusCode >= 500)
        span.setStatus({ code: SpanStatusCode.ERROR, message: `status ${a.statusCode}` });
      this.open = span;
    } else {
      span.setAttributes({ 'strangler.outcome': a.kind, 'error.type': a.kind });
      span.setStatus({ code: SpanStatusCode.ERROR, message: a.error.message });
      span.end(nowMs());
    }
    return a;
  }

  end(f: RequestFacts): void {
    const reason = f.answer?.failoverReason;
    const at = nowMs();
    if (this.open) {
      if (reason) this.open.setAttribute('strangler.failover.reason', reason);
      this.open.end(at);
      this.open = undefined;
    }
    const span = this.span;
    span.updateName(`${this.ctx.req.method ?? 'GET'} ${this.ctx.route?.pattern ?? '(unmatched)'}`);
    span.setAttributes({
      'strangler.route': f.route ?? '(unmatched)',
      'strangler.target': f.target,
      'strangler.outcome': f.outcome,
      'http.response.status_code': f.status,
      ...(f.mode ? { 'strangler.mode': f.mode } : {}),
      ...(reason ? { 'strangler.failover.reason': reason } : {}),
      ...(f.rateLimited ? { 'strangler.rate_limited': f.rateLimited } : {}),
    });
    if (reason) span.addEvent('failover', { 'strangler.failover.reason': reason }, at);
    if (f.outcome === 'error' || f.outcome === '5xx') span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(at);
  }

  copies(routeId: string): CopyTrace {
    const link = { context: this.span.spanContext() };
    return {
      start: (side) => {
        const span = this.tracer.startSpan(`shadow ${side}`, {
          kind: SpanKind.CLIENT,
          root: true,
          links: [link],
          attributes: { 'strangler.route': routeId, 'strangler.target': side, 'strangler.shadow': true },
          startTime: nowMs(),
        });
        return {
          traceparent: formatTraceparent(span.spanContext()),
          end: (outcome) => {
            if (outcome.status !== undefined) span.setAttribute('http.response.status_code', outcome.status);
            if (outcome.error) {
              span.setAttributes({ 'strangler.outcome': outcome.error, 'error.type': outcome.error });
              span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error });
            }
            span.end(nowMs());
          },
        };
      },
    };
  }
}
