/**
 * Readiness in process, on real parts: a proxy that started while its Redis
 * store was away serves the config's seed modes but is not ready until it
 * has read the route table from the store; once ready it stays ready while
 * the store is away again (it keeps its last good table); drain() makes it
 * not ready and puts `Connection: close` on every answer while it keeps
 * serving.
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

const enabled = redisAvailable();

async function until(pred: () => boolean, ms = 15_000): Promise<boolean> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

describe.skipIf(!enabled)('readiness', () => {
  let redis: RedisServer;
  let legacy: StandIn;
  let service: StandIn;
  let store: Store;
  let proxy: ProxyServer;

  beforeAll(async () => {
    redis = await startRedis();
    legacy = await startStandIn('legacy');
    service = await startStandIn('service');
  });

  afterAll(async () => {
    await proxy?.close();
    await store?.close();
    await service?.close();
    await legacy?.close();
    await redis?.close();
  });

  it('is not ready before the route table came from the store, then stays ready while the store is away', async () => {
    const config = parseConfig({
      listen: '127.0.0.1:0',
      store: redis.url(0, 'ready:'),
      legacy: { url: legacy.url },
      services: { svc: { url: service.url } },
      proxy: { pollIntervalMs: 200 },
      routes: [{ id: 'block', match: { path: '/api/block/*' }, service: 'svc', mode: 'legacy' }],
    });
    store = await openStore(config.store);
    await seedFromConfig(store, config);
    await redis.stop(); // saves, so the restart brings the routes back
    proxy = await startProxy({ config, store });
    expect(await until(() => !proxy.readiness().waiting.some((w) => w.startsWith('upstream')))).toBe(true);
    expect(proxy.readiness()).toEqual({
      ready: false,
      waiting: ['route table not loaded from the store yet'],
    });
    await redis.restart();
    expect(await until(() => proxy.readiness().ready)).toBe(true);
    await redis.stop();
    await new Promise((r) => setTimeout(r, 600));
    expect(proxy.readiness().ready).toBe(true);
    await redis.restart();
  }, 60_000);

  it('drain(): not ready, still serving, every answer with Connection: close', async () => {
    const pool = new Pool(proxy.url, { connections: 1 });
    try {
      const before = await pool.request({ method: 'GET', path: '/api/block/1' });
      await before.body.dump();
      expect(before.headers.connection).toBe('keep-alive');
      const drained = proxy.drain(300);
      expect(proxy.readiness()).toEqual({ ready: false, waiting: ['draining: this proxy is stopping'] });
      for (let i = 0; i < 3; i++) {
        const res = await pool.request({ method: 'GET', path: '/api/block/1' });
        await res.body.dump();
        expect(res.statusCode).toBe(200);
        expect(res.headers.connection).toBe('close');
      }
      await drained;
    } finally {
      await pool.close();
    }
  }, 30_000);
});
