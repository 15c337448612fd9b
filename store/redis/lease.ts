import type { LeaseStore } from '../types.js';
import type { RedisContext } from './client.js';

// Compare-and-set in Lua so a holder only extends or drops a lease that is
// still its own: a plain PEXPIRE/DEL after GET could act on a lease another
// instance took in between (the Redlock single-instance pattern).
const ACQUIRE_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if cur then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;
const RENEW_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;
const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type ScriptRedis = {
  stranglerLeaseAcquire(key: string, holder: string, ttl: number): Promise<number>;
  stranglerLeaseRenew(key: string, holder: string, ttl: number): Promise<number>;
  stranglerLeaseRelease(key: string, holder: string): Promise<number>;
};

export function defineLeaseScripts(ctx: RedisContext): void {
  ctx.redis.defineCommand('stranglerLeaseAcquire', { numberOfKeys: 1, lua: ACQUIRE_LUA });
  ctx.redis.defineCommand('stranglerLeaseRenew', { numberOfKeys: 1, lua: RENEW_LUA });
  ctx.redis.defineCommand('stranglerLeaseRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
}

/** Leases as keys with a PX expiry on the Redis clock, shared by every instance. */
export class RedisLeaseStore implements LeaseStore {
  constructor(private readonly ctx: RedisContext) {}

  private get scripts(): ScriptRedis {
    return this.ctx.redis as unknown as ScriptRedis;
  }

  private leaseKey(name: string): string {
    return this.ctx.key('lease', name);
  }

  async acquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    return this.ctx.run(
      `acquire lease ${name}`,
      async () => (await this.scripts.stranglerLeaseAcquire(this.leaseKey(name), holder, ttl)) === 1,
    );
  }

  async renew(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    return this.ctx.run(
      `renew lease ${name}`,
      async () => (await this.scripts.stranglerLeaseRenew(this.leaseKey(name), holder, ttl)) === 1,
    );
  }

  async release(name: string, holder: string): Promise<void> {
    await this.ctx.run(`release lease ${name}`, () =>
      this.scripts.stranglerLeaseRelease(this.leaseKey(name), holder),
    );
  }

  async holder(name: string): Promise<{ holder: string; expiresInMs: number } | undefined> {
    return this.ctx.run(`read lease ${name}`, async (redis) => {
      const [[e1, holder], [e2, ttl]] = (await redis
        .multi()
        .get(this.leaseKey(name))
        .pttl(this.leaseKey(name))
        .exec()) as [[Error | null, string | null], [Error | null, number]];
      if (e1 || e2) throw e1 ?? e2;
      // PTTL answers -2 for a missing key and -1 for one without expiry; 0 is
      // a key that still exists in its last millisecond: still held (reading
      // 0 as "free" made the lease test flaky, issue 13).
      return holder && ttl !== -2 ? { holder, expiresInMs: Math.max(0, ttl) } : undefined;
    });
  }
}
