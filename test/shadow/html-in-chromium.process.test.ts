import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHADOW_REPORTERS } from '../../reports/shadow/index.js';
import { type Browser, browserAvailability, launchBrowser } from '../helpers/browser.js';
import { REPORT_DATA } from './fixtures.js';

const availability = browserAvailability();

describe.skipIf(!availability.run)('shadow HTML report in headless Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    if (availability.failReason) throw new Error(availability.failReason);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('draws a latency chart per route, offline, with no console errors', async () => {
    const res = await browser.check(SHADOW_REPORTERS.html(REPORT_DATA).output, 'shadow');
    expect(res.errors).toEqual([]);
    expect(res.networkRequests).toEqual([]);
    expect(res.canvases.map((c) => c.id)).toEqual(['latency-0', 'latency-1']);
    // The route with samples draws bars; a drawn chart paints far more than a handful of pixels.
    expect(res.canvases[0].painted).toBeGreaterThan(500);
    expect(res.title).toBe('Shadow comparison');
  });
});
