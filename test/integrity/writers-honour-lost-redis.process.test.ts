/**
 * Regression for issue 29, case 4 (Redis): with the proxy lost because its
 * Redis was emptied (and then re-seeded), `routes`, `history` and `flip` said
 * "no strangler state in this Redis database yet" although the lost mark was
 * there, `strangler seed` succeeded beside the live proxy holding the guard
 * lease, and admin `GET /routes` answered `{"routes":[]}` while the proxy
 * served a route. Now every CLI command says lost (exit 5, one line), `seed`
 * names the live proxy (host:pid) and refuses unless --force, and `GET
 * /routes` answers the served table marked stale. Real processes:
 * redis-server, `strangler serve`, the CLI.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/open.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { writeConfig } from '../helpers/tmp.js';
import { cli, oneRouteConfig, servedBy, until } from './helpers.js';
import { adminRoutes, expectLost, lostOnHealthz, lostStoreBench } from './writers-lost.js';

const bench = lostStoreBench('strangler-writers-lost-redis-');

describe.skipIf(!redisAvailable())('a Redis emptied, then re-seeded, under a running proxy', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('routes, history and flip say lost (never "yet"); seed names the live proxy; GET /routes is never []', async () => {
    const config = writeConfig(
      bench.dir(),
      oneRouteConfig({ store: redis.url(0), upstream: bench.upstreamUrl(), mode: 'service' }),
      'redis.yaml',
    );
    const a = await bench.proxyOnLegacy(config);
    const raw = new Redis(redis.port);
    await raw.flushall();
    raw.disconnect();
    await lostOnHealthz(a);
    const store = await openStore(redis.url(0));
    try {
      await until('the lost mark', () => store.lostMark(), 10_000);
      const [routesCli, history, flip, seed] = await Promise.all([
        cli(config, ['routes']),
        cli(config, ['history']),
        cli(config, ['flip', 'block', 'legacy', '--reason', 'again']),
        cli(config, ['seed']),
      ]);
      expectLost(routesCli, 'routes');
      expectLost(history, 'history');
      expectLost(flip, 'flip');
      expect(seed.code, seed.err).toBe(5);
      expect(seed.err).toContain('STRANGLER_E_PROXIES_LIVE');
      expect(seed.err).toContain(`:${a.child.pid} (`);
      expect(await store.identity()).toBeUndefined();

      const routes = await adminRoutes(a);
      expect(routes.stale).toBe(true);
      expect(routes.routes).toMatchObject([{ id: 'block', mode: 'legacy' }]);

      // Re-seeded anyway (--force): the proxy still serves its last good table
      // and marks the new store lost again, so a flip there is refused too.
      const forced = await cli(config, ['seed', '--force', '--reason', 'start over']);
      expect(forced.code, forced.err).toBe(0);
      await until('the lost mark again', () => store.lostMark(), 10_000);
      expectLost(await cli(config, ['flip', 'block', 'legacy', '--reason', 'again']), 'flip after re-seed');
      for (let i = 0; i < 3; i++) expect(await servedBy(a.proxy)).toBe('legacy');
      expect((await adminRoutes(a)).routes).toMatchObject([{ id: 'block', mode: 'legacy' }]);
    } finally {
      await store.close();
    }
  }, 60_000);
});
