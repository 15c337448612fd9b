/**
 * Regressions for issue 13 item 10. (1) The Redis lease's holder() read
 * PTTL 0 (or -1) as "no holder" while the key still existed, which made the
 * lease test flaky. (2) holdLease kept a lease it won after being told to
 * stop: the acquire in flight when stop() was called went through, and
 * nobody released it until it expired.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdLease } from '../../store/lease.js';
import { openRedisStore } from '../../store/redis/index.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import type { LeaseStore, Store } from '../../store/types.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('strangler-lease-');
afterAll(() => tmp.cleanup());

describe.skipIf(!redisAvailable())('Redis lease holder()', () => {
  let redis: RedisServer;
  let store: Store;
  beforeAll(async () => {
    redis = await startRedis();
    store = await openRedisStore(redis.url(0, 'lease-t:'));
  });
  afterAll(async () => {
    await store?.close();
    await redis?.close();
  });

  it('a lease key that still exists is held, whatever its PTTL says (here: no expiry, PTTL -1)', async () => {
    const { Redis } = await import('ioredis');
    const raw = new Redis(redis.port, '127.0.0.1');
    try {
      await raw.set('lease-t:lease:guard', 'proxy-a');
      expect(await raw.pttl('lease-t:lease:guard')).toBe(-1);
      expect(await store.lease.holder('guard')).toEqual({ holder: 'proxy-a', expiresInMs: 0 });
      await raw.del('lease-t:lease:guard');
      expect(await store.lease.holder('guard')).toBeUndefined();
    } finally {
      raw.disconnect();
    }
  });
});

describe('holdLease stopped while its first acquire is in flight', () => {
  it('gives back the lease it won, so another instance need not wait for the TTL', async () => {
    const store = openSqliteStore(`${tmp.dir}/lease.db`);
    try {
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => (release = r));
      // The store answers the acquire only after stop() was called.
      const slow: LeaseStore = {
        acquire: async (...a) => {
          await gate;
          return store.lease.acquire(...a);
        },
        renew: (...a) => store.lease.renew(...a),
        release: (...a) => store.lease.release(...a),
        holder: (...a) => store.lease.holder(...a),
      };
      let acquired = 0;
      const h = holdLease(slow, { name: 'guard', holder: 'a', ttlMs: 60_000, onAcquire: () => acquired++ });
      const stopped = h.stop();
      release();
      await stopped;
      expect(acquired).toBe(0);
      expect(h.isHeld()).toBe(false);
      expect(await store.lease.holder('guard')).toBeUndefined();
      expect(await store.lease.acquire('guard', 'b', 60_000)).toBe(true);
    } finally {
      await store.close();
    }
  });
});
