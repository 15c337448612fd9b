import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderLatencyHtml } from '../../reports/latency/index.js';
import { renderLoadtestHtml } from '../../reports/loadtest/index.js';
import { renderProgressHtml } from '../../reports/progress/index.js';
import { type Browser, browserAvailability, launchBrowser } from '../helpers/browser.js';
import { LATENCY, LOADTEST, NOW, PROGRESS } from './fixtures.js';

const availability = browserAvailability();

describe.skipIf(!availability.run)('HTML reports in headless Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    if (availability.failReason) throw new Error(availability.failReason);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  // The checks below must be able to fail: a blank canvas, a script error and a
  // remote fetch are each seen.
  it('sees an undrawn canvas, a script error and a network fetch', async () => {
    const res = await browser.check(
      `<!doctype html><title>t</title><canvas id="blank" width="50" height="50"></canvas>
<img src="http://192.0.2.1/x.png"><script>throw new Error('boom')</script>`,
      'negative',
    );
    expect(res.canvases).toEqual([{ id: 'blank', width: 50, height: 50, painted: 0 }]);
    expect(res.errors.join('\n')).toContain('boom');
    expect(res.networkRequests).toEqual(['http://192.0.2.1/x.png']);
  });

  const pages = [
    { name: 'progress', html: () => renderProgressHtml(PROGRESS, { now: NOW }).output, charts: 3 },
    {
      name: 'latency',
      html: () => renderLatencyHtml(LATENCY, { now: NOW }).output,
      // A route with no traffic in the range says "no data" instead of drawing an empty chart.
      charts: LATENCY.routes.filter((r) => r.series.some((p) => p.legacy || p.service)).length,
    },
    { name: 'loadtest', html: () => renderLoadtestHtml(LOADTEST, { now: NOW }).output, charts: 2 },
  ];

  for (const p of pages) {
    it(`${p.name}: every chart draws, offline, with no console errors`, async () => {
      const res = await browser.check(p.html(), p.name);
      expect(res.errors).toEqual([]);
      expect(res.networkRequests).toEqual([]);
      expect(res.canvases).toHaveLength(p.charts);
      for (const c of res.canvases) {
        expect(c.width, `canvas ${c.id} width`).toBeGreaterThan(0);
        // Axes, labels and bars/lines: a drawn chart paints far more than a handful of pixels.
        expect(c.painted, `canvas ${c.id} painted pixels`).toBeGreaterThan(500);
      }
    });
  }
});
