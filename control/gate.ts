/**
 * Gates: the evidence a flip towards the service needs. A flip to canary or
 * service, or a canary weight increase, is refused unless the route's
 * evidence meets its `gate` config; `--force --reason` overrides and the audit
 * row keeps the override and the evidence of that moment.
 *
 * Each transition is judged on the evidence its mode produces (issue 26):
 * leaving shadow, on the shadow comparisons; leaving canary (a weight increase,
 * or canary → service), on the canary's own traffic — the service's error rate
 * and p99 against legacy's over the canary window — because canary collects no
 * new shadow pairs, and sending the operator back to shadow for them is
 * backwards. A canary with too little service traffic to judge falls back to
 * the shadow evidence, and the verdict says which it used.
 *
 * Every check passes on its boundary value (compared == minCompared,
 * matchRate == minMatchRate, ratio == maxP99Ratio, errorRate == maxErrorRate):
 * the config names the worst acceptable value, not the first refused one.
 */
import type { GateConfig, RouteConfig } from '../core/config.js';
import { StranglerError } from '../core/errors.js';
import { percent } from '../core/percent.js';
import type { Store } from '../store/types.js';
import { type FlipStep, recordForced, refuseFlip } from './flip.js';
import {
  type EvidenceSummary,
  type LiveTraffic,
  P99_FLOOR_MS,
  readLiveTraffic,
  readShadowEvidence,
  sloSince,
} from './evidence.js';
import { classifyTransition, describeMode } from './state-machine.js';

export type GateCheckName =
  | 'minCompared'
  | 'minMatchRate'
  | 'maxP99Ratio'
  | 'maxErrorRate'
  | 'liveErrorRate'
  | 'liveP99Ratio';

export interface GateCheck {
  name: GateCheckName;
  ok: boolean;
  /** The measured value; null when there was nothing to measure (which fails the check). */
  measured: number | null;
  limit: number;
  message: string;
}

export interface GateVerdict {
  pass: boolean;
  checks: GateCheck[];
  evidence: EvidenceSummary;
  /** Live service traffic in the SLO window, when the route already sends some. */
  live?: Pick<LiveTraffic, 'requests' | 'errors' | 'errorRate' | 'p99Ms' | 'since' | 'until'>;
  /** Legacy's traffic over the same window (canary evidence), for the comparison. */
  liveLegacy?: Pick<LiveTraffic, 'requests' | 'errors' | 'errorRate' | 'p99Ms'>;
  /** Which evidence was judged: shadow comparisons, or the canary's own traffic. */
  basis: 'shadow' | 'canary';
  /** One sentence saying which evidence was judged and why (shown with the checks). */
  basisNote: string;
  /** One line: "pass" or the failed checks with their numbers. */
  summary: string;
}

/** Canary evidence: both targets' live traffic over the canary window. */
export interface CanaryTraffic {
  service: Pick<LiveTraffic, 'requests' | 'errors' | 'p99Ms'>;
  legacy: Pick<LiveTraffic, 'requests' | 'errors' | 'p99Ms'>;
  since: number;
  minRequests: number;
}

// Rates computed by division (999/1000) can land one ulp off the configured
// decimal; a boundary value must still pass.
const EPS = 1e-9;

const num = (x: number) => `${+x.toFixed(3)}`;

/**
 * Judge evidence against a gate. `live` adds a check on the service's own
 * error rate when the route already serves enough live traffic (canary weight
 * increases): shadow evidence alone stops growing once a route leaves shadow.
 */
export function evaluateGate(
  gate: GateConfig,
  ev: EvidenceSummary,
  live?: { requests: number; errors: number; minRequests: number },
  routeId?: string,
): GateVerdict {
  const checks: GateCheck[] = [];
  checks.push({
    name: 'minCompared',
    ok: ev.compared >= gate.minCompared,
    measured: ev.compared,
    limit: gate.minCompared,
    message: `compared ${ev.compared} shadow pairs, gate needs at least ${gate.minCompared}`,
  });
  checks.push({
    name: 'minMatchRate',
    ok: ev.matchRate !== null && ev.matchRate >= gate.minMatchRate - EPS,
    measured: ev.matchRate,
    limit: gate.minMatchRate,
    message:
      ev.matchRate === null
        ? `match rate unknown (no comparisons), gate needs at least ${percent(gate.minMatchRate, 3)}`
        : `match rate ${percent(ev.matchRate, 3)} (${ev.matched}/${ev.compared}), gate needs at least ${percent(gate.minMatchRate, 3)}`,
  });
  checks.push({
    name: 'maxP99Ratio',
    ok: ev.p99Ratio !== null && ev.p99Ratio <= gate.maxP99Ratio + EPS,
    measured: ev.p99Ratio,
    limit: gate.maxP99Ratio,
    message:
      ev.p99Ratio === null
        ? `p99 ratio unknown (latency samples: legacy ${ev.latencySamples.legacy}, service ${ev.latencySamples.service}), gate allows at most ${gate.maxP99Ratio}`
        : `p99 service/legacy ${num(ev.p99Ratio)} (${num(ev.p99.service!)} ms / ${num(ev.p99.legacy!)} ms), gate allows at most ${gate.maxP99Ratio}`,
  });
  checks.push({
    name: 'maxErrorRate',
    // No attempts means no errors seen; minCompared already refuses thin evidence.
    ok: (ev.serviceErrorRate ?? 0) <= gate.maxErrorRate + EPS,
    measured: ev.serviceErrorRate,
    limit: gate.maxErrorRate,
    message: `service error rate ${ev.serviceErrorRate === null ? 'n/a' : percent(ev.serviceErrorRate, 3)} in shadow (${ev.errors.service} errors), gate allows at most ${percent(gate.maxErrorRate, 3)}`,
  });
  const errorCheck = checks[checks.length - 1];
  // After an outage (and its rollback) the errors stay in the shadow evidence
  // and keep this shut however healthy the service is now: say how to start over.
  if (!errorCheck.ok && routeId)
    errorCheck.message += ` — errors stay in the evidence until \`strangler shadow reset ${routeId}\` (once the service is fixed; it also clears the comparisons, which then build up again)`;
  if (live && live.requests >= live.minRequests) {
    const rate = live.errors / live.requests;
    checks.push({
      name: 'liveErrorRate',
      ok: rate <= gate.maxErrorRate + EPS,
      measured: rate,
      limit: gate.maxErrorRate,
      message: `live service error rate ${percent(rate, 3)} (${live.errors}/${live.requests}), gate allows at most ${percent(gate.maxErrorRate, 3)}`,
    });
  }
  return verdictOf(checks, ev, 'shadow', `judged on shadow evidence (${ev.compared} pairs compared)`);
}

function verdictOf(
  checks: GateCheck[],
  ev: EvidenceSummary,
  basis: GateVerdict['basis'],
  basisNote: string,
): GateVerdict {
  const failed = checks.filter((c) => !c.ok);
  return {
    pass: failed.length === 0,
    checks,
    evidence: ev,
    basis,
    basisNote,
    summary: failed.length === 0 ? 'pass' : `refused: ${failed.map((c) => c.message).join('; ')}`,
  };
}

/**
 * Judge a canary on its own traffic: the service's error rate against the
 * gate's limit (legacy's alongside, for reading), and its p99 against
 * legacy's over the same window. Undefined when the service had too little
 * traffic to judge (the caller falls back to the shadow evidence).
 */
export function evaluateCanaryGate(
  gate: GateConfig,
  ev: EvidenceSummary,
  t: CanaryTraffic,
): GateVerdict | undefined {
  if (t.service.requests < t.minRequests) return undefined;
  const checks: GateCheck[] = [];
  const rate = t.service.errors / t.service.requests;
  const legacyRate = t.legacy.requests > 0 ? t.legacy.errors / t.legacy.requests : null;
  checks.push({
    name: 'liveErrorRate',
    ok: rate <= gate.maxErrorRate + EPS,
    measured: rate,
    limit: gate.maxErrorRate,
    message: `canary service error rate ${percent(rate, 3)} (${t.service.errors}/${t.service.requests}; legacy ${legacyRate === null ? 'n/a' : percent(legacyRate, 3)}), gate allows at most ${percent(gate.maxErrorRate, 3)}`,
  });
  const s99 = t.service.p99Ms;
  const l99 = t.legacy.p99Ms;
  // Legacy may have no traffic in the window (a 100% canary step): no ratio to judge then.
  if (s99 !== null && l99 !== null && t.legacy.requests > 0) {
    const ratio = Math.max(s99, P99_FLOOR_MS) / Math.max(l99, P99_FLOOR_MS);
    checks.push({
      name: 'liveP99Ratio',
      ok: ratio <= gate.maxP99Ratio + EPS,
      measured: ratio,
      limit: gate.maxP99Ratio,
      message: `canary p99 service/legacy ${num(ratio)} (${num(s99)} ms / ${num(l99)} ms), gate allows at most ${gate.maxP99Ratio}`,
    });
  }
  const note = `judged on canary traffic since ${new Date(t.since).toISOString()} (service ${t.service.requests} requests, legacy ${t.legacy.requests}); shadow comparisons are not required again`;
  return verdictOf(checks, ev, 'canary', note);
}

/** Read a route's evidence (shadow + live traffic in the SLO window) and judge it. */
export async function gateVerdict(
  store: Store,
  route: RouteConfig,
  opts: { now: number; lastChangeMs: number; version: number; flushMs: number; servesService: boolean },
): Promise<GateVerdict> {
  const ev = await readShadowEvidence(store, route);
  if (!opts.servesService) return evaluateGate(route.gate, ev, undefined, route.id);
  const since = sloSince(route, opts.now, opts.lastChangeMs, opts.flushMs);
  // The route's current version only: see readLiveTraffic.
  const live = await readLiveTraffic(store, route.id, 'service', since, opts.now, opts.version);
  const legacy = await readLiveTraffic(store, route.id, 'legacy', since, opts.now, opts.version);
  const liveParts = {
    live: {
      requests: live.requests,
      errors: live.errors,
      errorRate: live.errorRate,
      p99Ms: live.p99Ms,
      since: live.since,
      until: live.until,
    },
    liveLegacy: {
      requests: legacy.requests,
      errors: legacy.errors,
      errorRate: legacy.errorRate,
      p99Ms: legacy.p99Ms,
    },
  };
  const minRequests = route.slo.minRequests;
  const canary = evaluateCanaryGate(route.gate, ev, { service: live, legacy, since, minRequests });
  if (canary) return { ...canary, ...liveParts };
  const v = evaluateGate(
    route.gate,
    ev,
    { requests: live.requests, errors: live.errors, minRequests },
    route.id,
  );
  return {
    ...v,
    ...liveParts,
    basisNote: `too little canary traffic to judge (${live.requests}/${minRequests} service requests since ${new Date(since).toISOString()}): ${v.basisNote}`,
  };
}

/**
 * The flipRoute step (control/flip.ts) that evaluates the route's gate for a
 * gated transition (state-machine.ts) and records the verdict in the audit
 * details. A failing gate refuses the flip unless --force overrides it
 * (recorded with the failed checks). Runs after admitTransition
 * (control/flip-admission.ts), which already refused a forced flip without
 * a reason.
 */
export const requireGate: FlipStep = async (ctx) => {
  const { config, store, request, before, target, details } = ctx;
  if (!classifyTransition(before, target).gated) return;
  const route = config.routes.find((r) => r.id === request.route)!;
  const verdict = await gateVerdict(store, route, {
    now: Date.now(),
    lastChangeMs: Date.parse(before.updatedAt),
    version: before.version,
    flushMs: config.proxy.statsFlushMs,
    servesService: before.mode === 'canary' || before.mode === 'service',
  });
  details.gate = verdict;
  if (verdict.pass) return;
  const failed = verdict.checks.filter((c) => !c.ok);
  if (request.force)
    return recordForced(
      ctx,
      failed.map((c) => c.name),
    );
  refuseFlip(
    ctx,
    new StranglerError(
      'STRANGLER_E_GATE_REFUSED',
      `gate refused ${describeMode(before.mode, before.weight)} → ${describeMode(target.mode, target.weight)} for route "${route.id}" (${verdict.basisNote}): ${failed
        .map((c) => c.message)
        .join('; ')}`,
      { details: { route: route.id, gate: verdict } },
    ),
  );
};
