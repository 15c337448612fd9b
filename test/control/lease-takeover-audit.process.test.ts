/**
 * Issue 29: who drives rollouts and guard rollbacks was nowhere in the audit
 * log. Each change of the guard lease's holder is a `lease.takeover` row
 * naming the previous and the new holder; the same holder re-acquiring
 * writes nothing, and a lost store gets no row. `strangler seed` finds live
 * proxies by the lease, heartbeats and the lost mark (control/heartbeat.ts).
 * Real SQLite store, real lease timers (short TTLs).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { liveProxies, startHeartbeat } from '../../control/heartbeat.js';
import { GUARD_LEASE, recordTakeover, startGuardWhenLeader } from '../../control/leader.js';
import { createLogger } from '../../core/log.js';
import { until } from '../integrity/helpers.js';
import { type Fixture, routeFixture } from './fixtures.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const takeovers = async (f: Fixture) =>
  (await f.store.audit.list({ action: 'lease.takeover' })).map((e) => e.details);

describe('lease.takeover rows', () => {
  it('name the previous and the new holder; the same holder again writes nothing', async () => {
    fx = await routeFixture();
    const f = fx;
    const logger = createLogger('test', 'silent');
    const a = startGuardWhenLeader({
      config: f.config,
      store: f.store,
      logger,
      holder: 'h1:11:aa',
      ttlMs: 300,
    });
    await until('a leads', () => a.isLeader(), 5_000);
    await until('a recorded', async () => (await takeovers(f)).length === 1, 5_000);
    await a.stop();
    const b = startGuardWhenLeader({
      config: f.config,
      store: f.store,
      logger,
      holder: 'h2:22:bb',
      ttlMs: 300,
    });
    try {
      await until('b leads', () => b.isLeader(), 5_000);
      await until('b recorded', async () => (await takeovers(f)).length === 2, 5_000);
      expect(await takeovers(f)).toEqual([
        { lease: GUARD_LEASE, previous: null, holder: 'h1:11:aa' },
        { lease: GUARD_LEASE, previous: 'h1:11:aa', holder: 'h2:22:bb' },
      ]);
      const row = (await f.store.audit.list({ action: 'lease.takeover' })).at(-1)!;
      expect(row.reason).toContain('h2:22:bb took the guard lease over from h1:11:aa');
      await recordTakeover(f.store, GUARD_LEASE, 'h2:22:bb');
      expect(await takeovers(f)).toHaveLength(2);
    } finally {
      await b.stop();
    }
  });

  it('a store marked lost gets no row', async () => {
    fx = await routeFixture();
    await fx.store.markLost({ lastVersion: 1, noticedBy: 'h:1', reason: 'test' });
    await recordTakeover(fx.store, GUARD_LEASE, 'h3:33:cc');
    expect(await takeovers(fx)).toEqual([]);
  });
});

describe('liveProxies (what `strangler seed` refuses over)', () => {
  it('a heartbeat is live until its clean stop; the lease holder is live; a dead local pid is not', async () => {
    fx = await routeFixture();
    const f = fx;
    const hb = startHeartbeat(f.store, { instance: 'elsewhere:4242', everyMs: 60_000 });
    await until('the heartbeat', async () => (await liveProxies(f.store)).length === 1, 5_000);
    expect(await liveProxies(f.store)).toEqual([
      { instance: 'elsewhere:4242', why: expect.stringMatching(/^reported \d+s ago$/) },
    ]);
    await hb.stop();
    expect(await liveProxies(f.store)).toEqual([]);
    // A heartbeat older than a minute is not live.
    const old = startHeartbeat(f.store, { instance: 'elsewhere:5151', everyMs: 60_000 });
    await old.stop();
    expect(await liveProxies(f.store, Date.now() + 61_000)).toEqual([]);

    await f.store.lease.acquire(GUARD_LEASE, 'remote:77:xy', 10_000);
    expect(await liveProxies(f.store)).toEqual([{ instance: 'remote:77', why: 'holds the guard lease' }]);
    await f.store.lease.release(GUARD_LEASE, 'remote:77:xy');
    // This machine's pid that does not exist: known dead, whatever the mark's time says.
    const { hostname } = await import('node:os');
    await f.store.markLost({ lastVersion: 1, noticedBy: `${hostname()}:2147483646`, reason: 'test' });
    expect(await liveProxies(f.store)).toEqual([]);
  });
});
