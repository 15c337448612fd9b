/** Shared set-up for control tests: a real SQLite store in a temp dir, one route, a fake clock. */
import type { Clock } from '../../control/clock.js';
import { type Config, parseConfig } from '../../core/config.js';
import type { Mode } from '../../core/types.js';
import { openStore } from '../../store/open.js';
import { emptyBuckets, bucketIndex } from '../../store/stats-window.js';
import type { ShadowBatch, StatsWindow, Store } from '../../store/types.js';
import { tempDir } from '../helpers/tmp.js';

export interface Fixture {
  config: Readonly<Config>;
  store: Store;
  dir: string;
  close(): Promise<void>;
}

export async function routeFixture(
  opts: { mode?: Mode; weight?: number; route?: Record<string, unknown>; statsFlushMs?: number } = {},
): Promise<Fixture> {
  const tmp = tempDir('strangler-control-');
  const mode = opts.mode ?? 'shadow';
  const config = parseConfig({
    store: `sqlite:${tmp.dir}/state.db`,
    legacy: { url: 'http://127.0.0.1:1' },
    services: { 'block-service': { url: 'http://127.0.0.1:2' } },
    proxy: { statsFlushMs: opts.statsFlushMs ?? 1000 },
    routes: [
      {
        id: 'block',
        match: { path: '/api/block/*' },
        service: 'block-service',
        mode,
        weight: opts.weight ?? 0,
        gate: { minCompared: 100, minMatchRate: 0.99, maxP99Ratio: 1.5, maxErrorRate: 0.01 },
        slo: { maxErrorRate: 0.05, maxP99Ms: 500, window: '30s', minRequests: 20 },
        ...opts.route,
      },
    ],
  });
  const store = await openStore(config.store);
  await store.routes.seed(
    [{ id: 'block', mode, weight: mode === 'service' ? 100 : (opts.weight ?? 0) }],
    'config',
  );
  return {
    config,
    store,
    dir: tmp.dir,
    async close() {
      await store.close();
      tmp.cleanup();
    },
  };
}

/** A shadow batch of `compared` pairs, `matched` of them equal, with the given latencies. */
export function shadowBatch(o: {
  compared: number;
  matched?: number;
  legacyMs?: number;
  serviceMs?: number;
  serviceErrors?: number;
}): ShadowBatch {
  return {
    compared: o.compared,
    matched: o.matched ?? o.compared,
    skipped: {},
    fieldDiffs: {},
    fieldNoise: {},
    noisePairs: 0,
    latency: {
      legacy: new Array(o.compared).fill(o.legacyMs ?? 10),
      service: new Array(o.compared).fill(o.serviceMs ?? 10),
    },
    errors: { legacy: 0, service: o.serviceErrors ?? 0 },
    samples: [],
  };
}

/** One stats window of service traffic: `requests` at `ms` each, `errors` of them failed. */
export function serviceWindow(
  start: number,
  requests: number,
  errors: number,
  ms = 10,
  instance = 'p1',
  /** The route version the proxy recorded it under; omitted, a window stored before versions were recorded. */
  version?: number,
): StatsWindow {
  const buckets = emptyBuckets();
  buckets[bucketIndex(ms)] = requests;
  return {
    route: 'block',
    target: 'service',
    instance,
    start,
    ...(version === undefined ? {} : { version }),
    durationMs: 1000,
    requests,
    errors,
    failovers: errors,
    buckets,
  };
}

/**
 * A clock whose time moves only when the test says so. advance() fires due
 * timers in order and lets the promise chains they start run to completion
 * (the store is SQLite: its async methods settle within a few macrotasks).
 */
export class FakeClock implements Clock {
  private seq = 0;
  private timers: Array<{ id: number; at: number; fn: () => void }> = [];
  constructor(public t: number = Date.now()) {}

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.push({ id, at: this.t + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  pending(): number {
    return this.timers.length;
  }

  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

export async function settle(rounds = 30): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
