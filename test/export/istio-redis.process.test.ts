import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { run } from '../../cli/main.js';
import { openRedisStore } from '../../store/redis/index.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { captureIO, demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

describe.skipIf(!redisAvailable())('strangler export istio with a Redis store', () => {
  const tmp = tempDir('strangler-export-redis-');
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.close();
    tmp.cleanup();
  });

  it('uses the weight another instance flipped in Redis', async () => {
    const url = server.url(0);
    writeConfig(
      tmp.dir,
      demoConfigYaml({ store: url, legacy: 'http://monolith:8000', service: 'http://block:9000' }),
    );
    const store = await openRedisStore(url);
    await store.routes.seed([{ id: 'block', mode: 'legacy', weight: 0 }], 'config');
    await store.routes.flip({
      route: 'block',
      mode: 'canary',
      weight: 35,
      actor: 'other',
      reason: 'elsewhere',
    });
    await store.close();

    const c = captureIO(tmp.dir);
    expect(await run(['export', 'istio'], c.io)).toBe(0);
    const [vs] = parseAllDocuments(c.out()).map((d) => d.toJS());
    const block = vs.spec.http.find((h: { name: string }) => h.name === 'block');
    expect(block.route.map((r: { weight: number }) => r.weight)).toEqual([65, 35]);
    expect(c.out()).toContain('route block: mode canary at 35% (store version 2)');
  });
});
