import { afterEach, describe, expect, it } from 'vitest';
import { readLiveTraffic } from '../../control/evidence.js';
import { StatsRecorder } from '../../proxy/stats-recorder.js';
import { BUCKET_COUNT, bucketIndex, bucketQuantile, LATENCY_BOUNDS_MS } from '../../store/stats-window.js';
import type { Store } from '../../store/types.js';
import { type Fixture, routeFixture } from '../control/fixtures.js';

describe('stats windows', () => {
  it('bucket layout: a duration lands in the first bucket whose bound is >= it; overflow goes last', () => {
    expect(BUCKET_COUNT).toBe(LATENCY_BOUNDS_MS.length + 1);
    expect(bucketIndex(0)).toBe(0);
    expect(bucketIndex(1)).toBe(0);
    expect(bucketIndex(1.01)).toBe(1);
    expect(LATENCY_BOUNDS_MS[bucketIndex(100)]).toBe(100);
    expect(bucketIndex(1e9)).toBe(BUCKET_COUNT - 1);
  });

  it('p99 from buckets is the bound of the bucket holding the 99th percentile', () => {
    const b = new Array(BUCKET_COUNT).fill(0);
    b[bucketIndex(10)] = 99;
    b[bucketIndex(800)] = 1;
    expect(bucketQuantile(b, 0.99)).toBe(10);
    b[bucketIndex(800)] = 2;
    expect(bucketQuantile(b, 0.99)).toBe(1000);
    expect(bucketQuantile(new Array(BUCKET_COUNT).fill(0), 0.99)).toBeUndefined();
  });
});

describe('StatsRecorder (real SQLite store)', () => {
  let fx: Fixture;
  afterEach(async () => fx?.close());

  it('two proxy instances flush into one store; readers see the sum of every instance', async () => {
    fx = await routeFixture();
    let now = 1_700_000_000_000;
    const a = new StatsRecorder(fx.store, 'proxy-a', 1000, () => now);
    const b = new StatsRecorder(fx.store, 'proxy-b', 1000, () => now);
    for (let i = 0; i < 30; i++) a.record('block', 1, 'service', 12, i % 10 !== 0, i % 10 === 0);
    for (let i = 0; i < 20; i++) b.record('block', 1, 'service', 700, true, false);
    b.record('block', 1, 'legacy', 5, true, false);
    await a.flush();
    now += 400; // same window, flushed in two pieces
    for (let i = 0; i < 10; i++) a.record('block', 1, 'service', 12, true, false);
    await Promise.all([a.close(), b.close()]);
    const live = await readLiveTraffic(fx.store, 'block', 'service', now - 5000, now, 1);
    expect(live).toMatchObject({ requests: 60, errors: 3, failovers: 3, p99Ms: 750 });
    const windows = await fx.store.stats.query({ route: 'block', since: 0 });
    expect(windows.map((w) => [w.instance, w.target, w.requests])).toEqual(
      expect.arrayContaining([
        ['proxy-a', 'service', 40],
        ['proxy-b', 'service', 20],
        ['proxy-b', 'legacy', 1],
      ]),
    );
    expect(windows.every((w) => w.start % 1000 === 0 && w.durationMs === 1000)).toBe(true);
  });

  it('a flip mid-window starts a new window: readers of version 2 never see what version 1 recorded', async () => {
    fx = await routeFixture();
    const now = 1_700_000_000_000;
    const r = new StatsRecorder(fx.store, 'p', 1000, () => now);
    for (let i = 0; i < 20; i++) r.record('block', 1, 'service', 12, false, false);
    // The proxy saw the flip: same window, same target, the new version.
    for (let i = 0; i < 5; i++) r.record('block', 2, 'service', 12, true, false);
    r.record('block', 1, 'service', 12, false, false); // a request routed by the old table, finishing late
    await r.close();
    const windows = await fx.store.stats.query({ route: 'block', since: 0 });
    expect(windows.map((w) => [w.start, w.version, w.requests, w.errors])).toEqual([
      [now, 1, 21, 21],
      [now, 2, 5, 0],
    ]);
    expect(await readLiveTraffic(fx.store, 'block', 'service', now, now, 2)).toMatchObject({
      requests: 5,
      errors: 0,
    });
  });

  it('keeps the counts when the store refuses a flush and writes them on the next one', async () => {
    fx = await routeFixture();
    let fail = true;
    const flaky = {
      ...fx.store,
      stats: {
        add: async (w: Parameters<Store['stats']['add']>[0]) => {
          if (fail) throw new Error('store away');
          return fx.store.stats.add(w);
        },
        query: fx.store.stats.query.bind(fx.store.stats),
      },
    } as Store;
    const r = new StatsRecorder(flaky, 'p', 1000, () => 5000);
    r.record('block', 1, 'service', 3, true, false);
    await r.flush();
    r.record('block', 1, 'service', 3, false, true);
    fail = false;
    await r.close();
    const [w] = await fx.store.stats.query({ route: 'block', since: 0 });
    expect(w).toMatchObject({ requests: 2, errors: 1, failovers: 1, start: 5000 });
  });

  it('rejects a flush interval that is not a positive whole number', async () => {
    fx = await routeFixture();
    expect(() => new StatsRecorder(fx.store, 'p', 0)).toThrow(/flushMs: expected a positive whole number/);
  });
});
