/**
 * The Redis store while Redis is away: calls fail fast with STRANGLER_E_STORE,
 * a flip is refused and not half-applied, and watchers converge after Redis
 * (or the link to it) returns. Faults are real: redis-server is stopped and
 * restarted, or one instance's TCP link to it is cut.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStranglerError } from '../../core/errors.js';
import { holdLease } from '../../store/lease.js';
import { openRedisStore } from '../../store/redis/index.js';
import type { Store } from '../../store/types.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { waitFor } from './contract.js';
import { type CuttableLink, startLink } from './cuttable-link.js';

const SEEDS = [
  { id: 'orders', mode: 'legacy' as const, weight: 0 },
  { id: 'block', mode: 'shadow' as const, weight: 0 },
];

/** Settle a promise within `ms` (a hung call fails the test instead of the suite timeout). */
async function settle<T>(
  p: Promise<T>,
  ms: number,
): Promise<{ ok: true; value: T } | { ok: false; err: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms: the call hangs`)), ms);
  });
  try {
    return { ok: true, value: await Promise.race([p, deadline]) };
  } catch (err) {
    if ((err as Error).message.includes('the call hangs')) throw err;
    return { ok: false, err };
  } finally {
    clearTimeout(timer);
  }
}

describe.skipIf(!redisAvailable())('redis store outage', () => {
  let server: RedisServer;
  let link: CuttableLink | undefined;
  const stores: Store[] = [];
  let n = 0;
  const open = async (prefix: string, port?: number) => {
    const url = port ? `redis://127.0.0.1:${port}/0?prefix=${prefix}` : server.url(0, prefix);
    const s = await openRedisStore(url);
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await link?.close();
    await server?.close();
  });

  it('refuses a flip with STRANGLER_E_STORE while Redis is down; state is unchanged after restart', async () => {
    const prefix = `o${++n}:`;
    const s = await open(prefix);
    await s.routes.seed(SEEDS, 'config');
    await s.routes.flip({ route: 'block', mode: 'canary', weight: 5, actor: 'ann', reason: 'before outage' });
    const before = {
      routes: await s.routes.list(),
      audit: await s.audit.list(),
      tv: await s.routes.tableVersion(),
    };

    await server.stop();
    const flip = await settle(
      s.routes.flip({ route: 'block', mode: 'service', weight: 100, actor: 'ann', reason: 'during outage' }),
      10_000,
    );
    expect(flip.ok).toBe(false);
    const err = (flip as { err: unknown }).err;
    expect(isStranglerError(err, 'STRANGLER_E_STORE')).toBe(true);
    expect((err as Error).message).toMatch(/flip of "block" refused, nothing changed/);
    console.info(`refused while down: ${(err as Error).message}`);
    const read = await settle(s.routes.list(), 10_000);
    expect(read.ok).toBe(false);
    expect(isStranglerError((read as { err: unknown }).err, 'STRANGLER_E_STORE')).toBe(true);

    await server.restart();
    // the same store object reconnects by itself
    await waitFor(
      'the store to reconnect',
      async () => (await settle(s.routes.tableVersion(), 5000)).ok,
      5000,
    );
    expect(await s.routes.list()).toEqual(before.routes);
    expect(await s.audit.list()).toEqual(before.audit);
    expect(await s.routes.tableVersion()).toBe(before.tv);
    // and flips work again; the Lua script is reloaded into the fresh script cache
    const after = await s.routes.flip({
      route: 'block',
      mode: 'service',
      weight: 100,
      actor: 'ann',
      reason: 'after',
    });
    expect(after.version).toBe(3);
  });

  it('a watcher cut off from Redis gets a flip made meanwhile within 5 s of reconnecting', async () => {
    const prefix = `o${++n}:`;
    link = await startLink(server.port);
    const cutOff = await open(prefix, link.port);
    const cli = await open(prefix);
    await cli.routes.seed(SEEDS, 'config');
    let calls = 0;
    cutOff.watch(() => {
      calls++;
    }, 1000);
    await new Promise((r) => setTimeout(r, 300));
    const base = calls;

    link.cut();
    await new Promise((r) => setTimeout(r, 300));
    const refused = await settle(
      cutOff.routes.flip({ route: 'orders', mode: 'shadow', weight: 0, actor: 'x', reason: '' }),
      10_000,
    );
    expect(isStranglerError((refused as { err?: unknown }).err, 'STRANGLER_E_STORE')).toBe(true);
    // the pub/sub message for this flip is lost to the cut-off instance
    await cli.routes.flip({
      route: 'block',
      mode: 'canary',
      weight: 20,
      actor: 'cli',
      reason: 'while cut off',
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(calls).toBe(base);

    link.heal();
    const healedAt = Date.now();
    await waitFor('the cut-off watcher to see the flip', () => calls > base, 5000);
    const tookMs = Date.now() - healedAt;
    expect(tookMs).toBeLessThan(5000);
    expect((await cutOff.routes.get('block'))?.weight).toBe(20);
    console.info(`cut-off watcher converged ${tookMs} ms after the link healed`);
  });

  it('watchers on both sides of a Redis restart see the next flip within 5 s', async () => {
    const prefix = `o${++n}:`;
    const a = await open(prefix);
    const b = await open(prefix);
    await b.routes.seed(SEEDS, 'config');
    let calls = 0;
    a.watch(() => {
      calls++;
    }, 1000);
    await new Promise((r) => setTimeout(r, 300));
    const base = calls;
    await server.stop();
    await new Promise((r) => setTimeout(r, 500));
    await server.restart();
    const upAt = Date.now();
    // the flipper retries until its own connection is back
    await waitFor(
      'a flip to succeed after restart',
      async () =>
        (
          await settle(
            b.routes.flip({
              route: 'orders',
              mode: 'shadow',
              weight: 0,
              actor: 'b',
              reason: 'after restart',
            }),
            5000,
          )
        ).ok,
      5000,
    );
    await waitFor('the watcher to see it', () => calls > base, 5000);
    expect(Date.now() - upAt).toBeLessThan(5000);
  });

  it('the lease holder steps down while Redis is away, and one instance leads again after it returns', async () => {
    const prefix = `o${++n}:`;
    const a = await open(prefix);
    const b = await open(prefix);
    const lost: string[] = [];
    const mk = (s: Store, holder: string) =>
      holdLease(s.lease, {
        name: 'guard',
        holder,
        ttlMs: 1000,
        onLose: (why) => lost.push(`${holder}:${why}`),
      });
    const ha = mk(a, 'A');
    await waitFor('A to lead', () => ha.isHeld(), 3000);
    const hb = mk(b, 'B');
    await server.stop();
    // nobody can confirm the lease, so nobody may act as leader past its TTL
    await waitFor('A to step down', () => !ha.isHeld(), 3000);
    expect(lost).toEqual(['A:store-unreachable']);
    expect(hb.isHeld()).toBe(false);
    await server.restart();
    await waitFor('someone to lead again', () => ha.isHeld() || hb.isHeld(), 5000);
    expect(ha.isHeld() && hb.isHeld()).toBe(false);
    await ha.stop();
    await hb.stop();
  });

  it('delivers a flip by pub/sub within 1 s even when polling is slow', async () => {
    const prefix = `o${++n}:`;
    const a = await open(prefix);
    const b = await open(prefix);
    await b.routes.seed(SEEDS, 'config');
    let calls = 0;
    a.watch(() => {
      calls++;
    }, 60_000);
    // the first poll reads the baseline; then only a message can report a change
    await new Promise((r) => setTimeout(r, 300));
    const base = calls;
    await b.routes.flip({ route: 'orders', mode: 'shadow', weight: 0, actor: 'b', reason: 'pubsub' });
    const took = await waitFor('the pub/sub notice', () => calls > base, 1000);
    expect(took).toBeLessThan(1000);
  });

  it('fails to open with STRANGLER_E_STORE when nothing listens, and names the bad URL field', async () => {
    const dead = await startLink(server.port);
    const port = dead.port;
    await dead.close();
    const res = await settle(openRedisStore(`redis://127.0.0.1:${port}/0`), 10_000);
    expect(res.ok).toBe(false);
    expect(isStranglerError((res as { err: unknown }).err, 'STRANGLER_E_STORE')).toBe(true);
    await expect(openRedisStore('redis://127.0.0.1:1/abc')).rejects.toThrow(/store: .*database index/);
    await expect(openRedisStore('redis://127.0.0.1:1/0?prefix=a%20b')).rejects.toMatchObject({
      code: 'STRANGLER_E_CONFIG',
    });
  });
});
