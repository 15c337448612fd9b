/**
 * Issue 26, the console in an outage, in Debian's Chromium against a real
 * admin listener on a real SQLite store (no proxy: the breaker state a proxy
 * would report comes through the admin listener's routeExtras, as `serve`
 * wires it):
 *
 * - a successful flip was announced in the error banner's colours;
 * - the half-open badge was 4.36:1 (AA needs 4.5), and other badges too;
 * - the SLO cell said "ok … 2%" beside an open breaker, without a word;
 * - a rollout could not be started from the console, and nothing said when
 *   its next step comes;
 * - chart axis labels were about 5 px at 390 px wide.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedFromConfig } from '../../cli/context.js';
import { type AdminServer, startAdmin } from '../../control/admin-api.js';
import { readRollout, startRolloutDriver } from '../../control/canary.js';
import { loadConfig } from '../../core/config.js';
import { openStore } from '../../store/open.js';
import { windowStart } from '../../store/stats-window.js';
import type { Store } from '../../store/types.js';
import { serviceWindow, shadowBatch } from '../control/fixtures.js';
import { CHROMIUM_FLAGS, CHROMIUM_PATH, browserAvailability } from '../helpers/browser.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';

const TOKEN = 'console-truth-token';
const POLL = { timeout: 15_000 };
const SHOTS = path.resolve(import.meta.dirname, '../../test-artifacts/console');
const availability = browserAvailability();
const tmp = tempDir('strangler-console-truth-');
let store: Store;
let admin: AdminServer;
let browser: Browser;
let page: Page;
const errors: string[] = [];

const yaml = `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:state.db
proxy: { statsFlushMs: 1000 }
legacy: { url: http://127.0.0.1:1 }
services:
  block-service: { url: http://127.0.0.1:2 }
routes:
  - id: block
    match: { path: /api/block/* }
    service: block-service
    mode: shadow
  - id: orders
    match: { path: /api/orders/* }
    service: block-service
    mode: canary
    weight: 5
    gate: { maxErrorRate: 0.05, maxP99Ratio: 1000 }
`;

async function signIn(p: Page, name: string): Promise<void> {
  await p.locator('#token-button').click();
  await p.locator('#actor-input').fill(name);
  await p.locator('#token-input').fill(TOKEN);
  await p.locator('#token-input').press('Enter');
  await expect.poll(() => p.locator('[data-testid="session-state"]').textContent(), POLL).toBe('token set');
}

describe.runIf(availability.run)('the console tells the truth (issue 26)', () => {
  beforeAll(async () => {
    if (availability.failReason) throw new Error(availability.failReason);
    mkdirSync(SHOTS, { recursive: true });
    const config = loadConfig(writeConfig(tmp.dir, yaml));
    store = await openStore(config.store);
    await seedFromConfig(store, config);
    await store.shadow.record('block', shadowBatch({ compared: 50, matched: 45 }));
    // orders' canary: 100 service requests, 2 failed (2% < the SLO's 5%), 900 to legacy.
    const start = windowStart(Date.now(), 1000);
    await store.stats.add([
      { ...serviceWindow(start, 100, 2), route: 'orders' },
      { ...serviceWindow(start, 900, 0), route: 'orders', target: 'legacy', failovers: 0 },
    ]);
    admin = await startAdmin({
      config,
      store,
      token: TOKEN,
      host: '127.0.0.1',
      port: 0,
      // What a proxy whose service just died reports (proxy/server.ts routeExtras).
      routeExtras: () => ({ orders: { breaker: 'open' } }),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS });
    page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
  });
  afterAll(async () => {
    await browser?.close();
    await admin?.close();
    await store?.close();
    tmp.cleanup();
  });

  it('every badge has text at >= 4.5:1 against its background (WCAG AA)', async () => {
    await page.goto(`${admin.url}/ui`);
    await page.locator('tr[data-route="block"]').waitFor();
    const ratios = await page.evaluate(() => {
      const rgb = (c: string) => (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
      const lum = (c: number[]) => {
        const [r, g, b] = c.map((v) => {
          const x = v / 255;
          return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const out: Record<string, number> = {};
      const classes = ['open', 'half-open', 'closed', 'ok', 'breach', 'insufficient'].map(
        (s) => `state-${s}`,
      );
      for (const cls of [...classes, ...['legacy', 'shadow', 'canary', 'service'].map((m) => `mode-${m}`)]) {
        const el = document.createElement('span');
        el.className = `badge ${cls}`;
        el.textContent = 'x';
        document.body.append(el);
        const st = getComputedStyle(el);
        const [a, b] = [lum(rgb(st.color)), lum(rgb(st.backgroundColor))].sort((x, y) => y - x);
        out[cls] = Math.round(((a + 0.05) / (b + 0.05)) * 100) / 100;
        el.remove();
      }
      return out;
    });
    for (const [cls, ratio] of Object.entries(ratios)) expect(ratio, cls).toBeGreaterThanOrEqual(4.5);
  });

  it('beside an open breaker, an "ok" SLO cell says the service is failing now', async () => {
    await page.goto(`${admin.url}/ui`);
    const row = page.locator('tr[data-route="orders"]');
    await row.waitFor();
    const note = row.locator('[data-testid="slo-breaker"]');
    await expect.poll(() => note.textContent(), POLL).toContain('breaker is open now');
    expect(await row.textContent()).toContain('ok');
  });

  it('announces a successful flip in the success colours, not the error banner', async () => {
    await page.goto(`${admin.url}/ui#/route/block`);
    await signIn(page, 'carol');
    await page.locator('button[data-action="flip"]').click();
    await page.locator('#flip-mode').selectOption('legacy');
    await page.locator('#action-dialog button.primary').click();
    await page.locator('[data-testid="confirm"]').click();
    const banner = page.locator('#banner');
    await expect.poll(() => banner.textContent(), POLL).toContain('block: shadow → legacy');
    const look = await banner.evaluate((el) => {
      const st = getComputedStyle(el);
      const ok = getComputedStyle(document.documentElement).getPropertyValue('--ok').trim();
      const probe = document.createElement('span');
      probe.style.color = ok;
      document.body.append(probe);
      const okRgb = getComputedStyle(probe).color;
      probe.remove();
      return { color: st.color, background: st.backgroundColor, okRgb };
    });
    expect(look.color).toBe(look.okRgb);
    expect(look.background).not.toBe('rgb(253, 236, 234)'); // the error banner's
    const [last] = await store.audit.list({ route: 'block', action: 'flip', limit: 1 });
    expect(last.actor).toBe('admin:carol');
  });

  it('starts a rollout from the console (dry run first) and says when its next step is judged', async () => {
    await page.goto(`${admin.url}/ui#/route/orders`);
    await page.locator('button[data-action="start"]').click();
    await page.locator('#rollout-steps').fill('25,50');
    await page.locator('#rollout-interval').fill('10m');
    await page.locator('#action-dialog button.primary').click();
    const verdict = page.locator('#action-dialog [data-testid="verdict"]');
    await verdict.waitFor();
    expect(await verdict.textContent()).toContain(
      'start a rollout of orders through 25% → 50%, each step held 10m',
    );
    expect((await readRollout(store, 'orders')).status).toBe('none'); // a dry run changes nothing
    await page.locator('#action-dialog [data-testid="confirm"]').click();
    await expect.poll(async () => (await readRollout(store, 'orders')).status, POLL).toBe('running');
    const [started] = await store.audit.list({ route: 'orders', action: 'canary.start', limit: 1 });
    expect(started.actor).toBe('admin:carol');
    // The driver (what the lease-holding proxy runs) applies the first step: a gated flip judged on canary traffic.
    const driver = startRolloutDriver({ store, config: loadConfig(path.join(tmp.dir, 'strangler.yaml')) });
    try {
      await driver.tick();
    } finally {
      driver.stop();
    }
    expect(await store.routes.get('orders')).toMatchObject({ mode: 'canary', weight: 25 });
    const next = page
      .locator('tr[data-route="orders"] [data-testid="next-step"], [data-testid="next-step"]')
      .first();
    await expect.poll(() => next.textContent(), POLL).toMatch(/next step judged at .+ \(in (9m 5\d|10m 0)s?/);
    await page.screenshot({ path: path.join(SHOTS, 'rollout-started-1400.png'), fullPage: true });
  });

  it('draws chart axis labels at a legible size at 390 px', async () => {
    await page.goto(`${admin.url}/ui#/route/block`);
    await page.locator('figure.chart svg .axis-label').first().waitFor();
    // A phone: the page redraws its charts for the new width.
    await page.setViewportSize({ width: 390, height: 844 });
    // Rendered size of each label: its font size times the SVG's scale on screen.
    const smallest = () =>
      page.evaluate(() =>
        Math.min(
          ...[...document.querySelectorAll('figure.chart svg .axis-label')].map((el) => {
            const svg = (el as SVGTextElement).ownerSVGElement!;
            return Number.parseFloat(getComputedStyle(el).fontSize) * svg.getScreenCTM()!.a;
          }),
        ),
      );
    await expect.poll(smallest, POLL).toBeGreaterThanOrEqual(10);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(SHOTS, 'route-charts-390.png'), fullPage: true });
  });

  it('had no console errors', () => {
    expect(errors).toEqual([]);
  });
});
