/**
 * Issue 17, `report progress` as a new user meets it minutes into a
 * migration: the default range starts at the first recorded traffic (not 24
 * hourly bins of which 23 are empty), the current bin is marked partial, a
 * chart with nothing to draw says "no data", and an HTML page says when it
 * was generated once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatherLatency } from '../../control/latency.js';
import { gatherProgress } from '../../control/progress.js';
import { renderLatency } from '../../reports/latency/index.js';
import { renderProgress } from '../../reports/progress/index.js';
import type { Config } from '../../core/config.js';
import type { Store } from '../../store/types.js';
import { tempDir } from '../helpers/tmp.js';
import { openDemoStore, times, window } from './store-data.js';

const tmp = tempDir('strangler-progress-window-');
// Half way through a minute, so the last one-minute bin is still filling.
const NOW = new Date('2026-03-01T12:05:30.000Z');
const DAY = 24 * 3_600_000;
let store: Store;
let config: Readonly<Config>;

beforeAll(async () => {
  ({ store, config } = await openDemoStore(tmp.dir));
  // Traffic over the last five minutes only, as in a migration started just now.
  await store.stats.add([
    window('block', 'legacy', NOW.getTime() - 5 * 60_000, times(30, 8)),
    window('block', 'service', NOW.getTime() - 2 * 60_000, times(20, 9)),
    window('feed', 'legacy', NOW.getTime() - 10_000, times(10, 7)),
  ]);
});

afterAll(async () => {
  await store?.close();
  tmp.cleanup();
});

const fitted = () => ({ since: NOW.getTime() - DAY, now: NOW, fit: true });

describe('report progress without --since', () => {
  it('starts at the first recorded traffic, in one-minute bins', async () => {
    const d = await gatherProgress(store, config, fitted());
    expect(d.since).toBe('2026-03-01T12:00:30.000Z');
    expect(d.stepMs).toBe(60_000);
    expect(d.traffic.map((p) => p.start)).toEqual([
      '2026-03-01T12:00:00.000Z',
      '2026-03-01T12:01:00.000Z',
      '2026-03-01T12:02:00.000Z',
      '2026-03-01T12:03:00.000Z',
      '2026-03-01T12:04:00.000Z',
      '2026-03-01T12:05:00.000Z',
    ]);
    expect(d.totals).toMatchObject({ legacy: 40, service: 20 });
  });

  it('with --since, keeps the range asked for', async () => {
    const d = await gatherProgress(store, config, { since: NOW.getTime() - DAY, now: NOW });
    expect(d.stepMs).toBe(3_600_000);
    expect(d.traffic).toHaveLength(25);
  });

  it('marks the current bin partial, in the data and in the text', async () => {
    const d = await gatherProgress(store, config, fitted());
    expect(d.traffic.filter((p) => p.partial).map((p) => p.start)).toEqual(['2026-03-01T12:05:00.000Z']);
    const text = renderProgress(d, 'text', { now: NOW }).output;
    expect(text).toMatch(/^2026-03-01T12:05:00\.000Z \(partial\)\s+10\s+0\s+0\.0%$/m);
    // Bins without traffic are left out of the text table (json and html keep the whole series).
    expect(text).not.toContain('2026-03-01T12:04:00.000Z');
    expect(text).toMatch(/^2026-03-01T12:03:00\.000Z\s+0\s+20\s+100\.0%$/m);
    expect(text).toContain('Traffic over time (3 of 6 1m bins: those with traffic, and the current one):');
  });

  it('says "no data" instead of drawing an empty chart, and "generated" once', async () => {
    const empty = await gatherProgress(store, config, {
      since: Date.parse('2026-02-01T00:00:00Z'),
      now: new Date('2026-02-01T06:00:00Z'),
      fit: true,
    });
    expect(empty.totals).toMatchObject({ legacy: 0, service: 0 });
    const html = renderProgress(empty, 'html', { now: NOW }).output;
    expect(html).toContain('<p class="muted no-data" id="progress-traffic">no data</p>');
    expect(html).toContain('<p class="muted no-data" id="progress-share">no data</p>');
    expect(html).not.toContain('<canvas id="progress-traffic"');
    expect(html).not.toContain('"id":"progress-traffic"'); // and no script draws it
    expect(html).toContain('<canvas id="progress-modes"');
    expect(html.match(/generated /g)).toHaveLength(1);

    const full = renderProgress(await gatherProgress(store, config, fitted()), 'html', { now: NOW }).output;
    expect(full).toContain('<canvas id="progress-traffic"');
    expect(full).toContain('12:05 (partial)');
  });

  it('report latency: the same fitted range, "no data" for a route without traffic, "generated" once', async () => {
    const d = await gatherLatency(store, config, fitted());
    expect(d.stepMs).toBe(60_000);
    const html = renderLatency(d, 'html', { now: NOW }).output;
    expect(html.match(/generated /g)).toHaveLength(1);
    const quiet = await gatherLatency(store, config, {
      since: Date.parse('2026-02-01T00:00:00Z'),
      now: new Date('2026-02-01T06:00:00Z'),
    });
    const none = renderLatency(quiet, 'html', { now: NOW }).output;
    expect(none).toContain('id="latency-0">no data</p>');
    expect(none).not.toContain('<canvas');
  });
});
