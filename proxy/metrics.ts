/**
 * Prometheus metrics of the data plane, on a Registry of the proxy's own (two
 * proxies in one process, as in tests, never share counters). Labels are
 * bounded: route ids from the config (or "(unmatched)"), two targets, and an
 * outcome that is a status class or one of a few named failures.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import type { Target } from '../core/types.js';

/** Label for requests no route matched (served by legacy). */
export const UNMATCHED = '(unmatched)';

/** '2xx'..'5xx' for answered requests; 'error' when the proxy answered for a failed upstream; 'aborted' when the client left. */
export type Outcome = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'error' | 'aborted';

const STATUS_CLASS: Outcome[] = ['1xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

export function statusOutcome(status: number): Outcome {
  return STATUS_CLASS[Math.min(5, Math.max(1, Math.floor(status / 100)))];
}

interface Series {
  count: ReturnType<Counter<'route' | 'target' | 'outcome'>['labels']>;
  duration: ReturnType<Histogram<'route' | 'target' | 'outcome'>['labels']>;
}

export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'target' | 'outcome'>;
  private readonly duration: Histogram<'route' | 'target' | 'outcome'>;
  // Labelled children cached by key: prom-client hashes label objects on
  // every inc()/observe(), which is measurable on the hot path.
  private readonly series = new Map<string, Series>();

  constructor() {
    this.requests = new Counter({
      name: 'strangler_requests_total',
      help: 'Requests answered by the proxy, by route, target and outcome.',
      labelNames: ['route', 'target', 'outcome'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'strangler_request_duration_seconds',
      help: 'Time from request arrival to the end of the response, by route, target and outcome.',
      labelNames: ['route', 'target', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
  }

  observe(route: string, target: Target, outcome: Outcome, seconds: number): void {
    const key = `${route}\0${target}\0${outcome}`;
    let s = this.series.get(key);
    if (!s) {
      s = {
        count: this.requests.labels(route, target, outcome),
        duration: this.duration.labels(route, target, outcome),
      };
      this.series.set(key, s);
    }
    s.count.inc();
    s.duration.observe(seconds);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
