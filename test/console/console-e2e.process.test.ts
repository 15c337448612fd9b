/**
 * The operator console in Debian's Chromium (playwright-core), against a real
 * `strangler serve` child process with real traffic: a legacy and a service
 * upstream on loopback that disagree on one field, shadow mode learning the
 * noise of another. Screenshots go to test-artifacts/console/ (gitignored;
 * CI keeps them as artifacts).
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedFromConfig } from '../../cli/context.js';
import { type AdminServer, startAdmin } from '../../control/admin-api.js';
import { readRollout, startRollout } from '../../control/canary.js';
import { loadConfig } from '../../core/config.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { CHROMIUM_FLAGS, CHROMIUM_PATH, browserAvailability } from '../helpers/browser.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';
import { BIN, type Served, startServe as startServeProcess } from '../helpers/bin.js';

const run = promisify(execFile);
const SHOTS = path.resolve(import.meta.dirname, '../../test-artifacts/console');
const TOKEN = 'console-e2e-token';
/** Generous: the page polls every 2 s and the machine is shared. */
const POLL = { timeout: 15_000 };

const availability = browserAvailability();
const tmp = tempDir('strangler-console-');
const servers: http.Server[] = [];
let serve: ChildProcess;
let proxyUrl: string;
let adminUrl: string;
let configFile: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let readOnlyAdmin: AdminServer;
let readOnlyStore: Store;
const consoleErrors: string[] = [];
const foreignRequests: string[] = [];

/** Legacy and service answer the same JSON except `profile.tier` for even ids; `served_at` differs on every answer (noise). */
function upstream(side: 'legacy' | 'service'): Promise<string> {
  let n = 0;
  const server = http.createServer((req, res) => {
    const id = Number(/\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 0);
    const body = JSON.stringify({
      id,
      blocked: [id + 1, id + 2],
      profile: { name: `user-${id}`, tier: side === 'service' && id % 2 === 0 ? 'silver' : 'gold' },
      served_at: `${Date.now()}-${n++}`,
      trace_id: `${side}-${n}`,
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

function configYaml(legacy: string, service: string): string {
  return `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:state.db
legacy: { url: ${legacy} }
services:
  block-service: { url: ${service} }
proxy: { statsFlushMs: 500 }
routes:
  - id: block
    match: { path: /api/block/*, methods: [GET, POST] }
    service: block-service
    mode: shadow
    shadow: { noiseSampleRate: 1, ignore: ['$.trace_id'] }
    gate: { minCompared: 10, minMatchRate: 0.4, maxP99Ratio: 1000, maxErrorRate: 0.5 }
  - id: orders
    match: { path: /api/orders/*, methods: [GET] }
    service: block-service
    mode: legacy
  - id: block-check
    kind: function
    path: /internal/block-check
    service: block-service
    idempotent: true
`;
}

function startServe(config: string): Promise<Served> {
  return startServeProcess(config, { STRANGLER_ADMIN_TOKEN: TOKEN });
}

async function get(url: string): Promise<{ status: number; target: string }> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return { status: res.status, target: String(res.headers.get('x-strangler-target')) };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Watch a page for console errors and for any request that leaves the admin origin. */
function watch(p: Page, origin: string): void {
  p.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${p.url()}: ${m.text()}`);
  });
  p.on('pageerror', (e) => consoleErrors.push(`${p.url()}: ${String(e)}`));
  p.on('request', (r) => {
    if (new URL(r.url()).origin !== origin) foreignRequests.push(r.url());
  });
}

describe.runIf(availability.run)('operator console in Chromium', () => {
  beforeAll(async () => {
    if (availability.failReason) throw new Error(availability.failReason);
    mkdirSync(SHOTS, { recursive: true });
    const legacy = await upstream('legacy');
    const service = await upstream('service');
    configFile = writeConfig(tmp.dir, configYaml(legacy, service));
    const s = await startServe(configFile);
    serve = s.child;
    proxyUrl = s.proxy;
    adminUrl = s.admin;
    // Real traffic: 40 shadowed requests (half of them differ on profile.tier), 10 unmatched.
    for (let i = 1; i <= 40; i++) expect((await get(`${proxyUrl}/api/block/${i}`)).target).toBe('legacy');
    for (let i = 1; i <= 10; i++) await get(`${proxyUrl}/api/users/${i}`);
    await until('shadow evidence', async () => {
      const ev = (await (await fetch(`${adminUrl}/routes/block/shadow`)).json()) as {
        report: { compared: number; differing: Array<{ field: string }> };
      };
      return ev.report.compared >= 30 && ev.report.differing.some((f) => f.field === '$.profile.tier')
        ? ev
        : undefined;
    });

    // A second admin listener on the same store with no token configured: the read-only console.
    const config = loadConfig(configFile);
    readOnlyStore = await openStore(config.store);
    readOnlyAdmin = await startAdmin({
      config,
      store: readOnlyStore,
      token: undefined,
      host: '127.0.0.1',
      port: 0,
    });

    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_FLAGS,
      timeout: 30_000,
    });
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    watch(page, new URL(adminUrl).origin);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await readOnlyAdmin?.close();
    await readOnlyStore?.close();
    if (serve && serve.exitCode === null) {
      const exited = new Promise((r) => serve.once('exit', r));
      serve.kill('SIGTERM');
      await exited;
    }
    for (const s of servers) s.close();
    tmp.cleanup();
  });

  it('serves /ui with a strict CSP, nosniff and no framing', async () => {
    const res = await fetch(`${adminUrl}/ui`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('shows the routes: mode, gate checks against their limits, unmatched share', async () => {
    await page.goto(`${adminUrl}/ui`);
    const row = page.locator('tr[data-route="block"]');
    await row.waitFor();
    await expect.poll(() => row.innerText(), POLL).toContain('shadow');
    const text = await row.innerText();
    expect(text).toMatch(/compared \d+ \(needs ≥ 10\)/);
    expect(text).toMatch(/match rate [\d.]+% \(needs ≥ 40%\)/);
    expect(await page.locator('tr[data-route="orders"]').innerText()).toContain('legacy');
    // An extraction point is a function, not a request on the listener (issue 25).
    const point = await page.locator('tr[data-route="block-check"]').textContent();
    expect(point).toContain('function block-check → /internal/block-check');
    expect(point).not.toContain('POST');
    // 10 of the 50 requests matched no route.
    await expect
      .poll(() => page.locator('[data-testid="unmatched"]').innerText(), POLL)
      .toContain('10 of 50');
    await shot('routes-1400');
  });

  it('shows a shadow mismatch on the route page with its example pair side by side, the path marked', async () => {
    await page.locator('a[href="#/route/block"]').click();
    const field = page.locator('details[data-field="$.profile.tier"]');
    await field.waitFor();
    expect(await field.getAttribute('open')).not.toBeNull();
    const legacyMarked = field.locator('section[data-side="legacy"] .ln.diff');
    const serviceMarked = field.locator('section[data-side="service"] .ln.diff');
    expect(await legacyMarked.innerText()).toContain('"tier": "gold"');
    expect(await serviceMarked.innerText()).toContain('"tier": "silver"');
    expect(await legacyMarked.getAttribute('data-path')).toBe('$.profile.tier');
    // served_at differs between two legacy answers too: learned as noise, not shown as a real difference.
    expect(await page.locator('details[data-field="$.served_at"]').count()).toBe(0);
    const main = await page.locator('main').innerText();
    expect(main).toContain('$.served_at');
    expect(main).toContain('$.trace_id'); // the configured ignore
    expect(main).toMatch(/Match rate after noise\s+[\d.]+%/);
    await expect
      .poll(() => page.locator('svg[aria-label^="match rate after noise"]').count(), POLL)
      .toBeGreaterThan(0);
    expect(await page.locator('[data-testid="audit"]').innerText()).toContain('seed');
    await shot('route-mismatch-1400');
  });

  it('without the token, the action buttons say why and the API refuses', async () => {
    const flip = page.locator('button[data-action="flip"]');
    expect(await flip.isDisabled()).toBe(true);
    expect(await page.locator('[data-testid="why"]').innerText()).toContain('Enter the admin token');
    // (Asked from here, not from the page: the browser would log the refusal as a console error.)
    const refused = await fetch(`${adminUrl}/routes/block/flip`, {
      method: 'POST',
      body: JSON.stringify({ mode: 'service' }),
    });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: string }).error).toBe('STRANGLER_E_UNAUTHORIZED');

    // An admin listener with no token configured: read-only, and the reason shown.
    const ro = await context.newPage();
    watch(ro, new URL(readOnlyAdmin.url).origin);
    await ro.goto(`${readOnlyAdmin.url}/ui#/route/block`);
    const why = ro.locator('[data-testid="why"]');
    await why.waitFor();
    expect(await why.innerText()).toContain('read-only');
    expect(await why.innerText()).toContain('STRANGLER_ADMIN_TOKEN');
    for (const b of await ro.locator('button[data-action]').all()) expect(await b.isDisabled()).toBe(true);
    expect(await ro.locator('#token-button').count()).toBe(0);
    expect(await ro.locator('#session').innerText()).toBe('read-only');
    const roRefused = await fetch(`${readOnlyAdmin.url}/routes/block/flip`, {
      method: 'POST',
      headers: { authorization: 'Bearer anything' },
      body: JSON.stringify({ mode: 'service' }),
    });
    expect(roRefused.status).toBe(403);
    expect(((await roRefused.json()) as { error: string }).error).toBe('STRANGLER_E_ADMIN_DISABLED');
    await ro.screenshot({ path: path.join(SHOTS, 'route-read-only-1400.png') });
    await ro.close();
    expect((await get(`${proxyUrl}/api/block/1`)).target).toBe('legacy');
  });

  it('a wrong token is refused; the right one, entered once, is kept for the tab and never as a cookie', async () => {
    await page.locator('#token-button').click();
    // Issue 26: the console asks who is acting, once, and audits each change under that name.
    await page.locator('#actor-input').fill('alice');
    await page.locator('#token-input').fill('wrong');
    await page.locator('#token-input').press('Enter');
    await expect.poll(() => page.locator('#token-error').innerText(), POLL).toContain('refused');
    await page.locator('#token-input').fill(TOKEN);
    await page.locator('#token-input').press('Enter');
    await expect
      .poll(() => page.locator('[data-testid="session-state"]').innerText(), POLL)
      .toBe('token set');
    await expect.poll(() => page.locator('button[data-action="flip"]').isDisabled(), POLL).toBe(false);
    expect(await context.cookies()).toEqual([]);
    expect(await page.evaluate(() => sessionStorage.getItem('strangler.adminToken'))).toBe(TOKEN);
  });

  it('a flip made in the UI shows the dry-run verdict, changes routing within a second and appears in `strangler history`', async () => {
    await page.locator('button[data-action="flip"]').click();
    await page.locator('#flip-mode').selectOption('service');
    await page.locator('#flip-reason').fill('console e2e');
    await page.locator('#action-dialog button.primary').click(); // Check (dry run)
    const verdict = page.locator('[data-testid="verdict"]');
    await verdict.waitFor();
    const v = await verdict.innerText();
    expect(v).toContain('shadow → service (advance)');
    expect(v).toContain('Gate: pass');
    expect(await page.locator('#flip-weight').isVisible()).toBe(false); // weight is for canary only
    expect(v).toMatch(/✓ compared \d+ \(needs ≥ 10\)/);
    expect((await get(`${proxyUrl}/api/block/2`)).target).toBe('legacy'); // a dry run changes nothing
    await page.screenshot({ path: path.join(SHOTS, 'flip-dry-run-1400.png') });
    await page.locator('[data-testid="confirm"]').click();
    const clicked = performance.now();
    let seenAfter = Number.POSITIVE_INFINITY;
    while (performance.now() - clicked < 3000) {
      if ((await get(`${proxyUrl}/api/block/3`)).target === 'service') {
        seenAfter = performance.now() - clicked;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    console.log(`console flip applied by the proxy after ${seenAfter.toFixed(0)} ms`);
    expect(seenAfter).toBeLessThan(1000);
    const { stdout } = await run(process.execPath, [BIN, 'history', 'block', '--config', configFile]);
    const line = stdout.split('\n').find((l) => l.includes('shadow v') && l.includes('-> service'));
    expect(line).toBeDefined();
    expect(line).toContain('admin:alice');
    expect(line).toContain('console e2e');
    await expect.poll(() => page.locator('[data-testid="version"]').innerText(), POLL).toBe('2');
  });

  it('a forced flip asks for a reason before it changes anything', async () => {
    await page.goto(`${adminUrl}/ui#/route/orders`);
    await page.locator('button[data-action="step"]').click(); // legacy → canary 1%: skips shadow, needs --force
    await page.locator('[data-testid="force"]').waitFor();
    const verdict = await page.locator('[data-testid="verdict"]').innerText();
    expect(verdict).toContain('legacy → canary 1% (skip)');
    expect(verdict).toContain('Gate: refused');
    await page.locator('[data-testid="force"]').click();
    await expect
      .poll(() => page.locator('#action-dialog [role="alert"]').last().innerText(), POLL)
      .toContain('needs a reason');
    expect((await get(`${proxyUrl}/api/orders/1`)).target).toBe('legacy');
    await page.locator('#flip-reason').fill('hotfix needs the service now');
    await page.locator('[data-testid="force"]').click();
    await expect.poll(() => page.locator('[data-testid="version"]').innerText(), POLL).toBe('2');
    const history = (await (await fetch(`${adminUrl}/history?route=orders`)).json()) as {
      entries: Array<{ action: string; reason: string; details?: { forced?: { overrode: string[] } } }>;
    };
    const last = history.entries.at(-1)!;
    expect(last.reason).toBe('hotfix needs the service now');
    expect(last.details?.forced?.overrode).toContain('skipShadow');
  });

  it('is keyboard reachable: Tab to a route, Enter opens it, Tab reaches the actions', async () => {
    await page.goto(`${adminUrl}/ui`);
    await page.locator('tr[data-route="block"]').waitFor();
    let onLink = false;
    for (let i = 0; i < 40 && !onLink; i++) {
      await page.keyboard.press('Tab');
      onLink = await page.evaluate(() => document.activeElement?.getAttribute('href') === '#/route/block');
    }
    expect(onLink).toBe(true);
    await page.keyboard.press('Enter');
    await page.locator('button[data-action="flip"]').waitFor();
    let onFlip = false;
    for (let i = 0; i < 40 && !onFlip; i++) {
      await page.keyboard.press('Tab');
      onFlip = await page.evaluate(() => document.activeElement?.getAttribute('data-action') === 'flip');
    }
    expect(onFlip).toBe(true);
    await page.keyboard.press('Enter');
    expect(await page.locator('#action-dialog').evaluate((d) => (d as HTMLDialogElement).open)).toBe(true);
    await page.keyboard.press('Escape');
    expect(await page.locator('#action-dialog').evaluate((d) => (d as HTMLDialogElement).open)).toBe(false);
  });

  it('pauses, resumes and aborts a canary rollout from the UI, each after a dry run', async () => {
    // Its own store and admin listener (no proxy, so no stepper moves the rollout while the test clicks).
    const dir = path.join(tmp.dir, 'rollout');
    mkdirSync(dir);
    const config = loadConfig(writeConfig(dir, configYaml('http://127.0.0.1:1', 'http://127.0.0.1:2')));
    const store = await openStore(config.store);
    await seedFromConfig(store, config);
    await store.routes.flip({ route: 'orders', mode: 'canary', weight: 5, actor: 'test', reason: 'setup' });
    await startRollout(store, config, {
      route: 'orders',
      steps: [25, 50],
      intervalMs: 600_000,
      actor: 'test',
    });
    const admin = await startAdmin({ config, store, token: TOKEN, host: '127.0.0.1', port: 0 });
    const p = await context.newPage();
    watch(p, new URL(admin.url).origin);
    try {
      await p.goto(`${admin.url}/ui#/route/orders`);
      await p.locator('#token-button').click();
      await p.locator('#actor-input').fill('bob');
      await p.locator('#token-input').fill(TOKEN);
      await p.locator('#token-input').press('Enter');
      const act = async (action: string, effect: string, status: string) => {
        const button = p.locator(`button[data-action="${action}"]`);
        await expect.poll(() => button.isDisabled(), POLL).toBe(false);
        await button.click();
        await p.locator('#action-dialog [data-testid="verdict"]').waitFor();
        expect(await p.locator('#action-dialog [data-testid="verdict"]').innerText()).toContain(effect);
        await p.locator('#action-dialog [data-testid="confirm"]').click();
        await expect.poll(async () => (await readRollout(store, 'orders')).status, POLL).toBe(status);
      };
      expect(await p.locator('button[data-action="resume"]').isDisabled()).toBe(true);
      await act('pause', 'pause the rollout at step 0/2', 'paused');
      await act('resume', 'resume the rollout', 'running');
      await act('abort', 'flip orders back to shadow', 'aborted');
      expect((await store.routes.get('orders'))!.mode).toBe('shadow');
      const actions = (await store.audit.list({ route: 'orders' })).map((e) => `${e.action} ${e.actor}`);
      expect(actions.slice(-4)).toEqual([
        'canary.pause admin:bob',
        'canary.resume admin:bob',
        'canary.rollback admin:bob',
        'canary.abort admin:bob',
      ]);
    } finally {
      await p.close();
      await admin.close();
      await store.close();
    }
  });

  it('shows the latest plan saved by `strangler plan --config`: candidates and libraries', async () => {
    const monolith = path.resolve(import.meta.dirname, '../../examples/monolith');
    const { stdout } = await run(process.execPath, [
      BIN,
      'plan',
      monolith,
      '--config',
      configFile,
      '--format',
      'json',
    ]);
    const firstCapability = JSON.parse(stdout).candidates[0].name as string;
    await page.goto(`${adminUrl}/ui#/plan`);
    await page.locator('[data-testid="candidates"] tbody tr').first().waitFor();
    const candidates = await page.locator('[data-testid="candidates"]').innerText();
    expect(candidates).toContain('monolith.block');
    // The capabilities `plan` prints, first row first (issue 31), not the per-module list.
    const first = await page.locator('[data-testid="candidates"] tbody tr').first().innerText();
    expect(first).toContain(firstCapability);
    expect(await page.locator('[data-testid="candidates"] thead').innerText()).toContain('Capability');
    expect(await page.locator('main').innerText()).toMatch(/Libraries \(\d+\)/);
    await shot('plan-1400');
  });

  it('is usable at 390 px: nothing wider than the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${adminUrl}/ui#/`);
    await page.locator('tr[data-route="block"]').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot('routes-390');
    await page.goto(`${adminUrl}/ui#/route/block`);
    await page.locator('details[data-field="$.profile.tier"]').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot('route-mismatch-390');
    await page.setViewportSize({ width: 1400, height: 900 });
  });

  it('had no console errors and no request outside the admin origin', () => {
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });
});
