import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/main.js';
import type { Config } from '../../core/config.js';
import { gatherLatency } from '../../control/latency.js';
import type { LatencyData } from '../../control/latency-data.js';
import type { Store } from '../../store/types.js';
import { captureIO, tempDir } from '../helpers/tmp.js';
import { fillDemoStore, openDemoStore } from './store-data.js';

const tmp = tempDir('strangler-latency-');
const NOW = new Date('2026-03-01T12:00:00.000Z');
let store: Store;
let config: Readonly<Config>;

beforeAll(async () => {
  const opened = await openDemoStore(tmp.dir);
  store = opened.store;
  config = opened.config;
  await fillDemoStore(store, NOW.getTime());
});

afterAll(async () => {
  await store?.close();
  tmp.cleanup();
});

describe('gatherLatency reads percentiles per route and target from a real store', () => {
  let data: LatencyData;
  beforeAll(async () => {
    data = await gatherLatency(store, config, {
      since: NOW.getTime() - 2 * 3_600_000,
      now: NOW,
      stepMs: 3_600_000,
    });
  });

  it('gives each bin legacy and service percentiles side by side (bucket upper bounds)', () => {
    const block = data.routes.find((r) => r.id === 'block')!;
    expect(block.series).toEqual([
      {
        start: '2026-03-01T10:00:00.000Z',
        legacy: { requests: 100, p50: 5, p90: 5, p99: 50 },
        service: null,
      },
      {
        start: '2026-03-01T11:00:00.000Z',
        legacy: { requests: 20, p50: 5, p90: 5, p99: 5 },
        service: { requests: 80, p50: 2, p90: 2, p99: 30 },
      },
    ]);
    expect(block.overall.legacy).toEqual({ requests: 120, p50: 5, p90: 5, p99: 50 });
  });

  it('puts the shadow pairs beside live traffic and takes the p99 ratio from them (like for like)', () => {
    const block = data.routes.find((r) => r.id === 'block')!;
    expect(block.shadow).toEqual({
      pairs: 200,
      legacy: { requests: 200, p50: 3.2, p90: 3.2, p99: 3.2 },
      service: { requests: 200, p50: 1.1, p90: 1.1, p99: 9 },
    });
    expect(block.p99RatioSource).toBe('shadow');
    expect(block.p99Ratio).toBeCloseTo(9 / 3.2, 2);
    const feed = data.routes.find((r) => r.id === 'feed')!;
    expect(feed.shadow).toBeNull();
    expect(feed.p99Ratio).toBeNull();
  });

  it('narrows to one route, and names an unknown one', async () => {
    const one = await gatherLatency(store, config, {
      since: NOW.getTime() - 3_600_000,
      now: NOW,
      route: 'feed',
    });
    expect(one.routes.map((r) => r.id)).toEqual(['feed']);
    await expect(gatherLatency(store, config, { since: 0, now: NOW, route: 'nope' })).rejects.toThrow(
      /no route "nope"/,
    );
  });

  it('refuses a step that would make too many bins, naming --step', async () => {
    await expect(
      gatherLatency(store, config, { since: NOW.getTime() - 86_400_000, now: NOW, stepMs: 1000 }),
    ).rejects.toThrow(/--step/);
  });
});

describe('strangler report latency', () => {
  it('prints md for one route and exits 2 naming an unknown route', async () => {
    const c = captureIO(tmp.dir);
    expect(await run(['report', 'latency', 'block', '--format', 'md', '--since', '1h'], c.io)).toBe(0);
    expect(c.out()).toContain('## block (service)');
    expect(c.out()).toContain('| shadow pairs (200) |');
    expect(c.out()).not.toContain('## feed');
    const bad = captureIO(tmp.dir);
    expect(await run(['report', 'latency', 'nope'], bad.io)).toBe(2);
    expect(bad.err()).toContain('no route "nope"');
  });
});
