/** The route page's match rate and paired latency over time, from the store's running totals. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { nextPoint, ShadowTimeline } from '../../control/shadow-timeline.js';
import { openStore } from '../../store/open.js';
import { shadowBatch } from '../control/fixtures.js';
import { type ShadowEvidence, emptyShadowBatch } from '../../store/types.js';
import { demoConfigYaml, runCli, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir();
const route = loadConfig(writeConfig(tmp.dir, demoConfigYaml({ store: 'sqlite:x.db' }))).routes[0];
tmp.cleanup();

function ev(
  compared: number,
  matched: number,
  legacy: number[],
  service: number[],
  extra: Partial<ShadowEvidence> = {},
): ShadowEvidence {
  return { route: 'block', ...emptyShadowBatch(), compared, matched, latency: { legacy, service }, ...extra };
}

describe('shadow timeline points', () => {
  it('rates and latency of the comparisons since the previous point, beside the running totals', () => {
    const p1 = nextPoint(undefined, ev(10, 10, Array(10).fill(2), Array(10).fill(3)), route, 1000);
    expect(p1).toMatchObject({
      compared: 10,
      matched: 10,
      matchRate: 1,
      interval: { compared: 10, matchRate: 1 },
    });
    // 10 more, 5 of them mismatched on a real field; their latencies are the reservoir's tail.
    const p2 = nextPoint(
      p1,
      ev(
        20,
        15,
        [...Array(10).fill(2), ...Array(10).fill(40)],
        [...Array(10).fill(3), ...Array(10).fill(90)],
        {
          fieldDiffs: { '$.tier': 5 },
          mismatchSets: { '$.tier': 5 },
        },
      ),
      route,
      2000,
    );
    expect(p2).toMatchObject({
      compared: 20,
      matched: 15,
      matchRate: 0.75,
      interval: { compared: 10, matchRate: 0.5 },
    });
    expect(p2.latency).toEqual({ legacy: { p50: 40, p99: 40 }, service: { p50: 90, p99: 90 } });
    // Nothing new: no interval rate, no interval latency.
    const p3 = nextPoint(
      p2,
      ev(20, 15, [], [], { fieldDiffs: { '$.tier': 5 }, mismatchSets: { '$.tier': 5 } }),
      route,
      3000,
    );
    expect(p3.interval).toEqual({ compared: 0, matchRate: null });
    expect(p3.latency).toEqual({ legacy: null, service: null });
  });

  it('starts over after a reset instead of showing negative counts', () => {
    const before = nextPoint(undefined, ev(100, 90, [1], [1]), route, 1000);
    const after = nextPoint(before, ev(4, 4, [1, 1, 1, 1], [2, 2, 2, 2]), route, 2000);
    expect(after.interval).toEqual({ compared: 4, matchRate: 1 });
  });
});

describe('the match-rate timeline after `strangler shadow reset` (issue 26)', () => {
  it('starts over with the numbers beside it, even when new comparisons passed the old total first', async () => {
    const dir = tempDir('strangler-timeline-reset-');
    try {
      writeConfig(dir.dir, demoConfigYaml({ store: 'sqlite:state.db' }));
      expect((await runCli(dir.dir, { STRANGLER_ACTOR: 'tester' }, ['seed'])).code).toBe(0);
      const config = loadConfig(path.join(dir.dir, 'strangler.yaml'));
      const store = await openStore(config.store);
      let now = Date.now() - 60_000;
      const timeline = new ShadowTimeline(store, config, undefined, () => now);
      try {
        await store.shadow.record('block', shadowBatch({ compared: 100, matched: 50 }));
        await timeline.sampleAll();
        now += 5000;
        await store.shadow.record('block', shadowBatch({ compared: 20, matched: 10 }));
        await timeline.sampleAll();
        expect(timeline.points('block').map((p) => p.compared)).toEqual([100, 120]);
        // The real CLI resets; then more comparisons than before arrive before the next snapshot.
        const reset = await runCli(dir.dir, { STRANGLER_ACTOR: 'tester' }, ['shadow', 'reset', 'block']);
        expect(reset.code, reset.err).toBe(0);
        await store.shadow.record('block', shadowBatch({ compared: 150, matched: 150 }));
        now = Date.now() + 1000;
        await timeline.sampleAll();
        const pts = timeline.points('block');
        expect(pts.map((p) => p.compared)).toEqual([150]);
        expect(pts[0].matchRate).toBe(1);
        expect(pts[0].interval).toEqual({ compared: 150, matchRate: 1 });
      } finally {
        timeline.stop();
        await store.close();
      }
    } finally {
      dir.cleanup();
    }
  });
});
