/**
 * `strangler export grafana`: a Grafana dashboard (JSON model, schemaVersion
 * 39) over the metrics a proxy's admin /metrics exports: routes by mode,
 * requests and errors per target, latency per target, shadow match rate and
 * paired latency, failovers by reason, breaker state, rate limits; the
 * service's own failures behind failover, flips and rollbacks, rollout steps,
 * lost shadow evidence (issue 26); and annotations for flips and rollbacks.
 *
 * Every expression names only metrics the proxy exports (test/metrics/
 * grafana-export.test.ts checks each against a real scrape). Store-derived
 * gauges (strangler_route_*, strangler_shadow_*) are the same on every
 * instance, so they are combined with max, never sum (control/store-metrics.ts).
 */
import { SERVICE_FAILURE_OUTCOMES } from '../core/outcomes.js';

export interface GrafanaOptions {
  title?: string;
  uid?: string;
}

interface Target {
  expr: string;
  legendFormat: string;
}

interface PanelSpec {
  title: string;
  description: string;
  type: 'timeseries' | 'stat' | 'state-timeline' | 'bargauge';
  unit: string;
  targets: Target[];
  w: number;
  h: number;
  min?: number;
  max?: number;
  /** Value → text for state panels (breaker state). */
  mappings?: Array<{ value: string; text: string; color: string }>;
}

const ROUTE = 'route=~"$route"';
/** The outcomes that mean the service failed, as the proxy counts them. */
const FAILED = SERVICE_FAILURE_OUTCOMES.join('|');
const RATE = '$__rate_interval';

/** The panels, in reading order. Exported so the test can read every expression. */
export const PANELS: readonly PanelSpec[] = [
  {
    title: 'Routes by mode',
    description: 'How many routes are in each mode (from the store).',
    type: 'stat',
    unit: 'short',
    w: 8,
    h: 5,
    targets: [
      { expr: 'sum by (mode) (max by (route, mode) (strangler_route_mode))', legendFormat: '{{mode}}' },
    ],
  },
  {
    title: 'Service weight',
    description: "Share of each route's traffic sent to its service (canary weight; 100% in service mode).",
    type: 'timeseries',
    unit: 'percentunit',
    min: 0,
    max: 1,
    w: 8,
    h: 5,
    targets: [
      { expr: `max by (route) (strangler_route_service_weight_ratio{${ROUTE}})`, legendFormat: '{{route}}' },
    ],
  },
  {
    title: 'Unmatched traffic share',
    description: 'Requests no route matched (served by legacy), as a share of all requests.',
    type: 'stat',
    unit: 'percentunit',
    w: 8,
    h: 5,
    targets: [
      {
        expr: `sum(rate(strangler_requests_total{route="(unmatched)"}[${RATE}])) / sum(rate(strangler_requests_total[${RATE}]))`,
        legendFormat: 'unmatched',
      },
    ],
  },
  {
    title: 'Requests per target',
    description: 'Requests answered per route and target (legacy or service).',
    type: 'timeseries',
    unit: 'reqps',
    w: 12,
    h: 8,
    targets: [
      {
        expr: `sum by (route, target) (rate(strangler_requests_total{${ROUTE}}[${RATE}]))`,
        legendFormat: '{{route}} {{target}}',
      },
    ],
  },
  {
    title: 'Errors per target',
    description:
      "5xx answers and upstream failures per route and target; the service's failures count even when legacy rescued the request (failover).",
    type: 'timeseries',
    unit: 'reqps',
    w: 12,
    h: 8,
    targets: [
      {
        expr: `sum by (route, target) (rate(strangler_requests_total{${ROUTE},outcome=~"${FAILED}"}[${RATE}]))`,
        legendFormat: '{{route}} {{target}}',
      },
    ],
  },
  {
    title: 'Service failures by kind',
    description:
      'What went wrong with the service, per route: refused, reset, timeout, error, 5xx, or not tried because its breaker was open. Legacy may have answered the client instead.',
    type: 'timeseries',
    unit: 'reqps',
    w: 12,
    h: 8,
    targets: [
      {
        expr: `sum by (route, outcome) (rate(strangler_requests_total{${ROUTE},target="service",outcome=~"${FAILED}"}[${RATE}]))`,
        legendFormat: '{{route}} {{outcome}}',
      },
    ],
  },
  {
    title: 'Flips and rollbacks',
    description:
      'Audited changes of each route per interval, by action: flip, guard.rollback, canary.start/step/rollback/done/halt/abort (from the store: any writer, the CLI too).',
    type: 'timeseries',
    unit: 'short',
    w: 12,
    h: 8,
    targets: [
      {
        expr: `max by (route, action) (changes(strangler_route_last_change_timestamp_seconds{${ROUTE}}[${RATE}]))`,
        legendFormat: '{{route}} {{action}}',
      },
    ],
  },
  {
    title: 'Rollout step',
    description:
      'The step a running or paused rollout has applied (0: none), and seconds until it judges the next.',
    type: 'timeseries',
    unit: 'short',
    w: 12,
    h: 8,
    targets: [
      { expr: `max by (route) (strangler_rollout_step{${ROUTE}})`, legendFormat: '{{route}} step' },
      {
        expr: `max by (route) (strangler_rollout_next_step_seconds{${ROUTE}})`,
        legendFormat: '{{route}} seconds to next step',
      },
    ],
  },
  {
    title: 'Latency per target (p50, p99)',
    description: 'Live request latency per route and target, from the proxy histogram.',
    type: 'timeseries',
    unit: 's',
    w: 12,
    h: 8,
    targets: [
      {
        expr: `histogram_quantile(0.5, sum by (le, route, target) (rate(strangler_request_duration_seconds_bucket{${ROUTE}}[${RATE}])))`,
        legendFormat: '{{route}} {{target}} p50',
      },
      {
        expr: `histogram_quantile(0.99, sum by (le, route, target) (rate(strangler_request_duration_seconds_bucket{${ROUTE}}[${RATE}])))`,
        legendFormat: '{{route}} {{target}} p99',
      },
    ],
  },
  {
    title: 'Shadow paired latency (p50, p99)',
    description: 'Latency of the same requests answered by legacy and by the service (shadow pairs).',
    type: 'timeseries',
    unit: 's',
    w: 12,
    h: 8,
    targets: [
      {
        expr: `max by (route, target) (strangler_shadow_paired_latency_p50_seconds{${ROUTE}})`,
        legendFormat: '{{route}} {{target}} p50',
      },
      {
        expr: `max by (route, target) (strangler_shadow_paired_latency_p99_seconds{${ROUTE}})`,
        legendFormat: '{{route}} {{target}} p99',
      },
    ],
  },
  {
    title: 'Shadow match rate after noise',
    description:
      'Share of compared shadow pairs that matched once learned noise and configured ignores are set aside.',
    type: 'timeseries',
    unit: 'percentunit',
    min: 0,
    max: 1,
    w: 12,
    h: 8,
    targets: [{ expr: `max by (route) (strangler_shadow_match_ratio{${ROUTE}})`, legendFormat: '{{route}}' }],
  },
  {
    title: 'Shadow comparisons',
    description: 'Shadow pairs compared per second, and copies skipped by reason.',
    type: 'timeseries',
    unit: 'reqps',
    w: 12,
    h: 8,
    targets: [
      {
        expr: `max by (route) (rate(strangler_shadow_compared_total{${ROUTE}}[${RATE}]))`,
        legendFormat: '{{route}} compared',
      },
      {
        expr: `max by (route, reason) (rate(strangler_shadow_skipped_total{${ROUTE}}[${RATE}]))`,
        legendFormat: '{{route}} skipped: {{reason}}',
      },
      {
        expr: `sum by (route) (rate(strangler_shadow_evidence_lost_total{${ROUTE}}[${RATE}]))`,
        legendFormat: '{{route}} lost: store could not write',
      },
    ],
  },
  {
    title: 'Failovers by reason',
    description:
      'Service requests answered by legacy instead, by reason; and failed requests not resent (they may have run, or their body was too large to keep).',
    type: 'timeseries',
    unit: 'reqps',
    w: 12,
    h: 8,
    targets: [
      {
        expr: `sum by (route, reason) (rate(strangler_failovers_total{${ROUTE}}[${RATE}]))`,
        legendFormat: '{{route}} {{reason}}',
      },
      {
        expr: `sum by (route) (rate(strangler_unsafe_rejected_total{${ROUTE}}[${RATE}]))`,
        legendFormat: '{{route}} not resent (may have run)',
      },
      {
        expr: `sum by (route) (rate(strangler_body_too_large_rejected_total{${ROUTE}}[${RATE}]))`,
        legendFormat: '{{route}} not resent (body too large)',
      },
    ],
  },
  {
    title: 'Breaker state',
    description: 'Failover breaker per route: 0 closed, 1 half-open, 2 open (worst instance).',
    type: 'state-timeline',
    unit: 'none',
    w: 12,
    h: 8,
    targets: [{ expr: `max by (route) (strangler_breaker_state{${ROUTE}})`, legendFormat: '{{route}}' }],
    mappings: [
      { value: '0', text: 'closed', color: 'green' },
      { value: '1', text: 'half-open', color: 'orange' },
      { value: '2', text: 'open', color: 'red' },
    ],
  },
  {
    title: 'Rate limited',
    description: 'Requests the rate limiter acted on, per route, target and action.',
    type: 'timeseries',
    unit: 'reqps',
    w: 12,
    h: 8,
    targets: [
      {
        expr: `sum by (route, target, action) (rate(strangler_rate_limited_total{${ROUTE}}[${RATE}]))`,
        legendFormat: '{{route}} {{target}} {{action}}',
      },
    ],
  },
  {
    title: 'Store staleness',
    description: 'Seconds since the store last answered a proxy; the route table served is at most this old.',
    type: 'timeseries',
    unit: 's',
    w: 12,
    h: 8,
    targets: [{ expr: 'max(strangler_store_stale_seconds)', legendFormat: 'worst instance' }],
  },
];

/**
 * Annotations drawn on every panel: each audited change at the time it was
 * made (the metric's value is the change's Unix time; Grafana's "use series
 * value as timestamp"), flips and rollout steps in blue, rollbacks in red.
 */
export const ANNOTATIONS: ReadonlyArray<{ name: string; expr: string; color: string }> = [
  {
    name: 'Flips',
    expr: 'max by (route, action) (strangler_route_last_change_timestamp_seconds{action=~"flip|canary.start|canary.step|canary.done"}) * 1000',
    color: 'blue',
  },
  {
    name: 'Rollbacks',
    expr: 'max by (route, action) (strangler_route_last_change_timestamp_seconds{action=~"guard.rollback|canary.rollback|canary.halt|canary.abort"}) * 1000',
    color: 'red',
  },
];

/** The route variable's query: its metric is checked like the panels'. */
export const ROUTE_VARIABLE_QUERY = 'label_values(strangler_requests_total, route)';

export function exportGrafana(opts: GrafanaOptions = {}): string {
  // Grafana's own variable syntax, resolved by Grafana when the dashboard is imported.
  const ds = { type: 'prometheus', uid: '$' + '{datasource}' };
  let x = 0;
  let y = 0;
  let rowH = 0;
  const panels = PANELS.map((p, i) => {
    if (x + p.w > 24) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    const gridPos = { x, y, w: p.w, h: p.h };
    x += p.w;
    rowH = Math.max(rowH, p.h);
    return {
      id: i + 1,
      type: p.type,
      title: p.title,
      description: p.description,
      datasource: ds,
      gridPos,
      fieldConfig: {
        defaults: {
          unit: p.unit,
          ...(p.min !== undefined ? { min: p.min } : {}),
          ...(p.max !== undefined ? { max: p.max } : {}),
          ...(p.mappings
            ? {
                mappings: [
                  {
                    type: 'value',
                    options: Object.fromEntries(
                      p.mappings.map((m, idx) => [m.value, { text: m.text, color: m.color, index: idx }]),
                    ),
                  },
                ],
              }
            : {}),
        },
        overrides: [],
      },
      options:
        p.type === 'timeseries'
          ? { legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] } }
          : {},
      targets: p.targets.map((t, j) => ({
        datasource: ds,
        refId: String.fromCharCode(65 + j),
        expr: t.expr,
        legendFormat: t.legendFormat,
      })),
    };
  });
  const dashboard = {
    uid: opts.uid ?? 'strangler',
    title: opts.title ?? 'strangler: migration',
    description:
      'Routes, traffic per target, shadow evidence, failovers and breakers of strangler proxies (generated by `strangler export grafana`).',
    tags: ['strangler'],
    schemaVersion: 39,
    version: 1,
    editable: true,
    time: { from: 'now-1h', to: 'now' },
    refresh: '10s',
    annotations: {
      list: ANNOTATIONS.map((a) => ({
        name: a.name,
        datasource: ds,
        enable: true,
        iconColor: a.color,
        expr: a.expr,
        step: '30s',
        useValueForTime: true,
        titleFormat: '{{action}}',
        textFormat: '{{route}}',
        tagKeys: 'route,action',
      })),
    },
    templating: {
      list: [
        { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus' },
        {
          name: 'route',
          label: 'Route',
          type: 'query',
          datasource: ds,
          query: { query: ROUTE_VARIABLE_QUERY, refId: 'route' },
          definition: ROUTE_VARIABLE_QUERY,
          includeAll: true,
          multi: true,
          allValue: '.*',
          current: { text: 'All', value: '$__all' },
          refresh: 2,
        },
      ],
    },
    panels,
  };
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
