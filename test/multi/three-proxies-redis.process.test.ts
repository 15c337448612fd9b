/**
 * Many proxy instances sharing a real redis-server (started by the test):
 * flips reach all three within one second; Redis stopped for ten seconds under
 * load fails no request; an instance cut off from Redis while a flip happened
 * converges within five seconds of reconnection.
 */
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedFromConfig } from '../../cli/context.js';
import { parseConfig } from '../../core/config.js';
import { type ProxyServer, startProxy } from '../../proxy/server.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { type StandIn, startStandIn } from '../helpers/stand-ins.js';
import { type CuttableLink, startLink } from '../store/cuttable-link.js';

const enabled = redisAvailable();

describe.skipIf(!enabled)('three proxies on one Redis', () => {
  let redis: RedisServer;
  let legacy: StandIn;
  let service: StandIn;
  let link: CuttableLink;
  let admin: Store;
  const stores: Store[] = [];
  const proxies: ProxyServer[] = [];
  const pools: Pool[] = [];

  const configFor = (storeUrl: string) =>
    parseConfig({
      listen: '127.0.0.1:0',
      store: storeUrl,
      legacy: { url: legacy.url },
      services: { svc: { url: service.url } },
      proxy: { pollIntervalMs: 500 },
      routes: [{ id: 'block', match: { path: '/api/block/*' }, service: 'svc', mode: 'legacy' }],
    });

  beforeAll(async () => {
    redis = await startRedis();
    legacy = await startStandIn('legacy');
    service = await startStandIn('service');
    link = await startLink(redis.port);
    const prefix = 'multi:';
    admin = await openStore(redis.url(0, prefix));
    await seedFromConfig(admin, configFor(redis.url(0, prefix)));
    // proxy 0 reaches Redis through the cuttable link; 1 and 2 directly
    const urls = [
      `redis://127.0.0.1:${link.port}/0?prefix=${prefix}`,
      redis.url(0, prefix),
      redis.url(0, prefix),
    ];
    for (const url of urls) {
      const config = configFor(url);
      const store = await openStore(url);
      stores.push(store);
      const proxy = await startProxy({ config, store, listen: { host: '127.0.0.1', port: 0 } });
      proxies.push(proxy);
      pools.push(new Pool(proxy.url, { connections: 16 }));
    }
  });

  afterAll(async () => {
    for (const p of pools) await p.close();
    for (const p of proxies) await p.close();
    for (const s of stores) await s.close();
    await admin?.close();
    await link?.close();
    await legacy?.close();
    await service?.close();
    await redis?.close();
  });

  const staleSeconds = (metrics: string) =>
    Number(/^strangler_store_stale_seconds (\S+)$/m.exec(metrics)?.[1]);

  async function servedBy(i: number): Promise<string> {
    const res = await pools[i].request({ method: 'GET', path: '/api/block/1' });
    const body = (await res.body.json()) as { served_by: string };
    expect(res.statusCode).toBe(200);
    return body.served_by;
  }

  /** ms until every listed proxy answers from `want`, polling; Infinity past the limit. */
  async function convergence(which: number[], want: string, limitMs: number): Promise<number> {
    const t0 = performance.now();
    const pending = new Set(which);
    while (pending.size && performance.now() - t0 < limitMs) {
      for (const i of [...pending]) if ((await servedBy(i)) === want) pending.delete(i);
      if (pending.size) await new Promise((r) => setTimeout(r, 25));
    }
    return pending.size ? Number.POSITIVE_INFINITY : performance.now() - t0;
  }

  it('a flip is seen by all three within one second', async () => {
    for (const i of [0, 1, 2]) expect(await servedBy(i)).toBe('legacy');
    await admin.routes.flip({ route: 'block', mode: 'service', weight: 100, actor: 'test', reason: 'multi' });
    const ms = await convergence([0, 1, 2], 'service', 3000);
    console.log(`three proxies converged ${ms.toFixed(0)} ms after the flip`);
    expect(ms).toBeLessThan(1000);
  });

  it('Redis stopped for ten seconds under load: zero failed requests; flips refused meanwhile', async () => {
    let ok = 0;
    let failed = 0;
    let stop = false;
    const client = async (i: number) => {
      while (!stop) {
        try {
          const res = await pools[i % 3].request({ method: 'GET', path: `/api/block/${i}` });
          await res.body.text();
          if (res.statusCode === 200) ok++;
          else failed++;
        } catch {
          failed++;
        }
      }
    };
    const clients = Array.from({ length: 12 }, (_, i) => client(i));
    await new Promise((r) => setTimeout(r, 500));
    await redis.stop();
    const outage = performance.now();
    await expect(
      stores[1].routes.flip({
        route: 'block',
        mode: 'legacy',
        weight: 0,
        actor: 'test',
        reason: 'during outage',
      }),
    ).rejects.toMatchObject({ code: 'STRANGLER_E_STORE' });
    while (performance.now() - outage < 10_000) await new Promise((r) => setTimeout(r, 250));
    const staleDuring = staleSeconds(await proxies[1].metrics());
    await redis.restart();
    await new Promise((r) => setTimeout(r, 1000));
    stop = true;
    await Promise.all(clients);
    const staleAfter = staleSeconds(await proxies[1].metrics());
    console.log(
      `outage under load: ${ok} ok, ${failed} failed; staleness gauge ${staleDuring}s during, ${staleAfter}s after`,
    );
    expect(staleDuring).toBeGreaterThan(5);
    expect(staleAfter).toBe(0);
    expect(ok).toBeGreaterThan(100);
    expect(failed).toBe(0);
    // the refused flip changed nothing, and every proxy still serves the last good table
    expect((await admin.routes.get('block'))!.mode).toBe('service');
    for (const i of [0, 1, 2]) expect(await servedBy(i)).toBe('service');
    // after Redis returns, a new flip converges everywhere within five seconds
    await admin.routes.flip({
      route: 'block',
      mode: 'legacy',
      weight: 0,
      actor: 'test',
      reason: 'after outage',
    });
    const ms = await convergence([0, 1, 2], 'legacy', 6000);
    console.log(`converged ${ms.toFixed(0)} ms after the post-outage flip`);
    expect(ms).toBeLessThan(5000);
  }, 60_000);

  it('an instance cut off during a flip catches up within five seconds of reconnecting', async () => {
    expect(await servedBy(0)).toBe('legacy');
    link.cut();
    await new Promise((r) => setTimeout(r, 300));
    await admin.routes.flip({
      route: 'block',
      mode: 'service',
      weight: 100,
      actor: 'test',
      reason: 'while cut off',
    });
    expect(await convergence([1, 2], 'service', 2000)).toBeLessThan(1000);
    // still cut off: keeps serving its last good table, without errors
    for (let k = 0; k < 20; k++) expect(await servedBy(0)).toBe('legacy');
    link.heal();
    const ms = await convergence([0], 'service', 7000);
    console.log(`cut-off instance caught up ${ms.toFixed(0)} ms after the link healed`);
    expect(ms).toBeLessThan(5000);
  }, 30_000);
});
