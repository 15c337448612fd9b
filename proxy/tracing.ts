/**
 * Distributed context. Always on: every upstream request carries a W3C
 * `traceparent` continuing the caller's trace (proxy/context.ts), and the
 * caller's `tracestate` and `baggage` pass through untouched (they are
 * end-to-end fields), to legacy, the service and shadow copies alike; a shadow
 * copy carries a traceparent of its own in the same trace rather than the
 * client's.
 *
 * Optional: OpenTelemetry spans exported over OTLP/HTTP (`tracing.otlp`), see
 * proxy/otel-tracing.ts. Off by default; then the request path holds
 * `undefined` where the tracer would be, checks it at three places and loads
 * none of the OpenTelemetry packages.
 */
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { Tracing } from './trace-context.js';

/** Load the OpenTelemetry exporter when `tracing.otlp` is set; undefined (tracing off) otherwise. */
export async function createTracing(config: Readonly<Config>, logger: Logger): Promise<Tracing | undefined> {
  const t = config.tracing;
  if (!t.otlp) return undefined;
  const { OtelTracing } = await import('./otel-tracing.js');
  return new OtelTracing({ otlp: t.otlp, serviceName: t.serviceName, sampleRate: t.sampleRate }, logger);
}
