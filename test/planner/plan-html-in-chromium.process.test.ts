/**
 * The plan's HTML page at 4,000 modules, measured in headless Chromium on a
 * 1,400 px window (issue 14): capabilities are the drawn nodes, nothing
 * overflows sideways, every wave's row fits the page, and no reason is
 * clipped. The layout checks are shown able to fail on a page that overflows.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePythonTree } from '../../bench/planner-synthetic.js';
import { makePlan } from '../../planner/make-plan.js';
import { renderPlanHtml } from '../../reports/plan/html.js';
import { browserAvailability, CHROMIUM_PATH } from '../helpers/browser.js';

const availability = browserAvailability();
const WIDTH = 1400;

interface Layout {
  scrollWidth: number;
  nodes: number;
  nodesOutside: number;
  reasons: number;
  clipped: string[];
}

describe.skipIf(!availability.run)('the plan page at 4,000 modules in Chromium', () => {
  let browser: Browser;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'strangler-plan-html-'));

  beforeAll(async () => {
    if (availability.failReason) throw new Error(availability.failReason);
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
      timeout: 30_000,
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function layout(html: string, name: string): Promise<Layout> {
    const file = path.join(tmp, `${name}.html`);
    writeFileSync(file, html);
    const page = await browser.newPage({ viewport: { width: WIDTH, height: 900 } });
    try {
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 60_000 });
      return await page.evaluate((width) => {
        const nodes = [...document.querySelectorAll('g.capability rect')];
        const reasons = [...document.querySelectorAll('.reason')] as HTMLElement[];
        const clipped = reasons
          .filter((r) => r.scrollWidth > r.clientWidth + 1 || r.getBoundingClientRect().right > width)
          .map((r) => r.textContent ?? '');
        return {
          scrollWidth: document.documentElement.scrollWidth,
          nodes: nodes.length,
          nodesOutside: nodes.filter((n) => n.getBoundingClientRect().right > width).length,
          reasons: reasons.length,
          clipped,
        };
      }, WIDTH);
    } finally {
      await page.close();
    }
  }

  it('the checks see a page that overflows and a clipped reason', async () => {
    const res = await layout(
      '<!doctype html><body><table style="width:3000px"><tr><td>wide</td></tr></table><div class="reason" style="width:100px;overflow:hidden;white-space:nowrap">a reason far too long to fit in one hundred pixels</div></body>',
      'negative',
    );
    expect(res.scrollWidth).toBeGreaterThan(WIDTH);
    expect(res.clipped).toHaveLength(1);
  });

  it('draws capabilities (not modules), fits 1,400 px, and clips no reason', async () => {
    const tree = writePythonTree(tmp, { packages: 200, modulesPerPackage: 20, linesPerModule: 30, seed: 14 });
    expect(tree.modules).toBeGreaterThan(4000);
    const plan = await makePlan({ path: tree.root, git: false });
    expect(plan.modules.length).toBeGreaterThan(4000);
    const html = renderPlanHtml(plan, { now: new Date('2026-01-01T00:00:00Z') }).output;
    const res = await layout(html, 'plan-4000');
    expect(res.scrollWidth).toBeLessThanOrEqual(WIDTH);
    expect(res.nodes).toBeGreaterThan(0);
    expect(res.nodes).toBeLessThanOrEqual(plan.candidates.length);
    expect(res.nodesOutside).toBe(0);
    expect(res.reasons).toBeGreaterThanOrEqual(plan.candidates.reduce((s, c) => s + c.reasons.length, 0));
    expect(res.clipped).toEqual([]);
  }, 180_000);
});
