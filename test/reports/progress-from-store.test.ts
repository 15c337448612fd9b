import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/main.js';
import { gatherProgress } from '../../control/progress.js';
import type { ProgressData } from '../../control/progress-data.js';
import type { Store } from '../../store/types.js';
import { mismatchSetKey } from '../../shadow/noise.js';
import { emptyShadowBatch } from '../../store/types.js';
import { captureIO, tempDir } from '../helpers/tmp.js';
import { fillDemoStore, openDemoStore } from './store-data.js';

const tmp = tempDir('strangler-progress-');
const NOW = new Date('2026-03-01T12:00:00.000Z');
let store: Store;
let data: ProgressData;
let configFile: string;
let config: Awaited<ReturnType<typeof openDemoStore>>['config'];

beforeAll(async () => {
  const opened = await openDemoStore(tmp.dir);
  store = opened.store;
  configFile = opened.configFile;
  config = opened.config;
  await fillDemoStore(store, NOW.getTime());
  data = await gatherProgress(store, opened.config, {
    since: NOW.getTime() - 2 * 3_600_000,
    now: NOW,
    stepMs: 3_600_000,
  });
});

afterAll(async () => {
  await store?.close();
  tmp.cleanup();
});

describe('gatherProgress reads the migration from a real store', () => {
  it('counts routes per mode from the store, not the config', () => {
    expect(data.modes).toEqual({ legacy: 1, shadow: 0, canary: 0, service: 1 });
  });

  it('bins the traffic each side served, leaving out windows before the range', () => {
    expect(data.traffic).toEqual([
      { start: '2026-03-01T10:00:00.000Z', legacy: 200, service: 0 },
      { start: '2026-03-01T11:00:00.000Z', legacy: 120, service: 80 },
    ]);
    expect(data.totals).toEqual({ legacy: 320, service: 80, serviceShare: 0.2 });
  });

  it('gives per route its mode, match rate, p99 per target (bucket bound), breaker, last change and load test', () => {
    const block = data.routes.find((r) => r.id === 'block')!;
    expect(block).toMatchObject({
      mode: 'service',
      weight: 100,
      version: 2,
      module: 'monolith.block',
      matchRate: 0.995,
      compared: 200,
      requests: { legacy: 120, service: 80 },
      errors: { legacy: 0, service: 1 },
      // 5 of 120 legacy answers took 40 ms: p99 falls in the (30, 50] bucket; service 2 of 80 at 25 ms: (20, 30].
      p99Ms: { legacy: 50, service: 30 },
      breaker: { state: 'closed' },
      lastChange: { actor: 'tester', reason: 'gate passed' },
      loadtest: { serviceOverLegacyP99: 0.417, serviceOverLegacyRps: 2.177 },
    });
    const feed = data.routes.find((r) => r.id === 'feed')!;
    expect(feed).toMatchObject({
      mode: 'legacy',
      matchRate: null,
      // Issue 26: a failover route whose breaker never changed is closed, as GET /routes says, not '-'.
      breaker: { state: 'closed', at: null },
      loadtest: null,
      p99Ms: { legacy: 15, service: null },
    });
  });

  it('shows the plan’s next candidates, skipping modules already served by their service', () => {
    expect(data.plan?.candidates.map((c) => c.module)).toEqual([
      'monolith.i18n',
      'monolith.chat',
      'monolith.feed',
    ]);
    expect(data.plan?.candidates[0]).toEqual({
      module: 'monolith.i18n',
      wave: 1,
      rank: 2,
      reasons: ['no imports', 'few callers'],
    });
  });
});

describe('strangler report progress', () => {
  it('prints JSON of the same shape, and writes html to --out', async () => {
    const c = captureIO(tmp.dir);
    expect(await run(['report', 'progress', '--config', configFile, '--format', 'json'], c.io)).toBe(0);
    const json: ProgressData = JSON.parse(c.out());
    expect(json.routes.map((r) => r.id)).toEqual(['block', 'feed']);
    expect(json.modes.service).toBe(1);
    expect(json.plan?.candidates[0].module).toBe('monolith.i18n');

    const h = captureIO(tmp.dir);
    const code = await run(['report', 'progress', '--format', 'html', '--out', 'progress.html'], h.io);
    expect(h.err()).toBe('progress report written to progress.html\n');
    expect(code).toBe(0);
    expect(h.out()).toBe('');
    const html = readFileSync(path.join(tmp.dir, 'progress.html'), 'utf8');
    // The stored traffic is from 2026-03-01, outside the last 24 h: the charts say so instead of drawing empty axes.
    expect(html).toContain('<p class="muted no-data" id="progress-traffic">no data</p>');
    expect(html).toContain('<canvas id="progress-modes"');
    expect(html).not.toMatch(/<script[^>]+src=/);
  });

  it('names a bad --format', async () => {
    const c = captureIO(tmp.dir);
    expect(await run(['report', 'progress', '--format', 'pdf'], c.io)).toBe(2);
    expect(c.err()).toContain('--format: expected one of text, md, json, html, got "pdf"');
  });

  // Regression: the progress report showed the exact-match rate (0% on the demo,
  // where every answer differs in a timestamp) while the gate and the shadow
  // report showed the rate after noise (100%).
  it('shows the match rate after noise, as the gate and the shadow report do', async () => {
    await store.shadow.reset('feed');
    await store.shadow.record('feed', {
      ...emptyShadowBatch(),
      compared: 10,
      fieldDiffs: { '$.generated_at': 10 },
      fieldNoise: { '$.generated_at': 4 },
      noisePairs: 4,
      mismatchSets: { [mismatchSetKey(['$.generated_at'])]: 10 },
    });
    const again = await gatherProgress(store, config, {
      since: NOW.getTime() - 2 * 3_600_000,
      now: NOW,
      stepMs: 3_600_000,
    });
    expect(again.routes.find((r) => r.id === 'feed')).toMatchObject({ compared: 10, matchRate: 1 });
  });
});
