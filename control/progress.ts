/**
 * Gathers `strangler report progress`: routes per mode, the share of traffic
 * the services serve over time, and per route its mode, weight, shadow match
 * rate, p99 per target, breaker state, last change and last load test; plus
 * the planner's next candidates when a plan was saved.
 */
import { readBreakerState } from './routes.js';
import type { Config } from '../core/config.js';
import { MODES, type Mode, type Target } from '../core/types.js';
import type { LoadtestResult } from './loadtest-result.js';
import type { NextCandidate, ProgressData, ProgressRoute, TrafficPoint } from './progress-data.js';
import { sumWindows } from '../store/stats-window.js';
import type { Store } from '../store/types.js';
import { summariseShadow } from './evidence.js';
import {
  type GatherOptions,
  autoStep,
  binStarts,
  isPartialBin,
  rangeStart,
  routeIds,
  windowPercentiles,
} from './latency.js';

/** How many of the plan's next modules to show. */
const CANDIDATES = 3;

/**
 * The plan is saved by the planner as an opaque value; read only the fields
 * this report needs and tolerate their absence, so an older or newer plan
 * shape degrades to fewer details rather than a crash.
 */
export function planCandidates(
  value: unknown,
  extracted: ReadonlySet<string>,
  limit = CANDIDATES,
): NextCandidate[] {
  if (!value || typeof value !== 'object') return [];
  const plan = value as { order?: unknown; modules?: unknown; candidates?: unknown };
  // The capabilities `plan` prints, in its order (issue 31) — not the per-module list,
  // whose empty `__init__` packages came first. Plans saved before capabilities fall back to modules.
  if (Array.isArray(plan.candidates) && plan.candidates.length > 0)
    return (plan.candidates as Array<Record<string, unknown>>)
      .filter((c) => typeof c?.name === 'string')
      .filter((c) => {
        const modules = Array.isArray(c.modules) ? (c.modules as unknown[]).map(String) : [];
        return !extracted.has(c.name as string) && !modules.some((m) => extracted.has(m));
      })
      .slice(0, limit)
      .map((c) => ({
        module: c.name as string,
        wave: null,
        rank: typeof c.rank === 'number' ? c.rank : null,
        reasons: Array.isArray(c.reasons) ? (c.reasons as unknown[]).map(String) : [],
      }));
  const modules = Array.isArray(plan.modules) ? (plan.modules as Array<Record<string, unknown>>) : [];
  const byName = new Map(
    modules.filter((m) => typeof m?.name === 'string').map((m) => [m.name as string, m]),
  );
  const order = Array.isArray(plan.order)
    ? (plan.order as unknown[]).filter((m): m is string => typeof m === 'string')
    : [...byName.values()]
        .sort((a, b) => Number(a.rank ?? Infinity) - Number(b.rank ?? Infinity))
        .map((m) => m.name as string);
  return order
    .filter((name) => !extracted.has(name))
    .slice(0, limit)
    .map((name) => {
      const m = byName.get(name);
      return {
        module: name,
        wave: typeof m?.wave === 'number' ? m.wave : null,
        rank: typeof m?.rank === 'number' ? m.rank : null,
        reasons: Array.isArray(m?.reasons) ? (m.reasons as unknown[]).map(String) : [],
      };
    });
}

function loadtestSummary(at: string, value: unknown): ProgressRoute['loadtest'] {
  const r = value as Partial<LoadtestResult> | undefined;
  const ratio = Array.isArray(r?.ratios)
    ? r.ratios.find((x) => x.of === 'service' && x.over === 'legacy')
    : undefined;
  return { at, serviceOverLegacyP99: ratio?.p99 ?? null, serviceOverLegacyRps: ratio?.rps ?? null };
}

export async function gatherProgress(
  store: Store,
  config: Readonly<Config>,
  opts: GatherOptions,
): Promise<ProgressData> {
  const until = opts.now.getTime();
  const since = await rangeStart(store, opts);
  const stepMs = opts.stepMs ?? autoStep(since, until);
  const starts = binStarts(since, until, stepMs);
  const windows = (await store.stats.query({ since })).filter((w) => w.start < until);

  const traffic: TrafficPoint[] = starts.map((s) => ({
    start: new Date(s).toISOString(),
    legacy: 0,
    service: 0,
    ...(isPartialBin(s, stepMs, until) ? { partial: true } : {}),
  }));
  const first = starts[0];
  for (const w of windows) {
    const i = Math.floor((w.start - first) / stepMs);
    if (i >= 0 && i < traffic.length) traffic[i][w.target] += w.requests;
  }
  const totals = {
    legacy: traffic.reduce((a, p) => a + p.legacy, 0),
    service: traffic.reduce((a, p) => a + p.service, 0),
    serviceShare: null as number | null,
  };
  const served = totals.legacy + totals.service;
  totals.serviceShare = served > 0 ? Math.round((totals.service / served) * 10_000) / 10_000 : null;

  const modes = Object.fromEntries(MODES.map((m) => [m, 0])) as Record<Mode, number>;
  const routes: ProgressRoute[] = [];
  for (const id of await routeIds(store, config)) {
    const cfg = config.routes.find((r) => r.id === id);
    const state = await store.routes.get(id);
    const mode: Mode = state?.mode ?? cfg?.mode ?? 'legacy';
    modes[mode]++;
    const mine = (t: Target) => windows.filter((w) => w.route === id && w.target === t);
    // The route's noise thresholds: the same match rate after noise as the gate and the shadow report.
    const shadow = summariseShadow(await store.shadow.evidence(id), cfg?.shadow);
    const breaker = await readBreakerState(store, cfg);
    const lt = await store.results.latest('loadtest', id);
    routes.push({
      id,
      service: cfg?.service ?? '',
      module: cfg?.module ?? null,
      mode,
      weight: state?.weight ?? cfg?.weight ?? 0,
      version: state?.version ?? 0,
      matchRate: shadow.matchRate === null ? null : Math.round(shadow.matchRate * 10_000) / 10_000,
      compared: shadow.compared,
      requests: {
        legacy: sumWindows(mine('legacy')).requests,
        service: sumWindows(mine('service')).requests,
      },
      errors: { legacy: sumWindows(mine('legacy')).errors, service: sumWindows(mine('service')).errors },
      p99Ms: {
        legacy: windowPercentiles(mine('legacy'))?.p99 ?? null,
        service: windowPercentiles(mine('service'))?.p99 ?? null,
      },
      breaker,
      lastChange: state
        ? { at: state.updatedAt, actor: state.actor, reason: state.reason }
        : { at: '', actor: '', reason: 'not in the store yet' },
      loadtest: lt ? loadtestSummary(lt.at, lt.value) : null,
    });
  }

  const saved = await store.results.latest('plan');
  // A module whose routes all serve from the service is extracted: no longer a candidate.
  const extracted = new Set(
    routes
      .filter(
        (r) => r.module && routes.filter((o) => o.module === r.module).every((o) => o.mode === 'service'),
      )
      .map((r) => r.module as string),
  );
  return {
    generatedAt: opts.now.toISOString(),
    since: new Date(since).toISOString(),
    stepMs,
    modes,
    traffic,
    totals,
    routes,
    plan: saved ? { at: saved.at, candidates: planCandidates(saved.value, extracted) } : null,
  };
}
