/**
 * `over: legacy` on a service-mode route under three times its limit: every
 * client request is answered 2xx (the excess goes to the monolith), the
 * service never sees more than its limit plus burst in one limiter window (a
 * second), and the
 * spill is counted as action="legacy". Writes spill too: nothing reached the
 * service, so (as for an open breaker) legacy may take them.
 */
import { performance } from 'node:perf_hooks';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedFromConfig } from '../../cli/context.js';
import { listRouteRows } from '../../control/routes.js';
import { type Config, parseConfig } from '../../core/config.js';
import { type ProxyServer, startProxy } from '../../proxy/server.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { type StandIn, startStandIn } from '../helpers/stand-ins.js';
import { tempDir } from '../helpers/tmp.js';
import { pacedLoad } from './paced-load.js';

const LIMIT = 40; // per second
const BURST = 10;

/** A service that notes when each request arrived. */
async function startTimedService(): Promise<{ url: string; arrivals: number[]; close(): Promise<void> }> {
  const arrivals: number[] = [];
  const server = http.createServer((req, res) => {
    arrivals.push(performance.now());
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"served_by":"service"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** The most arrivals inside any span of `ms` (a sliding window). */
function maxInSpan(times: number[], ms: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < t.length; hi++) {
    while (t[hi] - t[lo] >= ms) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/**
 * Arrivals per limiter window. rate-limiter-flexible counts fixed windows that
 * open at the first request after the previous one closed; under steady
 * overload each window's admissions come in its first half, so an arrival
 * 900 ms or more after a window opened belongs to the next one.
 */
function perLimiterWindow(times: number[]): number[] {
  const t = [...times].sort((a, b) => a - b);
  const counts: number[] = [];
  let start = Number.NEGATIVE_INFINITY;
  for (const at of t) {
    if (at - start >= 900) {
      start = at;
      counts.push(0);
    }
    counts[counts.length - 1]++;
  }
  return counts;
}

describe('rate limit, over: legacy', () => {
  let legacy: StandIn;
  let service: Awaited<ReturnType<typeof startTimedService>>;
  let store: Store;
  let proxy: ProxyServer;
  let pool: Pool;
  let config: Readonly<Config>;
  /** Wall clock when the load of the first test ended. */
  let loadEnd = 0;
  const tmp = tempDir('strangler-rl-');

  beforeAll(async () => {
    legacy = await startStandIn('legacy');
    service = await startTimedService();
    config = parseConfig({
      listen: '127.0.0.1:0',
      store: `sqlite:${tmp.dir}/state.db`,
      legacy: { url: legacy.url },
      services: { svc: { url: service.url } },
      proxy: { statsFlushMs: 500 },
      routes: [
        {
          id: 'block',
          match: { path: '/api/block/*' },
          service: 'svc',
          mode: 'service',
          rateLimit: { service: `${LIMIT}/s`, burst: BURST, over: 'legacy' },
        },
        {
          id: 'tiny',
          match: { path: '/api/tiny/*' },
          service: 'svc',
          mode: 'service',
          rateLimit: { service: '1/m', over: 'legacy' },
        },
      ],
    });
    store = await openStore(config.store);
    await seedFromConfig(store, config);
    proxy = await startProxy({ config, store });
    pool = new Pool(proxy.url, { connections: 32 });
  });

  afterAll(async () => {
    await pool?.close();
    await proxy?.close();
    await store?.close();
    await service?.close();
    await legacy?.close();
    tmp.cleanup();
  });

  it('answers 100% 2xx at 3x the limit; the service sees at most limit + burst per window', async () => {
    // Warm the proxy's pools first (a few requests, well inside the limit),
    // then let that window end: a first connection's setup time would delay
    // the window's first arrivals and squeeze the window as the service sees it.
    for (let i = 0; i < 4; i++)
      await (await pool.request({ method: 'GET', path: '/api/block/0' })).body.dump();
    await new Promise((r) => setTimeout(r, 1200));
    service.arrivals.length = 0;
    const legacyBefore = legacy.hits();
    const r = await pacedLoad([pool], { rate: 3 * LIMIT, seconds: 4, path: '/api/block/1' });
    loadEnd = Date.now();
    const served = service.arrivals.length;
    const spilled = legacy.hits() - legacyBefore;
    const windows = perLimiterWindow(service.arrivals);
    const worstSpan = maxInSpan(service.arrivals, 1000);
    console.log(
      `over: legacy at ${3 * LIMIT}/s for ${r.sendSeconds.toFixed(2)} s: ${r.statuses.length} answers, ` +
        `${r.statuses.filter((s) => s < 300).length} 2xx, service ${served} (per limiter window: ${windows.join(' ')}; most in any sliding 1 s: ${worstSpan}), legacy ${spilled}`,
    );
    expect(r.errors).toEqual([]);
    expect(r.statuses.every((s) => s >= 200 && s < 300)).toBe(true);
    expect(served + spilled).toBe(r.statuses.length);
    // Fixed windows open at the first request: ceil(seconds) windows of LIMIT, plus one burst (10 s window).
    expect(served).toBeLessThanOrEqual(LIMIT * Math.ceil(r.sendSeconds) + BURST);
    expect(served).toBeGreaterThanOrEqual(LIMIT * Math.floor(r.sendSeconds));
    expect(Math.max(...windows)).toBeLessThanOrEqual(LIMIT + BURST);
    expect(spilled).toBeGreaterThan(0);
    const spillHeaders = r.headers.filter((h) => h['x-strangler-rate-limited'] === 'service');
    expect(spillHeaders.length).toBe(spilled);
    expect(spillHeaders.every((h) => h['x-strangler-target'] === 'legacy')).toBe(true);
    expect(await proxy.metrics()).toMatch(
      new RegExp(
        `strangler_rate_limited_total\\{route="block",target="service",action="legacy"\\} ${spilled}\\b`,
      ),
    );
  }, 30_000);

  it('`strangler routes` shows the limit and the rate the service got', async () => {
    // As seen at the end of the load above (its last two 0.5 s stats windows),
    // once those are flushed.
    await new Promise((r) => setTimeout(r, 700));
    const [row] = await listRouteRows(config, store, loadEnd);
    const cell = row.extra?.['rate limit'] ?? '';
    console.log(`routes: rate limit cell "${cell}"`);
    const m = /^service 40\/s \+10 over→legacy \(now ([\d.]+)\/s\)$/.exec(cell);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(10);
    expect(Number(m![1])).toBeLessThanOrEqual(2 * LIMIT + BURST);
  }, 30_000);

  it('spills a POST too: it never reached the service', async () => {
    // A route whose one request a minute is used up by the GET before it.
    const first = await pool.request({ method: 'GET', path: '/api/tiny/1' });
    expect((await first.body.json()) as { served_by: string }).toEqual({ served_by: 'service' });
    const before = { service: service.arrivals.length, legacy: legacy.hits() };
    const res = await pool.request({ method: 'POST', path: '/api/tiny/2', body: '{"a":1}' });
    expect(res.statusCode).toBe(200);
    const body = (await res.body.json()) as { served_by: string };
    expect(body.served_by).toBe('legacy');
    expect(res.headers['x-strangler-rate-limited']).toBe('service');
    expect(service.arrivals.length).toBe(before.service);
    expect(legacy.hits()).toBe(before.legacy + 1);
  }, 30_000);
});
