import { afterEach, describe, expect, it } from 'vitest';
import { startRollout } from '../../control/canary.js';
import { describeRoute, describeRoutes, statusCells } from '../../control/route-status.js';
import { windowStart } from '../../store/stats-window.js';
import { type Fixture, routeFixture, serviceWindow, shadowBatch } from './fixtures.js';

describe('describeRoute: gate verdict, SLO status, rollout and last change per route', () => {
  let fx: Fixture;
  afterEach(async () => fx?.close());

  it('a shadow route: gate verdict for the next step, SLO not judged', async () => {
    fx = await routeFixture({ mode: 'shadow' });
    await fx.store.shadow.record('block', shadowBatch({ compared: 50 }));
    const s = await describeRoute(fx.store, fx.config, 'block');
    expect(s).toMatchObject({
      mode: 'shadow',
      weight: 0,
      version: 1,
      lastChange: { actor: 'config', reason: 'seeded from config' },
    });
    expect(statusCells(s)).toEqual({ gate: 'refused: minCompared', slo: '-', rollout: '-' });
    expect(s.gate!.summary).toContain('compared 50 shadow pairs, gate needs at least 100');
  });

  it('a canary route with thin traffic says so; with a breach it says breach; a rollout shows its step', async () => {
    fx = await routeFixture({ mode: 'canary', weight: 5 });
    await fx.store.shadow.record('block', shadowBatch({ compared: 500 }));
    const now = Date.now();
    await fx.store.stats.add([serviceWindow(windowStart(now, 1000), 5, 0)]);
    expect(statusCells(await describeRoute(fx.store, fx.config, 'block', now))).toEqual({
      gate: 'pass',
      slo: 'too little traffic (5/20)',
      rollout: '-',
    });
    await fx.store.stats.add([serviceWindow(windowStart(now, 1000), 30, 10)]);
    await startRollout(fx.store, fx.config, {
      route: 'block',
      steps: [25, 50],
      intervalMs: 60_000,
      actor: 'ops',
    });
    const [s] = await describeRoutes(fx.store, fx.config, now);
    expect(statusCells(s)).toEqual({ gate: 'refused: liveErrorRate', slo: 'breach', rollout: 'running 0/2' });
    expect(s.slo.breaches[0]).toBe('error rate 28.57% (10/35) > 5%');
  });

  it('a service route has nothing left to gate', async () => {
    fx = await routeFixture({ mode: 'service' });
    expect(statusCells(await describeRoute(fx.store, fx.config, 'block'))).toMatchObject({
      gate: '-',
      slo: 'too little traffic (0/20)',
    });
    await expect(describeRoute(fx.store, fx.config, 'nope')).rejects.toThrow(/no route "nope"/);
  });
});
