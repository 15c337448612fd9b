/**
 * StoreIntegrity on both backends (issue 13 items 2-3): a store object
 * knows the state it opened; when that state vanishes or is replaced, it
 * says "lost", refuses flips (STRANGLER_E_STORE_LOST, nothing changed) and
 * refuses to seed over it. A store never seeded is "uninitialised".
 */
import { renameSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStranglerError } from '../../core/errors.js';
import { openRedisStore } from '../../store/redis/index.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import type { Store } from '../../store/types.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('strangler-integrity-');
afterAll(() => tmp.cleanup());
const SEED = [{ id: 'block', mode: 'shadow' as const, weight: 0 }];

async function rejectionCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isStranglerError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a rejection');
}

const flip = (s: Store) =>
  s.routes.flip({ route: 'block', mode: 'legacy', weight: 0, actor: 't', reason: 'r' });

describe('SQLite store integrity', () => {
  it('uninitialised until seeded; lost when its file is replaced; the replacement file is untouched', async () => {
    const file = `${tmp.dir}/a.db`;
    const a = openSqliteStore(file);
    try {
      expect(await a.integrity()).toMatchObject({ state: 'uninitialised' });
      await a.routes.seed(SEED, 'config');
      const id = (await a.identity())!.id;
      expect(await a.integrity()).toEqual({ state: 'ok', id });

      // Another store file moved over ours (an operator restoring the wrong backup, a re-created file).
      const other = openSqliteStore(`${tmp.dir}/b.db`);
      await other.routes.seed(SEED, 'config');
      await other.close();
      renameSync(`${tmp.dir}/b.db`, file);

      expect(await a.integrity()).toMatchObject({
        state: 'lost',
        reason: expect.stringContaining('replaced'),
      });
      expect(await rejectionCode(flip(a))).toBe('STRANGLER_E_STORE_LOST');
      expect(await rejectionCode(a.routes.seed(SEED, 'config'))).toBe('STRANGLER_E_STORE_LOST');
    } finally {
      await a.close();
    }
    const reopened = openSqliteStore(file);
    try {
      expect(await reopened.routes.get('block')).toMatchObject({ mode: 'shadow', version: 1 });
    } finally {
      await reopened.close();
    }
  });
});

describe.skipIf(!redisAvailable())('Redis store integrity', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => redis?.close());

  it('lost when its identity vanishes, and when the store was re-seeded by someone else since', async () => {
    const url = redis.url(0, 'int:');
    const a = await openRedisStore(url);
    try {
      expect(await a.integrity()).toMatchObject({ state: 'uninitialised' });
      await a.routes.seed(SEED, 'config');
      expect((await a.integrity()).state).toBe('ok');

      const { Redis } = await import('ioredis');
      const raw = new Redis(redis.port, '127.0.0.1');
      await raw.flushdb(); // Redis restarted empty, as far as the data goes
      expect(await a.integrity()).toMatchObject({
        state: 'lost',
        reason: expect.stringContaining('is gone'),
      });
      expect(await rejectionCode(flip(a))).toBe('STRANGLER_E_STORE_LOST');
      expect(await rejectionCode(a.routes.seed(SEED, 'config'))).toBe('STRANGLER_E_STORE_LOST');
      expect(await raw.exists('int:route:block')).toBe(0);

      // An explicit `strangler seed` from another process names a new store; ours stays lost.
      const b = await openRedisStore(url);
      await b.routes.seed(SEED, 'operator');
      await b.close();
      raw.disconnect();
      expect(await a.integrity()).toMatchObject({
        state: 'lost',
        reason: expect.stringContaining('re-seeded'),
      });
      expect(await rejectionCode(flip(a))).toBe('STRANGLER_E_STORE_LOST');
    } finally {
      await a.close();
    }
  });
});
