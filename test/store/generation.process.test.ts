/**
 * The generation never goes back (issue 29, case 3), on both backends: a
 * store object that saw generation N and then reads a lower one (same
 * identity: restored from an older backup) calls the store lost with "the
 * store went back from generation N to M", refuses flips (the check is in
 * the flip's own transaction / Lua script too), and `acceptRestore` raises
 * the generation above N with one audit row recording both. The going back
 * is simulated by lowering the counter behind the store's back (the process
 * tests in test/integrity restore real snapshots).
 */
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptRestore } from '../../control/restore.js';
import { isStranglerError } from '../../core/errors.js';
import { requireIntact } from '../../store/integrity.js';
import { openRedisStore } from '../../store/redis/index.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import type { Store } from '../../store/types.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('strangler-generation-');
afterAll(() => tmp.cleanup());
const SEED = [{ id: 'block', mode: 'service' as const, weight: 100 }];

async function rejected(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isStranglerError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a rejection');
}

const flip = (s: Store, mode: 'legacy' | 'service') =>
  s.routes.flip({ route: 'block', mode, weight: mode === 'service' ? 100 : 0, actor: 't', reason: 'r' });

/** Seed, flip twice (generation 3), then lower the counter to 1 behind the store's back. */
async function goBack(a: Store, lower: () => Promise<void>): Promise<void> {
  await a.routes.seed(SEED, 'config');
  await flip(a, 'legacy');
  await flip(a, 'service');
  expect(await a.routes.tableVersion()).toBe(3);
  expect(await a.integrity()).toMatchObject({ state: 'ok' });
  await lower();
}

async function expectWentBackThenAccept(a: Store): Promise<void> {
  expect(await a.integrity()).toMatchObject({
    state: 'lost',
    reason: 'the store went back from generation 3 to 1 (restored from an older backup?)',
    wentBack: { from: 3, to: 1 },
  });
  // The write itself refuses, not only the integrity check before it.
  const refused = await rejected(flip(a, 'legacy'));
  expect(refused.code).toBe('STRANGLER_E_STORE_LOST');
  expect(refused.message).toContain('went back from generation 3 to 1');
  expect(refused.message).toContain('strangler seed --accept-restore');
  await a.markLost({
    lastVersion: 3,
    noticedBy: 'test:1',
    reason: 'went back',
    wentBack: { from: 3, to: 1 },
  });

  const cli = await reopen(a);
  try {
    // A process opened after the restore sees nothing wrong by itself: the mark refuses it.
    expect((await rejected(requireIntact(cli))).message).toContain(
      'went back from generation 3 to 1 (restored from an older backup?)',
    );
    const r = await acceptRestore(cli, { actor: 'ops', reason: 'restored the 02:00 snapshot' });
    expect(r).toMatchObject({ restoredGeneration: 1, highestSeen: 3, generation: 4 });
    await requireIntact(cli);
    expect(await cli.lostMark()).toBeUndefined();
    const row = (await cli.audit.list({ action: 'store.restore-accepted' })).at(-1)!;
    expect(row).toMatchObject({
      actor: 'ops',
      reason: 'restored the 02:00 snapshot',
      details: { restoredGeneration: 1, highestSeen: 3, generation: 4 },
    });
  } finally {
    await cli.close();
  }
  // The store object that saw generation 3 accepts it again.
  expect(await a.integrity()).toMatchObject({ state: 'ok' });
  await flip(a, 'legacy');
  expect(await a.routes.tableVersion()).toBe(5);
}

const reopeners = new Map<Store, () => Promise<Store>>();
const reopen = (s: Store) => reopeners.get(s)!();

describe('SQLite: a generation that goes back is a lost store', () => {
  it('refuses, says "went back from generation 3 to 1", and accept-restore raises it to 4', async () => {
    const file = `${tmp.dir}/gen.db`;
    const a = openSqliteStore(file);
    reopeners.set(a, async () => openSqliteStore(file, { create: false }));
    try {
      await goBack(a, async () => {
        const raw = new Database(file);
        raw.prepare('UPDATE table_version SET version = 1 WHERE id = 1').run();
        raw.close();
      });
      await expectWentBackThenAccept(a);
    } finally {
      await a.close();
    }
  });

  it('a process opened after an older copy came back is refused too: the floor lives in <db>.generation', async () => {
    const file = `${tmp.dir}/floor.db`;
    const a = openSqliteStore(file);
    await a.routes.seed(SEED, 'config');
    await flip(a, 'legacy');
    await a.close();
    const raw = new Database(file);
    raw.prepare('UPDATE table_version SET version = 1 WHERE id = 1').run();
    raw.close();
    const b = openSqliteStore(file, { create: false });
    try {
      expect(await b.integrity()).toMatchObject({ state: 'lost', wentBack: { from: 2, to: 1 } });
      expect((await rejected(requireIntact(b))).code).toBe('STRANGLER_E_STORE_LOST');
      expect(await acceptRestore(b, { actor: 'ops', reason: 'r' })).toMatchObject({ generation: 3 });
      expect(await b.integrity()).toMatchObject({ state: 'ok' });
    } finally {
      await b.close();
    }
  });

  it('accept-restore on a store that never went back changes nothing', async () => {
    const file = `${tmp.dir}/fine.db`;
    const a = openSqliteStore(file);
    try {
      await a.routes.seed(SEED, 'config');
      expect((await rejected(acceptRestore(a, { actor: 'ops', reason: 'r' }))).code).toBe(
        'STRANGLER_E_USAGE',
      );
      expect(await a.routes.tableVersion()).toBe(1);
      expect(await a.audit.list({ action: 'store.restore-accepted' })).toEqual([]);
    } finally {
      await a.close();
    }
  });
});

describe.skipIf(!redisAvailable())('Redis: a generation that goes back is a lost store', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('refuses (in the flip script too), says "went back from generation 3 to 1", and accept-restore raises it to 4', async () => {
    const url = redis.url(3);
    const a = await openRedisStore(url);
    reopeners.set(a, () => openRedisStore(url));
    const raw = new Redis(redis.port, { db: 3 });
    try {
      await goBack(a, async () => {
        await raw.set('strangler:table-version', '1');
      });
      await expectWentBackThenAccept(a);
    } finally {
      raw.disconnect();
      await a.close();
    }
  });
});
