import { afterEach, describe, expect, it } from 'vitest';
import type { EvidenceSummary } from '../../control/evidence.js';
import { summariseShadow } from '../../control/evidence.js';
import { flipRoute } from '../../control/flip.js';
import { defaultFlipSteps } from '../../control/flip-steps.js';
import { evaluateGate } from '../../control/gate.js';
import { isStranglerError, type StranglerError } from '../../core/errors.js';
import { mismatchSetKey } from '../../shadow/noise.js';
import { type Fixture, routeFixture, shadowBatch } from './fixtures.js';

const GATE = { minCompared: 1000, minMatchRate: 0.999, maxP99Ratio: 1.5, maxErrorRate: 0.01 };

function evidence(o: Partial<EvidenceSummary>): EvidenceSummary {
  return {
    route: 'block',
    compared: 1000,
    matched: 1000,
    exactMatched: 1000,
    matchRate: 1,
    p99: { legacy: 10, service: 10 },
    latencySamples: { legacy: 1000, service: 1000 },
    p99Ratio: 1,
    errors: { legacy: 0, service: 0 },
    serviceErrorRate: 0,
    ...o,
  };
}
const failed = (e: EvidenceSummary) =>
  evaluateGate(GATE, e)
    .checks.filter((c) => !c.ok)
    .map((c) => c.name);

describe('gate verdicts on boundary values', () => {
  it('minCompared: exactly the minimum passes, one less fails', () => {
    expect(failed(evidence({ compared: 1000, matched: 1000 }))).toEqual([]);
    expect(failed(evidence({ compared: 999, matched: 999 }))).toEqual(['minCompared']);
  });

  it('minMatchRate: 999/1000 = 0.999 passes, 998/1000 fails', () => {
    expect(failed(evidence({ matched: 999, matchRate: 999 / 1000 }))).toEqual([]);
    expect(failed(evidence({ matched: 998, matchRate: 998 / 1000 }))).toEqual(['minMatchRate']);
  });

  it('maxP99Ratio: 15 ms / 10 ms = 1.5 passes, 16 ms / 10 ms fails', () => {
    const ev = (svc: number) =>
      summariseShadow({ route: 'block', ...shadowBatch({ compared: 1000, legacyMs: 10, serviceMs: svc }) });
    expect(ev(15).p99Ratio).toBe(1.5);
    expect(failed(ev(15))).toEqual([]);
    expect(failed(ev(16))).toEqual(['maxP99Ratio']);
  });

  it('maxErrorRate: 10 errors in 1000 attempts (1%) passes, 11 fails', () => {
    expect(failed(evidence({ serviceErrorRate: 10 / 1000, errors: { legacy: 0, service: 10 } }))).toEqual([]);
    expect(failed(evidence({ serviceErrorRate: 11 / 1000, errors: { legacy: 0, service: 11 } }))).toEqual([
      'maxErrorRate',
    ]);
  });

  it('no evidence at all fails on count, match rate and latency, and says why', () => {
    const v = evaluateGate(GATE, summariseShadow({ route: 'block', ...shadowBatch({ compared: 0 }) }));
    expect(v.pass).toBe(false);
    expect(v.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([
      'minCompared',
      'minMatchRate',
      'maxP99Ratio',
    ]);
    expect(v.summary).toContain('compared 0 shadow pairs, gate needs at least 1000');
    expect(v.summary).toContain('match rate unknown');
    expect(v.summary).toContain('p99 ratio unknown');
  });

  it('sub-millisecond legacy latency is floored at 1 ms so timer noise is not a regression', () => {
    const v = summariseShadow({
      route: 'block',
      ...shadowBatch({ compared: 10, legacyMs: 0.2, serviceMs: 0.9 }),
    });
    expect(v.p99Ratio).toBeCloseTo(0.9);
  });

  it('with enough live service traffic, its error rate is checked too', () => {
    const ok = evidence({});
    expect(evaluateGate(GATE, ok, { requests: 100, errors: 1, minRequests: 20 }).pass).toBe(true);
    const v = evaluateGate(GATE, ok, { requests: 100, errors: 2, minRequests: 20 });
    expect(v.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['liveErrorRate']);
    expect(v.summary).toContain('live service error rate 2% (2/100)');
    // Too little live traffic: not judged, the shadow evidence decides.
    expect(evaluateGate(GATE, ok, { requests: 19, errors: 19, minRequests: 20 }).pass).toBe(true);
  });
});

describe('flipRoute with the gate step (real SQLite store)', () => {
  let fx: Fixture;
  afterEach(async () => fx?.close());
  const flip = (req: Partial<Parameters<typeof flipRoute>[2]>) =>
    flipRoute(
      fx.store,
      fx.config,
      { route: 'block', mode: 'canary', weight: 5, actor: 'tester', ...req },
      defaultFlipSteps(),
    );

  it('refuses shadow → canary on thin evidence, naming each failed condition with measured values; nothing changes', async () => {
    fx = await routeFixture({ mode: 'shadow' });
    await fx.store.shadow.record(
      'block',
      shadowBatch({ compared: 40, matched: 38, legacyMs: 10, serviceMs: 30 }),
    );
    let err: StranglerError | undefined;
    try {
      await flip({});
    } catch (e) {
      err = e as StranglerError;
    }
    expect(isStranglerError(err, 'STRANGLER_E_GATE_REFUSED')).toBe(true);
    expect(err!.exitCode).toBe(4);
    expect(err!.message).toContain('compared 40 shadow pairs, gate needs at least 100');
    expect(err!.message).toContain('match rate 95% (38/40), gate needs at least 99%');
    expect(err!.message).toContain('p99 service/legacy 3 (30 ms / 10 ms), gate allows at most 1.5');
    expect(err!.message).not.toContain('error rate');
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'shadow', version: 1 });
    expect((await fx.store.audit.list({ route: 'block' })).map((e) => e.action)).toEqual(['seed']);
  });

  it('lets the flip through when the evidence meets the gate, recording the verdict in the audit row', async () => {
    fx = await routeFixture({ mode: 'shadow' });
    await fx.store.shadow.record('block', shadowBatch({ compared: 100, legacyMs: 10, serviceMs: 12 }));
    const res = await flip({ reason: 'evidence is good' });
    expect(res.after).toMatchObject({ mode: 'canary', weight: 5, version: 2 });
    const [, row] = await fx.store.audit.list({ route: 'block' });
    expect(row.details).toMatchObject({
      transition: { kind: 'advance' },
      gate: { pass: true, evidence: { compared: 100, matched: 100, p99: { legacy: 10, service: 12 } } },
    });
  });

  it('judges the match rate after noise: pairs differing only in a noise field count as matches', async () => {
    fx = await routeFixture({ mode: 'shadow' });
    // 100 pairs, 40 differ only in updated_at, which also differs between two legacy answers (noise).
    await fx.store.shadow.record('block', {
      ...shadowBatch({ compared: 100, matched: 60 }),
      fieldDiffs: { '$.updated_at': 40 },
      fieldNoise: { '$.updated_at': 50 },
      noisePairs: 50,
      mismatchSets: { [mismatchSetKey(['$.updated_at'])]: 40 },
    });
    const res = await flip({});
    const gate = (await fx.store.audit.list({ route: 'block' })).at(-1)!.details!.gate as {
      evidence: Record<string, unknown>;
    };
    expect(res.after).toMatchObject({ mode: 'canary' });
    expect(gate.evidence).toMatchObject({ compared: 100, exactMatched: 60, matched: 100, matchRate: 1 });
  });

  it('--force --reason overrides a refusing gate; the audit row records the override and the evidence', async () => {
    fx = await routeFixture({ mode: 'shadow' });
    await fx.store.shadow.record('block', shadowBatch({ compared: 10 }));
    await expect(flip({ force: true })).rejects.toThrow(/--force needs --reason/);
    const res = await flip({ force: true, reason: 'hotfix must ship' });
    expect(res.after).toMatchObject({ mode: 'canary', weight: 5 });
    const row = (await fx.store.audit.list({ route: 'block' })).at(-1)!;
    expect(row).toMatchObject({ actor: 'tester', reason: 'hotfix must ship' });
    expect(row.details).toMatchObject({
      forced: { by: 'tester', reason: 'hotfix must ship', overrode: ['minCompared'] },
      gate: { pass: false, evidence: { compared: 10 } },
    });
  });

  it('--dry-run shows the verdict and changes nothing, whether the gate passes or not', async () => {
    fx = await routeFixture({ mode: 'shadow' });
    const refused = await flip({ dryRun: true });
    expect(refused.dryRun).toBe(true);
    expect(refused.after).toBeNull();
    expect(refused.details.refused).toMatchObject({ code: 'STRANGLER_E_GATE_REFUSED' });
    expect((refused.details.gate as { pass: boolean }).pass).toBe(false);
    await fx.store.shadow.record('block', shadowBatch({ compared: 200 }));
    const ok = await flip({ dryRun: true });
    expect(ok.details.refused).toBeUndefined();
    expect((ok.details.gate as { pass: boolean }).pass).toBe(true);
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'shadow', version: 1 });
    expect(await fx.store.audit.list({ route: 'block' })).toHaveLength(1);
  });

  it('legacy → canary skips shadow: refused without --force even with good evidence, allowed and recorded with it', async () => {
    fx = await routeFixture({ mode: 'legacy' });
    await fx.store.shadow.record('block', shadowBatch({ compared: 500 }));
    await expect(flip({})).rejects.toThrow(/legacy → canary 5% skips shadow.*--force --reason/);
    const res = await flip({ force: true, reason: 'no shadow possible: POST-only route' });
    expect(res.after).toMatchObject({ mode: 'canary', weight: 5 });
    expect((await fx.store.audit.list({ route: 'block' })).at(-1)!.details).toMatchObject({
      transition: { kind: 'skip' },
      forced: { by: 'tester', overrode: ['skipShadow'] },
    });
  });

  it('a canary weight increase is gated, a decrease and a rollback are not', async () => {
    fx = await routeFixture({ mode: 'canary', weight: 5 });
    await expect(flip({ weight: 50 })).rejects.toThrow(/gate refused canary 5% → canary 50%/);
    expect((await flip({ weight: 2 })).after).toMatchObject({ weight: 2 });
    expect((await flip({ mode: 'shadow', weight: undefined })).after).toMatchObject({ mode: 'shadow' });
    expect((await flip({ mode: 'legacy', weight: undefined })).after).toMatchObject({ mode: 'legacy' });
  });

  it('answers a no-op flip as unchanged and writes nothing, so the audit log never records a change that changed nothing', async () => {
    fx = await routeFixture({ mode: 'shadow' });
    const rows = (await fx.store.audit.list()).length;
    const r = await flip({ mode: 'shadow', weight: undefined });
    expect(r).toMatchObject({ unchanged: true, after: r.before });
    expect(await fx.store.routes.get('block')).toEqual(r.before);
    expect((await fx.store.audit.list()).length).toBe(rows);
  });
});
