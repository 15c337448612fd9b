import { describe } from 'vitest';
import { openRedisStore } from '../../store/redis/index.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { storeContract } from './contract.js';

let server: RedisServer | undefined;
let n = 0;
describe.skipIf(!redisAvailable())('redis', () => {
  storeContract({
    name: 'redis',
    async setup() {
      server = await startRedis();
    },
    async teardown() {
      await server?.close();
    },
    async fresh() {
      // A key prefix per test: a fresh namespace without FLUSHDB between tests.
      const url = server!.url(0, `t${++n}:`);
      return () => openRedisStore(url);
    },
  });
});
