/**
 * One limit for the fleet: three proxies on one real redis-server share a
 * route's service rate. Paced load at twice the limit, spread round-robin
 * over the three: of the requests sent in the first ten seconds, those let
 * through stay within ±5% of limit × 10 (each proxy alone would let through
 * its own full rate, three times as many).
 *
 * Why count by send time: the limiter's windows are fixed, opened by the
 * first request and then back to back under overload, so the first ten
 * seconds hold exactly ten of them. Counting every request of a run that
 * overran its schedule on a busy machine (a stall, then a catch-up burst)
 * would count part of an eleventh window too.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedFromConfig } from '../../cli/context.js';
import { parseConfig } from '../../core/config.js';
import { type ProxyServer, startProxy } from '../../proxy/server.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { type StandIn, startStandIn } from '../helpers/stand-ins.js';
import { pacedLoad } from './paced-load.js';

const enabled = redisAvailable();
// Modest rates: the proxies, the stand-ins and this client share one event
// loop, and a starved loop turns paced load into bursts.
const LIMIT = 30; // per second, for the whole fleet
const SECONDS = 10;

describe.skipIf(!enabled)('rate limit shared by three proxies on one Redis', () => {
  let redis: RedisServer;
  let legacy: StandIn;
  let service: StandIn;
  const stores: Store[] = [];
  const proxies: ProxyServer[] = [];
  const pools: Pool[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    legacy = await startStandIn('legacy');
    service = await startStandIn('service');
    const url = redis.url(0, 'fleet:');
    const config = parseConfig({
      listen: '127.0.0.1:0',
      store: url,
      legacy: { url: legacy.url },
      services: { svc: { url: service.url } },
      routes: [
        {
          id: 'block',
          match: { path: '/api/block/*' },
          service: 'svc',
          mode: 'service',
          rateLimit: { service: `${LIMIT}/s` },
        },
        {
          id: 'outage',
          match: { path: '/api/outage/*' },
          service: 'svc',
          mode: 'service',
          rateLimit: { service: '5/m' },
        },
      ],
    });
    for (let i = 0; i < 3; i++) {
      const store = await openStore(url);
      if (i === 0) await seedFromConfig(store, config);
      stores.push(store);
      const proxy = await startProxy({ config, store, instanceId: `p${i}` });
      proxies.push(proxy);
      pools.push(new Pool(proxy.url, { connections: 16 }));
    }
  });

  afterAll(async () => {
    for (const p of pools) await p.close();
    for (const p of proxies) await p.close();
    for (const s of stores) await s.close();
    await service?.close();
    await legacy?.close();
    await redis?.close();
  });

  it(`holds ${LIMIT}/s across the fleet within ±5% over ${SECONDS} s`, async () => {
    const before = service.hits();
    const r = await pacedLoad(pools, { rate: 2 * LIMIT, seconds: SECONDS + 0.5, path: '/api/block/1' });
    const inTen = r.answers.filter((a) => a.sentAt < SECONDS);
    const admitted = inTen.filter((a) => a.status === 200).length;
    const refused = inTen.filter((a) => a.status === 429).length;
    const expected = LIMIT * SECONDS;
    const perProxy = await Promise.all(
      proxies.map(async (p) =>
        Number(
          /strangler_rate_limited_total\{[^}]*action="reject"\} (\d+)/.exec(await p.metrics())?.[1] ?? 0,
        ),
      ),
    );
    console.log(
      `fleet limit ${LIMIT}/s, 3 proxies, ${2 * LIMIT}/s offered: of ${inTen.length} requests sent in the first ${SECONDS} s ` +
        `${admitted} let through (expected ${expected}, ratio ${(admitted / expected).toFixed(3)}), ${refused} refused; ` +
        `whole run ${r.sendSeconds.toFixed(2)} s: ${r.statuses.filter((s) => s === 200).length} let through, ` +
        `refused per proxy ${perProxy.join('/')}, service saw ${service.hits() - before}`,
    );
    expect(r.errors).toEqual([]);
    expect(admitted + refused).toBe(inTen.length);
    expect(r.statuses.every((s) => s === 200 || s === 429)).toBe(true);
    expect(service.hits() - before).toBe(r.statuses.filter((s) => s === 200).length);
    expect(Math.abs(admitted - expected) / expected).toBeLessThanOrEqual(0.05);
    // Every proxy refused some: the limit is shared, not one proxy's own.
    for (const n of perProxy) expect(n).toBeGreaterThan(0);
  }, 60_000);

  it('keeps limiting, per instance, while Redis is away; no request fails for it', async () => {
    await redis.stop();
    const t0 = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const res = await pools[0].request({ method: 'GET', path: `/api/outage/${i}` });
        await res.body.dump();
        return res.statusCode;
      }),
    );
    const ms = performance.now() - t0;
    console.log(
      `Redis away: ${statuses.filter((s) => s === 200).length} of 10 let through on one proxy (limit 5/m) in ${ms.toFixed(0)} ms`,
    );
    expect(statuses.filter((s) => s === 200).length).toBe(5);
    expect(statuses.filter((s) => s === 429).length).toBe(5);
  }, 30_000);
});
