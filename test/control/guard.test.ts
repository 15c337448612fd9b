import { afterEach, describe, expect, it } from 'vitest';
import { flipRoute } from '../../control/flip.js';
import { defaultFlipSteps } from '../../control/flip-steps.js';
import { judgeSlo, startGuard, type Guard } from '../../control/guard.js';
import { createLogger } from '../../core/log.js';
import { emptyBuckets, windowStart } from '../../store/stats-window.js';
import { FakeClock, type Fixture, routeFixture, serviceWindow } from './fixtures.js';

const SLO = { maxErrorRate: 0.05, maxP99Ms: 500, window: '30s', minRequests: 20 };
const totals = (requests: number, errors: number, p99Ms: number | null = 10) => ({
  requests,
  errors,
  failovers: errors,
  buckets: emptyBuckets(),
  errorRate: requests ? errors / requests : null,
  p99Ms,
});
const range = { since: 0, until: 30_000 };

describe('judgeSlo', () => {
  it('too little traffic neither passes nor breaches, and says so', () => {
    const s = judgeSlo('block', SLO, totals(19, 19, 10_000), range);
    expect(s.state).toBe('insufficient');
    expect(s.breaches).toEqual([]);
    expect(s.message).toBe(
      'too little service traffic to judge: 19 requests in the last 30s, SLO needs 20; neither advancing nor rolling back',
    );
  });

  it('a rate or p99 equal to its limit is within the SLO; above it is a breach with the numbers', () => {
    expect(judgeSlo('block', SLO, totals(20, 1, 500), range).state).toBe('ok');
    const s = judgeSlo('block', SLO, totals(20, 2, 750), range);
    expect(s.state).toBe('breach');
    expect(s.breaches).toEqual(['error rate 10% (2/20) > 5%', 'p99 750 ms > 500 ms']);
  });

  it('p99 in the overflow bucket is a breach', () => {
    expect(judgeSlo('block', SLO, totals(100, 0, Number.POSITIVE_INFINITY), range).breaches).toEqual([
      'p99 over the top latency bucket > 500 ms',
    ]);
  });
});

describe('startGuard (fake clock, real SQLite store)', () => {
  let fx: Fixture;
  let guard: Guard | undefined;
  afterEach(async () => {
    guard?.stop();
    guard = undefined;
    await fx?.close();
  });

  /** A canary route and a guard on a fake clock that starts after the route's last change (its seed). */
  async function canaryAt5() {
    fx = await routeFixture({ mode: 'canary', weight: 5 });
    const clock = new FakeClock(Date.now());
    guard = startGuard({
      config: fx.config,
      store: fx.store,
      logger: createLogger('test', 'silent'),
      clock,
      intervalMs: 1000,
    });
    return { clock, w0: windowStart(clock.now(), 1000) };
  }

  it('rolls a breaching canary back to shadow, audited as actor guard with the numbers', async () => {
    const { clock, w0 } = await canaryAt5();
    // Two proxy instances, both routing under the route's current version (1):
    // 12 + 13 requests; together 25 with 5 errors (20%).
    await fx.store.stats.add([serviceWindow(w0, 12, 2, 10, 'p1', 1), serviceWindow(w0, 13, 3, 10, 'p2', 1)]);
    await clock.advance(1000);
    const route = await fx.store.routes.get('block');
    expect(route).toMatchObject({ mode: 'shadow', weight: 0, actor: 'guard' });
    const row = (await fx.store.audit.list({ route: 'block' })).at(-1)!;
    expect(row).toMatchObject({
      actor: 'guard',
      action: 'guard.rollback',
      before: { mode: 'canary', weight: 5 },
      after: { mode: 'shadow' },
    });
    expect(row.reason).toContain('error rate 20% (5/25) > 5%');
    expect(row.details).toMatchObject({ slo: { state: 'breach', requests: 25, errors: 5 } });
    // Shadow sends no service traffic: later ticks leave it alone.
    await clock.advance(5000);
    expect((await fx.store.audit.list({ route: 'block' })).filter((e) => e.actor === 'guard')).toHaveLength(
      1,
    );
  });

  it('too little traffic to judge: no rollback even at a 100% error rate, and the decision says so', async () => {
    const { clock, w0 } = await canaryAt5();
    // Every request recorded under the current version counts, and 10 is still too few.
    await fx.store.stats.add([serviceWindow(w0, 10, 10, 10, 'p1', 1)]);
    await clock.advance(3000);
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'canary', weight: 5, version: 1 });
    const [d] = await guard!.tick();
    expect(d).toMatchObject({ action: 'none', status: { state: 'insufficient', requests: 10 } });
    expect(d.status.message).toContain('too little service traffic to judge');
  });

  it('a healthy canary (1% errors) is left alone', async () => {
    const { clock, w0 } = await canaryAt5();
    await fx.store.stats.add([serviceWindow(w0, 100, 1, 10, 'p1', 1)]);
    await clock.advance(2000);
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'canary', version: 1 });
    const [d] = await guard!.tick();
    expect(d.status).toMatchObject({ state: 'ok', requests: 100, errors: 1 });
  });

  it('judges a route only on traffic since its last change', async () => {
    const clock = new FakeClock();
    fx = await routeFixture({ mode: 'canary', weight: 5 });
    // Failures from before the route's current version (e.g. the traffic that
    // got it rolled back last time) must not roll back the re-flipped route.
    const old = windowStart(clock.now() - 10_000, 1000);
    await fx.store.stats.add([serviceWindow(old, 100, 100)]);
    guard = startGuard({
      config: fx.config,
      store: fx.store,
      logger: createLogger('test', 'silent'),
      clock,
      intervalMs: 1000,
    });
    await clock.advance(1000);
    expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'canary', version: 1 });
    const [d] = await guard!.tick();
    expect(d.status.state).toBe('insufficient');
  });

  /**
   * Issue 29: the window holding a flip also holds the traffic before it. A
   * proxy records each request under the route version that routed it, and
   * the guard counts only the current version's windows.
   */
  describe('judges only evidence recorded under the route version it would roll back (issue 29)', () => {
    /** Canary 5% (version 1) re-flipped to canary 10% (version 2); the guard starts after the flip. */
    async function reflipped() {
      fx = await routeFixture({ mode: 'canary', weight: 5 });
      const res = await flipRoute(
        fx.store,
        fx.config,
        { route: 'block', mode: 'canary', weight: 10, actor: 'alice', reason: 'next step', force: true },
        defaultFlipSteps(),
      );
      expect(res.after).toMatchObject({ mode: 'canary', weight: 10, version: 2 });
      const clock = new FakeClock(Date.now());
      guard = startGuard({
        config: fx.config,
        store: fx.store,
        logger: createLogger('test', 'silent'),
        clock,
        intervalMs: 1000,
      });
      return { clock, flipWindow: windowStart(Date.parse(res.after!.updatedAt), 1000) };
    }
    const guardRows = async () =>
      (await fx.store.audit.list({ route: 'block' })).filter((e) => e.actor === 'guard');

    it('errors recorded under version 1 just before the flip, in the same window, do not roll back version 2', async () => {
      const { clock, flipWindow } = await reflipped();
      await fx.store.stats.add([
        serviceWindow(flipWindow, 25, 25, 10, 'p1', 1), // v1's outage, seconds before the flip
        serviceWindow(flipWindow, 30, 0, 10, 'p1', 2), // v2 healthy since
      ]);
      await clock.advance(1000);
      expect(await fx.store.routes.get('block')).toMatchObject({ mode: 'canary', weight: 10, version: 2 });
      expect(await guardRows()).toEqual([]);
      const [d] = await guard!.tick();
      expect(d.status).toMatchObject({ state: 'ok', requests: 30, errors: 0 });
    });

    it("a breach of version 2 is rolled back with version 2's numbers only", async () => {
      const { clock, flipWindow } = await reflipped();
      await fx.store.stats.add([
        serviceWindow(flipWindow, 100, 0, 10, 'p1', 1), // healthy v1 traffic must not dilute v2's breach
        serviceWindow(flipWindow, 15, 3, 10, 'p1', 2),
        serviceWindow(flipWindow, 10, 2, 10, 'p2', 2),
      ]);
      await clock.advance(1000);
      expect(await fx.store.routes.get('block')).toMatchObject({
        mode: 'shadow',
        actor: 'guard',
        version: 3,
      });
      const [row] = await guardRows();
      expect(row.before).toMatchObject({ mode: 'canary', weight: 10, version: 2 });
      expect(row.reason).toContain('error rate 20% (5/25) > 5%');
      expect(row.details).toMatchObject({ slo: { state: 'breach', requests: 25, errors: 5 } });
    });

    it('windows stored before versions were recorded are judged by time, as before', async () => {
      const { clock, flipWindow } = await reflipped();
      await fx.store.stats.add([serviceWindow(flipWindow, 25, 5)]);
      await clock.advance(1000);
      const [row] = await guardRows();
      expect(row.reason).toContain('error rate 20% (5/25) > 5%');
    });
  });

  it('stop() cancels its timer', async () => {
    const { clock } = await canaryAt5();
    expect(clock.pending()).toBe(1);
    guard!.stop();
    expect(clock.pending()).toBe(0);
  });
});
