/**
 * Headless Chromium (Debian's `chromium` package) driven by playwright-core,
 * for tests that must see a report the way a person would: charts drawn, no
 * console errors, nothing fetched from the network.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.STRANGLER_CHROMIUM ?? '/usr/bin/chromium';

/** Chromium's flags for a closed network: no background connections that this machine would refuse. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Whether browser tests run: yes when Chromium is installed; under CI=true a
 * missing Chromium is a failure (the check must not silently vanish), else the
 * suite is skipped with a message saying how to install it.
 */
export function browserAvailability(): { run: boolean; failReason?: string } {
  if (existsSync(CHROMIUM_PATH)) return { run: true };
  const why = `chromium not found at ${CHROMIUM_PATH} (install it: apt-get install -y chromium)`;
  if (process.env.CI === 'true') return { run: true, failReason: `CI=true but ${why}` };
  console.warn(`browser tests skipped: ${why}`);
  return { run: false };
}

export interface PageCheck {
  /** Console messages of type error, and uncaught page errors. */
  errors: string[];
  /** URLs the page tried to fetch from anywhere but its own file. */
  networkRequests: string[];
  /** Per canvas id: how many pixels are not fully transparent. */
  canvases: Array<{ id: string; width: number; height: number; painted: number }>;
  title: string;
}

export interface Browser {
  /** Open an HTML document from a file, wait for load, and read back what drew. */
  check(html: string, name: string): Promise<PageCheck>;
  close(): Promise<void>;
}

/** A fresh profile (user-data-dir) per launch, removed on close. */
export async function launchBrowser(): Promise<Browser> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'strangler-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_FLAGS,
      timeout: 30_000,
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    async check(html, name) {
      const file = path.join(dir, `${name}.html`);
      writeFileSync(file, html);
      const fileUrl = pathToFileURL(file).href;
      const page = await context.newPage();
      const errors: string[] = [];
      const networkRequests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      // A self-contained report needs nothing but its own file: refuse and record anything else.
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url === fileUrl) return route.continue();
        networkRequests.push(url);
        return route.abort();
      });
      await page.goto(fileUrl, { waitUntil: 'load', timeout: 30_000 });
      const canvases = await page.evaluate(() =>
        [...document.querySelectorAll('canvas')].map((c) => {
          const ctx = c.getContext('2d');
          let painted = 0;
          if (ctx && c.width > 0 && c.height > 0) {
            const data = ctx.getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
          }
          return { id: c.id, width: c.width, height: c.height, painted };
        }),
      );
      const title = await page.title();
      await page.close();
      return { errors, networkRequests, canvases, title };
    },
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
