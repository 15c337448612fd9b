/**
 * Issue 26: "canary → service is gated on shadow comparisons (compared 475,
 * gate needs 500), but canary collects no new shadow pairs, so the operator
 * must go back to shadow". A transition's gate judges the evidence its mode
 * produces: leaving canary, the service's own error rate and p99 against
 * legacy's over the canary window — and says so. After a rollback, the
 * outage's shadow errors keep the gate shut: the refusal says how to reset.
 * Real SQLite store, real flipRoute with the default steps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { flipRoute } from '../../control/flip.js';
import { defaultFlipSteps } from '../../control/flip-steps.js';
import { windowStart } from '../../store/stats-window.js';
import { type Fixture, routeFixture, serviceWindow, shadowBatch } from './fixtures.js';

describe('the canary → service gate judges canary traffic (issue 26)', () => {
  let fx: Fixture;
  afterEach(async () => fx?.close());

  /** Stats windows for the canary window: service and legacy requests, errors and latency. */
  async function canaryTraffic(o: {
    service: number;
    serviceErrors?: number;
    serviceMs?: number;
    legacy: number;
    legacyMs?: number;
  }) {
    const start = windowStart(Date.now(), 1000);
    await fx.store.stats.add([
      serviceWindow(start, o.service, o.serviceErrors ?? 0, o.serviceMs ?? 10),
      { ...serviceWindow(start, o.legacy, 0, o.legacyMs ?? 10), target: 'legacy', failovers: 0 },
    ]);
  }

  async function canaryAt10WithThinShadowEvidence() {
    fx = await routeFixture({ mode: 'canary', weight: 10 });
    // The shadow phase ended with fewer comparisons than the gate's 100 (it was forced, or reset since).
    await fx.store.shadow.record('block', shadowBatch({ compared: 47 }));
  }

  const flip = (mode: 'canary' | 'service', weight?: number) =>
    flipRoute(
      fx.store,
      fx.config,
      { route: 'block', mode, weight, actor: 'tester', reason: 'next step' },
      defaultFlipSteps(),
    );

  it('passes canary → service on healthy canary traffic without new shadow pairs, and says what it judged', async () => {
    await canaryAt10WithThinShadowEvidence();
    await canaryTraffic({ service: 40, legacy: 360 });
    const res = await flip('service');
    expect(res.after).toMatchObject({ mode: 'service' });
    const gate = res.details.gate as {
      pass: boolean;
      basis: string;
      basisNote: string;
      checks: { name: string }[];
    };
    expect(gate.pass).toBe(true);
    expect(gate.basis).toBe('canary');
    expect(gate.basisNote).toContain('judged on canary traffic since');
    expect(gate.basisNote).toContain('service 40 requests, legacy 360');
    expect(gate.checks.map((c) => c.name)).toEqual(['liveErrorRate', 'liveP99Ratio']);
  });

  it("refuses when the canary's service errors more than the gate allows, naming legacy's rate beside it", async () => {
    await canaryAt10WithThinShadowEvidence();
    await canaryTraffic({ service: 40, serviceErrors: 4, legacy: 360 });
    await expect(flip('canary', 50)).rejects.toThrow(
      /judged on canary traffic.*canary service error rate 10% \(4\/40; legacy 0%\), gate allows at most 1%/,
    );
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'canary', weight: 10 });
  });

  it("refuses when the canary's p99 is over the gate's ratio to legacy's over the same window", async () => {
    await canaryAt10WithThinShadowEvidence();
    await canaryTraffic({ service: 40, serviceMs: 400, legacy: 360, legacyMs: 10 });
    await expect(flip('service')).rejects.toThrow(/canary p99 service\/legacy .* gate allows at most 1\.5/);
  });

  it('with too little canary traffic, falls back to the shadow evidence and says why', async () => {
    await canaryAt10WithThinShadowEvidence();
    await canaryTraffic({ service: 3, legacy: 30 });
    await expect(flip('service')).rejects.toThrow(
      /too little canary traffic to judge \(3\/20 service requests since .*\): judged on shadow evidence \(47 pairs compared\).*compared 47 shadow pairs, gate needs at least 100/,
    );
  });

  it('after a rollback, says the outage errors keep the gate shut until `strangler shadow reset`', async () => {
    fx = await routeFixture({ mode: 'shadow' });
    await fx.store.shadow.record('block', shadowBatch({ compared: 200, serviceErrors: 30 }));
    await expect(flip('canary', 5)).rejects.toThrow(
      /service error rate .* in shadow \(30 errors\).*errors stay in the evidence until `strangler shadow reset block`/,
    );
  });
  it('judges only the canary traffic of the route version it would leave (issue 29)', async () => {
    await canaryAt10WithThinShadowEvidence();
    // Version 1 (10%) failed; the operator forced it on to 20% (version 2) in the same stats window.
    const v2 = await flipRoute(
      fx.store,
      fx.config,
      { route: 'block', mode: 'canary', weight: 20, actor: 'tester', reason: 'fixed', force: true },
      defaultFlipSteps(),
    );
    expect(v2.after).toMatchObject({ weight: 20, version: 2 });
    const same = windowStart(Date.parse(v2.after!.updatedAt), 1000);
    await fx.store.stats.add([
      serviceWindow(same, 40, 4, 10, 'p1', 1), // version 1's failures, just before the flip
      serviceWindow(same, 40, 0, 10, 'p1', 2),
      { ...serviceWindow(same, 360, 0, 10, 'p1', 2), target: 'legacy', failovers: 0 },
    ]);
    const res = await flip('service');
    expect(res.after).toMatchObject({ mode: 'service', version: 3 });
    const gate = res.details.gate as {
      pass: boolean;
      basisNote: string;
      live: { requests: number; errors: number };
    };
    expect(gate.pass).toBe(true);
    expect(gate.live).toMatchObject({ requests: 40, errors: 0 });
    expect(gate.basisNote).toContain('service 40 requests, legacy 360');
  });
});
