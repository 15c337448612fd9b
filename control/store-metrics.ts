/**
 * Control-plane metrics, read from the store at scrape time and appended to
 * the data plane's /metrics: route modes and weights, and shadow evidence
 * (compared, match rate after noise, paired latency). The data plane cannot
 * count these itself: a mode is the store's, and the match rate after noise
 * changes when noise learned later re-classifies old mismatches
 * (shadow/noise.ts), so it is a gauge computed from the stored totals.
 *
 * Every instance reads the same store, so each reports the same values:
 * dashboards take `max by (route)`, never `sum` (control/export-grafana.ts).
 */
import type { Config } from '../core/config.js';
import { MODES } from '../core/types.js';
import type { Store } from '../store/types.js';
import { sampleQuantile } from '../core/quantile.js';
import { summariseShadow } from './evidence.js';
import { isActive, type Rollout, type RolloutStatus, readRollout } from './canary.js';
import { GUARD_ACTION } from './guard.js';

const ROLLOUT_STATUSES: readonly RolloutStatus[] = [
  'none',
  'running',
  'paused',
  'aborted',
  'halted',
  'rolled-back',
  'done',
];

/**
 * The audit actions that change a route's traffic, each exported as the time
 * of its newest row (a lookup per route and action, not a scan): Grafana's
 * annotations and "changes()" panels read flips, guard rollbacks and rollout
 * steps from them. Any instance's /metrics shows every writer's changes (a
 * CLI flip too), which a counter in the proxy process could not.
 */
export const CHANGE_ACTIONS = [
  'flip',
  GUARD_ACTION,
  'canary.start',
  'canary.step',
  'canary.rollback',
  'canary.done',
  'canary.halt',
  'canary.abort',
] as const;

type Labels = Record<string, string>;
interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: Array<{ labels: Labels; value: number }>;
}

/** Label values escaped as the text format (0.0.4) requires: backslash, double quote, newline. */
const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function renderFamilies(families: readonly Family[]): string {
  let out = '';
  // A family with no samples yet still says it exists (as prom-client does), so dashboards can name it.
  for (const f of families) {
    out += `# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) {
      const l = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${esc(v)}"`)
        .join(',');
      out += `${f.name}${l ? `{${l}}` : ''} ${s.value}\n`;
    }
  }
  return out;
}

export async function storeMetricsText(config: Readonly<Config>, store: Store): Promise<string> {
  const fam = (name: string, type: Family['type'], help: string): Family => ({
    name,
    type,
    help,
    samples: [],
  });
  const mode = fam(
    'strangler_route_mode',
    'gauge',
    'Current mode of each route from the store: 1 for its mode, 0 for the others.',
  );
  const weight = fam(
    'strangler_route_service_weight_ratio',
    'gauge',
    "Share of a route's traffic sent to its service (canary weight / 100).",
  );
  const version = fam(
    'strangler_route_version',
    'gauge',
    'Version of each route in the store; every flip adds one.',
  );
  const compared = fam(
    'strangler_shadow_compared_total',
    'counter',
    'Shadow pairs compared per route, every proxy instance (from the store).',
  );
  const ratio = fam(
    'strangler_shadow_match_ratio',
    'gauge',
    'Share of compared shadow pairs that matched after noise and ignores, per route.',
  );
  const skipped = fam(
    'strangler_shadow_skipped_total',
    'counter',
    'Shadow copies not compared, by route and reason.',
  );
  const errors = fam(
    'strangler_shadow_errors_total',
    'counter',
    'Failed answers to shadowed requests, by route and target.',
  );
  const p50 = fam(
    'strangler_shadow_paired_latency_p50_seconds',
    'gauge',
    'Median latency of the paired shadow requests per route and target (newest reservoir).',
  );
  const p99 = fam(
    'strangler_shadow_paired_latency_p99_seconds',
    'gauge',
    '99th percentile latency of the paired shadow requests per route and target (newest reservoir).',
  );
  const lastChange = fam(
    'strangler_route_last_change_timestamp_seconds',
    'gauge',
    "Unix time of a route's newest audited change, by action (flip, guard.rollback, canary.start, canary.step, canary.rollback, canary.done, canary.halt, canary.abort).",
  );
  const rolloutStatus = fam(
    'strangler_rollout_status',
    'gauge',
    "A route's rollout status: 1 for its status, 0 for the others.",
  );
  const rolloutStep = fam(
    'strangler_rollout_step',
    'gauge',
    'The step a running or paused rollout has applied (1 = first), 0 when none is active.',
  );
  const nextStep = fam(
    'strangler_rollout_next_step_seconds',
    'gauge',
    'Seconds until a running rollout judges its step and applies the next (0 when it is due or none is running).',
  );
  const now = Date.now();
  const states = new Map((await store.routes.list()).map((s) => [s.id, s]));
  for (const r of config.routes) {
    const s = states.get(r.id);
    if (!s) continue;
    for (const m of MODES)
      mode.samples.push({ labels: { route: r.id, mode: m }, value: m === s.mode ? 1 : 0 });
    weight.samples.push({ labels: { route: r.id }, value: s.weight / 100 });
    version.samples.push({ labels: { route: r.id }, value: s.version });
    const ev = await store.shadow.evidence(r.id);
    const sum = summariseShadow(ev, r.shadow);
    compared.samples.push({ labels: { route: r.id }, value: ev.compared });
    if (sum.matchRate !== null) ratio.samples.push({ labels: { route: r.id }, value: sum.matchRate });
    for (const [reason, n] of Object.entries(ev.skipped))
      skipped.samples.push({ labels: { route: r.id, reason }, value: n });
    for (const target of ['legacy', 'service'] as const) {
      errors.samples.push({ labels: { route: r.id, target }, value: ev.errors[target] });
      const xs = ev.latency[target];
      if (xs.length === 0) continue;
      p50.samples.push({ labels: { route: r.id, target }, value: sampleQuantile(xs, 0.5)! / 1000 });
      p99.samples.push({ labels: { route: r.id, target }, value: sampleQuantile(xs, 0.99)! / 1000 });
    }
    for (const action of CHANGE_ACTIONS) {
      const [row] = await store.audit.list({ route: r.id, action, limit: 1 });
      if (row) lastChange.samples.push({ labels: { route: r.id, action }, value: Date.parse(row.at) / 1000 });
    }
    const rollout = await readRollout(store, r.id);
    for (const st of ROLLOUT_STATUSES)
      rolloutStatus.samples.push({
        labels: { route: r.id, status: st },
        value: st === rollout.status ? 1 : 0,
      });
    rolloutStep.samples.push({ labels: { route: r.id }, value: isActive(rollout) ? rollout.index + 1 : 0 });
    nextStep.samples.push({ labels: { route: r.id }, value: secondsToNextStep(rollout, now) });
  }
  return renderFamilies([
    mode,
    weight,
    version,
    compared,
    ratio,
    skipped,
    errors,
    p50,
    p99,
    lastChange,
    rolloutStatus,
    rolloutStep,
    nextStep,
  ]);
}

/** Seconds until a running rollout's next judgement (0 when due, paused or none). */
export function secondsToNextStep(r: Rollout, now: number): number {
  if (r.status !== 'running') return 0;
  return Math.max(0, Math.round((r.holdUntil - now) / 100) / 10);
}

/** The data plane's metrics followed by the store's; a store that does not answer leaves the data plane's alone. */
export function withStoreMetrics(
  dataPlane: () => Promise<{ body: string; contentType: string }>,
  deps: { config: Readonly<Config>; store: Store; onError?: (err: unknown) => void },
): () => Promise<{ body: string; contentType: string }> {
  return async () => {
    const m = await dataPlane();
    let extra = '';
    try {
      extra = await storeMetricsText(deps.config, deps.store);
    } catch (err) {
      // The proxy keeps serving while the store is away; so does its /metrics.
      deps.onError?.(err);
    }
    const sep = m.body && !m.body.endsWith('\n') ? '\n' : '';
    return { body: m.body + sep + extra, contentType: m.contentType };
  };
}
