/**
 * Gates: the evidence a flip towards the service needs. A flip to canary or
 * service, or a canary weight increase, is refused unless the route's shadow
 * evidence meets its `gate` config; `--force --reason` overrides and the audit
 * row keeps the override and the evidence of that moment.
 *
 * Every check passes on its boundary value (compared == minCompared,
 * matchRate == minMatchRate, ratio == maxP99Ratio, errorRate == maxErrorRate):
 * the config names the worst acceptable value, not the first refused one.
 */
import type { GateConfig, RouteConfig } from '../core/config.js';
import { StranglerError } from '../core/errors.js';
import { percent } from '../core/percent.js';
import type { Store } from '../store/types.js';
import type { FlipStep } from './flip.js';
import { type EvidenceSummary, type LiveTraffic, readLiveTraffic, readShadowEvidence, sloSince } from './evidence.js';
import { classifyTransition, describeMode } from './state-machine.js';

export type GateCheckName = 'minCompared' | 'minMatchRate' | 'maxP99Ratio' | 'maxErrorRate' | 'liveErrorRate';

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
  /** One line: "pass" or the failed checks with their numbers. */
  summary: string;
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
  const failed = checks.filter((c) => !c.ok);
  return {
    pass: failed.length === 0,
    checks,
    evidence: ev,
    summary: failed.length === 0 ? 'pass' : `refused: ${failed.map((c) => c.message).join('; ')}`,
  };
}

/** Read a route's evidence (shadow + live traffic in the SLO window) and judge it. */
export async function gateVerdict(
  store: Store,
  route: RouteConfig,
  opts: { now: number; lastChangeMs: number; flushMs: number; servesService: boolean },
): Promise<GateVerdict> {
  const ev = await readShadowEvidence(store, route);
  if (!opts.servesService) return evaluateGate(route.gate, ev);
  const since = sloSince(route, opts.now, opts.lastChangeMs, opts.flushMs);
  const live = await readLiveTraffic(store, route.id, 'service', since, opts.now);
  const v = evaluateGate(route.gate, ev, {
    requests: live.requests,
    errors: live.errors,
    minRequests: route.slo.minRequests,
  });
  return {
    ...v,
    live: {
      requests: live.requests,
      errors: live.errors,
      errorRate: live.errorRate,
      p99Ms: live.p99Ms,
      since: live.since,
      until: live.until,
    },
  };
}

/**
 * The flipRoute step (control/flip.ts) that enforces the state machine and
 * the gate. It records the transition and, for gated flips, the verdict in the
 * audit details. On --dry-run a refusal is recorded as `details.refused`
 * instead of thrown, so the caller can show it without changing anything.
 */
export const checkGate: FlipStep = async ({ config, store, request, before, target, details }) => {
  const transition = classifyTransition(before, target);
  details.transition = { kind: transition.kind, from: transition.from, to: transition.to };
  const refuse = (err: StranglerError): void => {
    if (request.dryRun) {
      // The first refusal is the one the real flip would throw (issue 13:
      // a dry run reported the gate where the flip fails as INVALID_FLIP).
      details.refused ??= { code: err.code, message: err.message };
      return;
    }
    throw err;
  };
  if ((transition.needsForce || transition.gated) && request.force && !request.reason?.trim())
    throw new StranglerError('STRANGLER_E_USAGE', 'reason: --force needs --reason TEXT, recorded in the audit log', {
      details: { field: 'reason' },
    });
  if (transition.needsForce && !request.force)
    refuse(
      new StranglerError(
        'STRANGLER_E_INVALID_FLIP',
        `${before.mode} → ${describeMode(target.mode, target.weight)} skips shadow, so there is no evidence to gate on; flip to shadow first, or pass --force --reason TEXT`,
        { details: { field: 'mode', transition: details.transition } },
      ),
    );
  const overrode: string[] = [];
  if (transition.needsForce && request.force) {
    overrode.push('skipShadow');
    details.forced = { by: request.actor, reason: request.reason, overrode };
  }
  if (!transition.gated) return;
  const route = config.routes.find((r) => r.id === request.route)!;
  const verdict = await gateVerdict(store, route, {
    now: Date.now(),
    lastChangeMs: Date.parse(before.updatedAt),
    flushMs: config.proxy.statsFlushMs,
    servesService: before.mode === 'canary' || before.mode === 'service',
  });
  details.gate = verdict;
  if (verdict.pass) return;
  if (request.force) {
    overrode.push(...verdict.checks.filter((c) => !c.ok).map((c) => c.name));
    details.forced = { by: request.actor, reason: request.reason, overrode };
    return;
  }
  refuse(
    new StranglerError(
      'STRANGLER_E_GATE_REFUSED',
      `gate refused ${before.mode === 'canary' ? `canary ${before.weight}%` : before.mode} → ${describeMode(target.mode, target.weight)} for route "${route.id}": ${verdict.checks
        .filter((c) => !c.ok)
        .map((c) => c.message)
        .join('; ')}`,
      { details: { route: route.id, gate: verdict } },
    ),
  );
};
