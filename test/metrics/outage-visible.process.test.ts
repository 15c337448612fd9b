/**
 * Issue 26, metrics in an outage: a real `strangler serve` child, a real
 * service that is killed mid-traffic, and a real scrape checked by promtool.
 *
 * - Service failures vanish behind failover: after the service died, the
 *   requests legacy rescued were counted only as legacy 2xx, so "Errors per
 *   target" stayed empty. Now the service's own failure is counted on target
 *   service (outcome refused / breaker-open), beside the failover counter.
 * - Known label sets start at 0 (a route with no traffic yet shows 0, not
 *   "No data").
 * - Flips and rollouts are visible: the newest audited change per action, and
 *   the rollout's status, step and time to the next step.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, type Served, startServe } from '../helpers/bin.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';

const PROMTOOL = process.env.STRANGLER_PROMTOOL ?? '/usr/bin/promtool';

function listen(handler: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

/** The value of one sample line (labels in the order the proxy writes them), or undefined. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('metrics tell the truth in an outage (issue 26)', () => {
  const tmp = tempDir('strangler-outage-metrics-');
  let legacy: { server: http.Server; url: string };
  let service: { server: http.Server; url: string };
  let canaryService: { server: http.Server; url: string };
  let served: Served;
  let config: string;
  const env = { STRANGLER_ADMIN_TOKEN: 'outage-metrics-token' };

  beforeAll(async () => {
    legacy = await listen((_req, res) => res.end('{"from":"legacy"}'));
    service = await listen((_req, res) => res.end('{"from":"service"}'));
    canaryService = await listen((_req, res) => res.end('{"from":"service"}'));
    config = writeConfig(
      tmp.dir,
      `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:state.db
proxy: { statsFlushMs: 200 }
legacy: { url: ${legacy.url} }
services:
  pay-service: { url: ${service.url} }
  idle-service: { url: ${canaryService.url} }
routes:
  - id: pay
    match: { path: /api/pay/*, methods: [GET] }
    service: pay-service
    mode: service
    failover: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 60000 }
  - id: idle
    match: { path: /api/idle/*, methods: [GET] }
    service: idle-service
    mode: canary
    weight: 40
    gate: { maxP99Ratio: 1000 }
    slo: { minRequests: 5 }
`,
    );
    served = await startServe(config, env);
  });
  afterAll(async () => {
    await served?.stop();
    legacy?.server.close();
    canaryService?.server.close();
    service?.server.closeAllConnections();
    service?.server.close();
    tmp.cleanup();
  });

  const scrape = async () => (await fetch(`${served.admin}/metrics`)).text();

  it('starts known routes at 0: requests, failovers, breaker state', async () => {
    const text = await scrape();
    expect(sample(text, 'strangler_requests_total', 'route="idle",target="service",outcome="5xx"')).toBe(0);
    expect(sample(text, 'strangler_requests_total', 'route="idle",target="service",outcome="error"')).toBe(0);
    expect(
      sample(text, 'strangler_requests_total', 'route="(unmatched)",target="legacy",outcome="2xx"'),
    ).toBe(0);
    expect(sample(text, 'strangler_failovers_total', 'route="idle",reason="refused"')).toBe(0);
    expect(sample(text, 'strangler_unsafe_rejected_total', 'route="pay"')).toBe(0);
    expect(sample(text, 'strangler_breaker_state', 'route="pay"')).toBe(0);
    expect(sample(text, 'strangler_shadow_evidence_lost_total', 'route="pay"')).toBe(0);
    // No request yet: no empty histogram series (16 lines each, no answer).
    expect(text).not.toMatch(/^strangler_request_duration_seconds_count\{route="idle"/m);
  });

  it("counts the service's failure on target service when legacy rescued the request", async () => {
    for (let i = 0; i < 3; i++) await (await fetch(`${served.proxy}/api/pay/${i}`)).text();
    // The outage: the service goes away; legacy answers every request.
    await new Promise<void>((r) => {
      service.server.close(() => r());
      service.server.closeAllConnections();
    });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${served.proxy}/api/pay/down/${i}`);
      await res.text();
      statuses.push(res.status);
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    const text = await scrape();
    const refused =
      sample(text, 'strangler_requests_total', 'route="pay",target="service",outcome="refused"') ?? 0;
    const notTried =
      sample(text, 'strangler_requests_total', 'route="pay",target="service",outcome="breaker-open"') ?? 0;
    // Every rescued request is the service's failure: refused until the breaker opened, then not tried.
    expect(refused).toBeGreaterThan(0);
    expect(refused + notTried).toBe(10);
    expect(sample(text, 'strangler_requests_total', 'route="pay",target="legacy",outcome="2xx"')).toBe(10);
    expect(sample(text, 'strangler_failovers_total', 'route="pay",reason="refused"')).toBe(refused);
    expect(sample(text, 'strangler_breaker_state', 'route="pay"')).toBe(2);
    // The service series has a duration too: the time the failed attempt took.
    expect(
      sample(
        text,
        'strangler_request_duration_seconds_count',
        'route="pay",target="service",outcome="refused"',
      ),
    ).toBe(refused);
  });

  it('shows flips and rollouts: newest change per action, rollout status, step and time to the next', async () => {
    const before = Date.now() / 1000;
    const flip = await runBin(
      ['flip', 'idle', 'canary', '--weight', '50', '--config', config, '--force', '--reason', 'more canary'],
      { cwd: tmp.dir, env: { ...process.env, STRANGLER_LOG_LEVEL: 'silent' } },
    );
    expect(flip.code, flip.err).toBe(0);
    // Canary traffic for the rollout's first step to be judged on (the stats reach the store within 200 ms).
    for (let i = 0; i < 40; i++) await (await fetch(`${served.proxy}/api/idle/${i}`)).text();
    await new Promise((r) => setTimeout(r, 600));
    const rollout = await runBin(
      ['canary', 'idle', '--steps', '60,80', '--interval', '10m', '--config', config],
      { cwd: tmp.dir, env: { ...process.env, STRANGLER_LOG_LEVEL: 'silent' } },
    );
    expect(rollout.code, rollout.err).toBe(0);
    let text = '';
    const deadline = Date.now() + 15_000;
    // The lease-holding proxy applies the first step within its poll.
    // Traffic keeps coming meanwhile: the step's gate judges only traffic recorded
    // under the route's current version (issue 29), and requests the proxy routed
    // before it swapped in the flip's table count for the version before.
    for (let i = 0; Date.now() < deadline; i++) {
      text = await scrape();
      if (sample(text, 'strangler_rollout_step', 'route="idle"') === 1) break;
      for (let j = 0; j < 5; j++) await (await fetch(`${served.proxy}/api/idle/more-${i}-${j}`)).text();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(sample(text, 'strangler_rollout_step', 'route="idle"')).toBe(1);
    expect(sample(text, 'strangler_rollout_status', 'route="idle",status="running"')).toBe(1);
    expect(sample(text, 'strangler_rollout_status', 'route="idle",status="none"')).toBe(0);
    expect(sample(text, 'strangler_rollout_step', 'route="pay"')).toBe(0);
    const next = sample(text, 'strangler_rollout_next_step_seconds', 'route="idle"')!;
    expect(next).toBeGreaterThan(500);
    expect(next).toBeLessThanOrEqual(600);
    const flipAt = sample(
      text,
      'strangler_route_last_change_timestamp_seconds',
      'route="idle",action="flip"',
    )!;
    expect(flipAt).toBeGreaterThanOrEqual(Math.floor(before));
    expect(
      sample(text, 'strangler_route_last_change_timestamp_seconds', 'route="idle",action="canary.step"'),
    ).toBeGreaterThanOrEqual(flipAt);
    // No guard rollback yet: no sample (a timestamp of 0 would draw an annotation in 1970).
    expect(text).not.toMatch(/action="guard\.rollback"/);
  });

  it.runIf(existsSync(PROMTOOL))('passes promtool check metrics on this scrape', async () => {
    const text = await scrape();
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      const child = execFile(PROMTOOL, ['check', 'metrics'], (err, stdout, stderr) =>
        resolve({ code: err ? ((err.code as number) ?? 1) : 0, output: stdout + stderr }),
      );
      child.stdin!.end(text);
    });
    expect(output).toBe('');
    expect(code).toBe(0);
  });
});
