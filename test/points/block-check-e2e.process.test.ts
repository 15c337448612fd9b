/**
 * End to end, real processes only: the Python monolith (whose feed and chat
 * call block.check, the extraction point `block-check`), block-service (with
 * --differ, so every compared answer carries a deliberate difference, and
 * --access-log, so its request log shows the calls it got), and
 * `strangler serve` as a user runs it; flips and reports from the CLI in
 * other processes.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startBlockService, startMonolith } from '../../examples/run.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';
import { BIN, type Served, startServe as startServeProcess } from '../helpers/bin.js';

const run = promisify(execFile);
const POINTS_TOKEN = 'points-e2e-token';
const tmp = tempDir('strangler-points-e2e-');
let monolith: RunningApp;
let service: RunningApp;
let serve: ChildProcess;
let proxyUrl: string;
let adminUrl: string;
let configFile: string;
/** When block-service answered each extraction-point call (epoch ms, from its request log). */
const internalAt: number[] = [];
const internalCalls = () => internalAt.length;

function startServe(config: string): Promise<Served> {
  return startServeProcess(config, {
    STRANGLER_ADMIN_TOKEN: 'block-check-admin-token',
    STRANGLER_POINTS_TOKEN: POINTS_TOKEN,
  });
}

const cli = (...args: string[]) => run(process.execPath, [BIN, ...args, '--config', configFile]);
const flip = (mode: string) => cli('flip', 'block-check', mode, '--force', '--reason', `e2e ${mode}`);

/** When the store committed the latest flip to `mode`: the audit row's time (epoch ms). */
async function committedAt(mode: string): Promise<number> {
  const { stdout } = await cli('history', 'block-check', '--json');
  const rows = JSON.parse(stdout) as Array<{ action: string; at: string; after?: { mode?: string } }>;
  const row = rows.filter((r) => r.action === 'flip' && r.after?.mode === mode).at(-1);
  return Date.parse(row!.at);
}

/** Feed requests from four clients at once until `done()` or `ms` elapsed; every answer must be 200. */
async function feedFor(ms: number, done: () => boolean = () => false): Promise<void> {
  const until = Date.now() + ms;
  await Promise.all(
    Array.from({ length: 4 }, async (_, c) => {
      for (let i = c; Date.now() < until && !done(); i += 4) expect(await feed(1 + (i % 40))).toBe(200);
    }),
  );
}

async function feed(user: number): Promise<number> {
  const res = await fetch(`${proxyUrl}/api/feed/${user}`);
  await res.arrayBuffer();
  return res.status;
}

beforeAll(async () => {
  const urlFile = path.join(tmp.dir, 'strangler-url');
  // The monolith starts first (the proxy's legacy is its port); its client
  // reads the proxy's URL from this file once serve has written it below.
  monolith = await startMonolith({
    dbPath: path.join(tmp.dir, 'demo.db'),
    env: { STRANGLER_URL_FILE: urlFile, STRANGLER_POINTS_TOKEN: POINTS_TOKEN },
  });
  service = await startBlockService({ dbPath: monolith.dbPath, differ: true, accessLog: true });
  let partial = '';
  service.process.stderr!.on('data', (c: Buffer) => {
    const lines = (partial + c.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const m = /POST \/internal\/block-check \d+ t=(\d+)/.exec(line);
      if (m) internalAt.push(Number(m[1]));
    }
  });
  configFile = writeConfig(
    tmp.dir,
    `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:state.db
legacy: { url: ${monolith.url} }
services:
  block-service: { url: ${service.url} }
proxy: { pollIntervalMs: 100, statsFlushMs: 200 }
routes:
  - id: block
    match: { path: /api/block/*, methods: [GET, POST, DELETE] }
    service: block-service
    module: monolith.block
  - id: block-check
    kind: function
    path: /internal/block-check
    service: block-service
    module: monolith.block
    idempotent: true
    # A short rolling window: the calls that succeeded before the kill have left it, so the
    # breaker opens on the first 5 failures, before the guard (stats flushed every 200 ms) acts.
    failover: { timeoutMs: 500, volumeThreshold: 5, rollingCountTimeoutMs: 500, resetTimeoutMs: 60000 }
    shadow: { noiseSampleRate: 0 }
    slo: { window: 2s, minRequests: 5, maxErrorRate: 0.05 }
`,
  );
  const s = await startServe(configFile);
  serve = s.child;
  proxyUrl = s.proxy;
  adminUrl = s.admin;
  writeFileSync(urlFile, proxyUrl);
  // Legacy: feed requests, no call reaches block-service.
  for (let i = 0; i < 5; i++) expect(await feed(1 + i)).toBe(200);
});

afterAll(async () => {
  if (serve && serve.exitCode === null) serve.kill('SIGKILL');
  await service?.stop();
  await monolith?.stop();
  tmp.cleanup();
});

describe('extraction point block-check, end to end', () => {
  it('is listed by `strangler routes` as a function point', async () => {
    const { stdout } = await cli('routes');
    expect(stdout).toMatch(
      /block-check\s+legacy\s+0\s+\d+\s+function -> \/internal\/block-check\s+block-service/,
    );
  });

  it('a flip to service reaches the monolith within 1 s; back to legacy stops the calls within 1 s', async () => {
    await new Promise((r) => setTimeout(r, 600)); // the client has read "legacy" by now
    const before = internalCalls();
    for (let i = 0; i < 5; i++) expect(await feed(1 + i)).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    expect(internalCalls(), 'legacy mode sent calls to block-service').toBe(before);

    // Times are the store's commit of the flip (audit row) and block-service's
    // answer (its log), so a slow test client does not count against the point.
    // Traffic runs through the flip, as in production: the first call the
    // service answers after the commit shows when the monolith switched.
    let reached = false;
    const traffic = feedFor(15_000, () => reached);
    await flip('service');
    const flipped = await committedAt('service');
    while (!reached && Date.now() - flipped < 10_000) {
      reached = internalAt.some((t) => t > flipped);
      await new Promise((r) => setTimeout(r, 10));
    }
    reached = true;
    await traffic;
    const reachedMs = Math.min(...internalAt.filter((t) => t > flipped)) - flipped;
    console.log(
      `points e2e: first call at block-service ${reachedMs} ms after the flip to service was committed`,
    );
    expect(reachedMs).toBeLessThan(1000);
    // Chat's check goes through the point too.
    const login = await fetch(`${proxyUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'ada1', password: 'password-ada1' }),
    });
    const { token } = (await login.json()) as { token: string };
    const n = internalCalls();
    const conv = await fetch(`${proxyUrl}/api/chat/messages?with=2`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(conv.status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    expect(internalCalls()).toBeGreaterThan(n);

    let stopped = false;
    const more = feedFor(15_000, () => stopped);
    await flip('legacy');
    const back = await committedAt('legacy');
    while (Date.now() - back < 1500) await new Promise((r) => setTimeout(r, 20));
    stopped = true;
    await more;
    const lastMs = Math.max(...internalAt) - back;
    console.log(
      `points e2e: last call at block-service ${lastMs} ms after the flip back to legacy was committed`,
    );
    expect(lastMs).toBeLessThan(1000);
    const after = internalCalls();
    for (let i = 0; i < 20; i++) expect(await feed(1 + (i % 10))).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(internalCalls(), 'calls still reached block-service after the flip back to legacy').toBe(after);
  });

  it('shadow: evidence with the deliberate difference appears in `strangler shadow report block-check`', async () => {
    await cli('shadow', 'reset', 'block-check');
    await flip('shadow');
    await new Promise((r) => setTimeout(r, 1000));
    const before = internalCalls();
    for (let i = 0; i < 30; i++) expect(await feed(1 + (i % 25))).toBe(200);
    // Copies go off the caller's path: wait for them to be compared and flushed.
    let report: { compared: number; fieldDiffs?: Record<string, number> } | undefined;
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      const { stdout } = await cli('shadow', 'report', 'block-check', '--format', 'json');
      const parsed = JSON.parse(stdout);
      const routes = Array.isArray(parsed.routes) ? parsed.routes : [parsed];
      report = routes.find((r: { route?: string }) => r.route === 'block-check') ?? routes[0];
      if ((report?.compared ?? 0) >= 30) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    const { stdout: text } = await cli('shadow', 'report', 'block-check');
    console.log(`points e2e: shadow report\n${text}`);
    expect(internalCalls() - before).toBeGreaterThanOrEqual(30);
    expect(report!.compared).toBeGreaterThanOrEqual(30);
    expect(text).toContain('served_by');
    // A function's return value has no headers: block-service's charset is not a difference.
    expect(text).not.toContain('header:content-type');
  });

  it('service killed in service mode: every feed request 200 from the local fallback, breaker opens, guard rolls back', async () => {
    await flip('service');
    await new Promise((r) => setTimeout(r, 1000));
    service.process.kill('SIGKILL');
    await new Promise((r) => service.process.once('exit', r));
    const killedAt = Date.now();
    const statuses = new Map<number, number>();
    let rolledBack: { at: string; reason: string } | undefined;
    let sent = 0;
    // At least 60 requests, and on until the guard has acted: before and after its rollback.
    while ((!rolledBack || sent < 60) && sent < 2000 && Date.now() - killedAt < 30_000) {
      const s = await feed(1 + (sent % 50));
      sent++;
      statuses.set(s, (statuses.get(s) ?? 0) + 1);
      if (sent % 10 === 0 && !rolledBack) {
        const { stdout } = await cli('history', 'block-check', '--json');
        rolledBack = (JSON.parse(stdout) as Array<{ action: string; at: string; reason: string }>).find(
          (e) => e.action === 'guard.rollback',
        );
      }
    }
    const { stdout: hist } = await cli('history', 'block-check', '--json');
    const audit = JSON.parse(hist) as Array<{ action: string; at: string; actor: string }>;
    const opened = audit.find((e) => e.action === 'breaker.open');
    const metrics = await (await fetch(`${adminUrl}/metrics`)).text();
    const failovers = metrics
      .split('\n')
      .filter((l) => l.startsWith('strangler_failovers_total{') && l.includes('route="block-check"'));
    console.log(
      `points e2e: service killed; ${sent} feed requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}, ` +
        `breaker open ${opened ? Date.parse(opened.at) - killedAt : 'never'} ms after the kill, ` +
        `guard rollback ${rolledBack ? Date.parse(rolledBack.at) - killedAt : 'never'} ms after; failovers:\n  ${failovers.join('\n  ')}`,
    );
    expect([...statuses.keys()]).toEqual([200]);
    expect(opened, 'the breaker never opened').toBeDefined();
    expect(failovers.some((l) => l.includes('reason="breaker-open"'))).toBe(true);
    expect(rolledBack, 'the guard never rolled block-check back').toBeDefined();
    expect(rolledBack!.reason).toMatch(/SLO breached/);
  });
});
