/**
 * A real SQLite store filled with known evidence for the gatherer tests:
 * routes flipped through the store, stats windows with latencies in known
 * buckets, shadow pairs, breaker audit rows, a saved plan and load test.
 */
import path from 'node:path';
import { seedFromConfig } from '../../cli/context.js';
import { type Config, loadConfig } from '../../core/config.js';
import type { Target } from '../../core/types.js';
import { openStore } from '../../store/open.js';
import { bucketIndex, emptyBuckets } from '../../store/stats-window.js';
import type { ShadowBatch, StatsWindow, Store } from '../../store/types.js';
import { demoConfigYaml, writeConfig } from '../helpers/tmp.js';
import { LOADTEST } from './fixtures.js';

export const FEED_ROUTE = `  - id: feed
    match: { path: /api/feed/*, methods: [GET] }
    service: block-service
    module: monolith.feed
    mode: legacy
`;

export function window(
  route: string,
  target: Target,
  start: number,
  latencies: number[],
  errors = 0,
): StatsWindow {
  const buckets = emptyBuckets();
  for (const ms of latencies) buckets[bucketIndex(ms)]++;
  return {
    route,
    target,
    instance: 'test:1',
    start,
    durationMs: 5000,
    requests: latencies.length,
    errors,
    failovers: 0,
    buckets,
  };
}

export function shadowBatch(
  compared: number,
  matched: number,
  legacy: number[],
  service: number[],
): ShadowBatch {
  return {
    compared,
    matched,
    skipped: {},
    fieldDiffs: {},
    fieldNoise: {},
    noisePairs: 0,
    latency: { legacy, service },
    errors: { legacy: 0, service: 0 },
    samples: [],
  };
}

/** n copies of ms. */
export const times = (n: number, ms: number) => new Array<number>(n).fill(ms);

export async function openDemoStore(
  dir: string,
): Promise<{ config: Readonly<Config>; store: Store; configFile: string }> {
  const configFile = writeConfig(
    dir,
    demoConfigYaml({ store: `sqlite:${path.join(dir, 'state.db')}`, extraRoute: FEED_ROUTE }),
  );
  const config = loadConfig(configFile);
  const store = await openStore(config.store);
  await seedFromConfig(store, config);
  return { config, store, configFile };
}

/**
 * block: flipped to service (so monolith.block is extracted), 200 shadow
 * pairs of which 199 matched, breaker opened then closed, a saved load test;
 * feed: legacy, traffic only. Windows at `now - 90 min` and `now - 30 min`.
 */
export async function fillDemoStore(store: Store, now: number): Promise<void> {
  await store.routes.flip({
    route: 'block',
    mode: 'service',
    weight: 100,
    actor: 'tester',
    reason: 'gate passed',
  });
  const early = now - 90 * 60_000;
  const late = now - 30 * 60_000;
  await store.stats.add([
    // before the range: must not count
    window('block', 'legacy', now - 5 * 3_600_000, times(1000, 1)),
    window('block', 'legacy', early, [...times(95, 4), ...times(5, 40)]),
    window('feed', 'legacy', early, times(100, 12)),
    window('block', 'legacy', late, times(20, 4)),
    window('block', 'service', late, [...times(78, 2), ...times(2, 25)], 1),
    window('feed', 'legacy', late, times(100, 12)),
  ]);
  await store.shadow.record('block', shadowBatch(200, 199, times(200, 3.2), [...times(197, 1.1), 9, 9, 9]));
  await store.audit.append({
    actor: 'proxy',
    route: 'block',
    action: 'breaker.open',
    before: null,
    after: null,
    reason: 'errors',
  });
  await store.audit.append({
    actor: 'proxy',
    route: 'block',
    action: 'breaker.close',
    before: null,
    after: null,
    reason: 'recovered',
  });
  await store.results.put('loadtest', 'block', LOADTEST);
  await store.results.put('plan', 'plan', {
    order: ['monolith.block', 'monolith.i18n', 'monolith.chat', 'monolith.feed', 'monolith.users'],
    modules: [
      { name: 'monolith.block', wave: 1, rank: 1, reasons: ['depends on db only'] },
      { name: 'monolith.i18n', wave: 1, rank: 2, reasons: ['no imports', 'few callers'] },
      { name: 'monolith.chat', wave: 2, rank: 3, reasons: ['uses block'] },
    ],
  });
}
