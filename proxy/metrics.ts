/**
 * Prometheus metrics of the data plane, on a Registry of the proxy's own (two
 * proxies in one process, as in tests, never share counters). Labels are
 * bounded: route ids from the config (or "(unmatched)"), two targets, and an
 * outcome that is a status class or one of a few named failures.
 *
 * The per-request counter and histogram are kept here as plain numbers and
 * handed to prom-client's Registry as metric objects with a `get()` in the
 * shape prom-client's own Counter and Histogram return (same text, same
 * cluster aggregation). Why not prom-client's Counter and Histogram:
 * `observe()` on a labelled child still builds and hashes a label object per
 * call, about 2 µs per request in bench/proxy.ts runs; this costs a few
 * additions.
 */
import { type Metric, Registry } from 'prom-client';
import type { Target } from '../core/types.js';
import type { FailoverReason } from './types.js';
import type { ServiceFailureOutcome } from '../core/outcomes.js';

/** Label for requests no route matched (served by legacy). */
export const UNMATCHED = '(unmatched)';

/**
 * '2xx'..'5xx' for answered requests; 'error' when the proxy answered for a
 * failed upstream; 'aborted' when the client left. A service attempt that
 * legacy rescued (failover) is counted on target service as well, by what went
 * wrong: 'refused', 'reset', 'timeout', 'error', '5xx', or 'breaker-open'
 * (not tried: its breaker was open) — so "errors per target" shows an outage
 * that failover hides from the client (issue 26).
 */
export type Outcome = '1xx' | '2xx' | '3xx' | '4xx' | 'aborted' | ServiceFailureOutcome;

/** The service's outcome for an attempt legacy answered instead. */
export function rescuedOutcome(reason: FailoverReason): Outcome {
  return reason === 'status-5xx' ? '5xx' : reason;
}

/**
 * The series each known route starts with at 0 (Prometheus: initialise known
 * label sets, so a panel shows 0 rather than "No data" before the first
 * failure). Only counters are zeroed: an empty histogram adds 16 lines and no answer.
 */
const ZEROED: ReadonlyArray<[Target, Outcome]> = [
  ['legacy', '2xx'],
  ['legacy', '5xx'],
  ['legacy', 'error'],
  ['service', '2xx'],
  ['service', '5xx'],
  ['service', 'error'],
];

const STATUS_CLASS: Outcome[] = ['1xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

export function statusOutcome(status: number): Outcome {
  return STATUS_CLASS[Math.min(5, Math.max(1, Math.floor(status / 100)))];
}

const REQUESTS = 'strangler_requests_total';
const DURATION = 'strangler_request_duration_seconds';
const EVIDENCE_LOST = 'strangler_shadow_evidence_lost_total';
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Series {
  route: string;
  target: Target;
  outcome: Outcome;
  labels: { route: string; target: Target; outcome: Outcome };
  count: number;
  sum: number;
  /** Observations per bucket (not cumulative); the last slot is above the largest bound. */
  buckets: Float64Array;
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** What prom-client's Registry needs of a metric: name, help, type, aggregator, get(), reset(). */
interface RegistryMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: 'sum' }>;
  reset(): void;
}

export class ProxyMetrics {
  readonly registry = new Registry();
  // Series by key; `last` short-cuts the common case of the same series as the previous request.
  private series = new Map<string, Series>();
  private last: Series | undefined;

  constructor() {
    const values = (fn: (s: Series, out: MetricValue[]) => void) => {
      const out: MetricValue[] = [];
      for (const s of this.series.values()) fn(s, out);
      return out;
    };
    const reset = () => {
      this.series = new Map();
      this.last = undefined;
    };
    const requests: RegistryMetric = {
      name: REQUESTS,
      help: 'Requests answered by the proxy, by route, target and outcome.',
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({
        name: REQUESTS,
        help: requests.help,
        type: 'counter',
        aggregator: 'sum',
        values: values((s, out) => out.push({ labels: { ...s.labels }, value: s.count })),
      }),
      reset,
    };
    const duration: RegistryMetric = {
      name: DURATION,
      help: 'Time from request arrival to the end of the response, by route, target and outcome.',
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({
        name: DURATION,
        help: duration.help,
        type: 'histogram',
        aggregator: 'sum',
        values: values((s, out) => {
          if (s.count === 0) return;
          let acc = 0;
          for (let i = 0; i < BUCKETS.length; i++) {
            acc += s.buckets[i];
            out.push({
              labels: { le: BUCKETS[i], ...s.labels },
              value: acc,
              metricName: `${DURATION}_bucket`,
            });
          }
          out.push(
            { labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: `${DURATION}_bucket` },
            { labels: { ...s.labels }, value: s.sum, metricName: `${DURATION}_sum` },
            { labels: { ...s.labels }, value: s.count, metricName: `${DURATION}_count` },
          );
        }),
      }),
      reset,
    };
    this.registry.registerMetric(requests as unknown as Metric);
    this.registry.registerMetric(duration as unknown as Metric);
  }

  /**
   * `strangler_shadow_evidence_lost_total{route}`, read from the shadow hook at
   * scrape time: exchanges whose evidence the store refused (a full disk).
   */
  countEvidenceLost(routeIds: readonly string[], read: () => Record<string, number>): void {
    const metric: RegistryMetric = {
      name: EVIDENCE_LOST,
      help: 'Shadowed exchanges whose evidence the store could not write (shown as skipped "store-write-failed" once it can).',
      type: 'counter',
      aggregator: 'sum',
      get: async () => {
        const lost = { ...Object.fromEntries(routeIds.map((id) => [id, 0])), ...read() };
        return {
          name: EVIDENCE_LOST,
          help: metric.help,
          type: 'counter',
          aggregator: 'sum',
          values: Object.entries(lost).map(([route, value]) => ({ labels: { route }, value })),
        };
      },
      reset: () => {},
    };
    this.registry.registerMetric(metric as unknown as Metric);
  }

  /** Zeroed request counters for the routes the proxy knows (and unmatched traffic), before any request. */
  initRoutes(routeIds: readonly string[]): void {
    for (const [target, outcome] of ZEROED)
      if (target === 'legacy') this.seriesOf(UNMATCHED, target, outcome);
    for (const id of routeIds) for (const [target, outcome] of ZEROED) this.seriesOf(id, target, outcome);
  }

  observe(route: string, target: Target, outcome: Outcome, seconds: number): void {
    let s = this.last;
    if (!s || s.route !== route || s.target !== target || s.outcome !== outcome) {
      s = this.seriesOf(route, target, outcome);
      this.last = s;
    }
    if (!Number.isFinite(seconds)) return;
    s.count++;
    s.sum += seconds;
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]) i++;
    s.buckets[i]++;
  }

  private seriesOf(route: string, target: Target, outcome: Outcome): Series {
    const key = `${route}\0${target}\0${outcome}`;
    let s = this.series.get(key);
    if (!s) {
      s = {
        route,
        target,
        outcome,
        labels: { route, target, outcome },
        count: 0,
        sum: 0,
        buckets: new Float64Array(BUCKETS.length + 1),
      };
      this.series.set(key, s);
    }
    return s;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
