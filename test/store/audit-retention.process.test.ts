/**
 * Audit retention and the records route status is read from (issue 13 item
 * 8): the log is trimmed beyond `audit.maxRows` and `audit.maxAge` (Redis:
 * XADD MAXLEN ~, approximate by design), and the newest row of one route and
 * action (the breaker state in `strangler routes`) is found however many
 * newer rows of other kinds follow it. Both backends, real files and a real
 * redis-server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedisStore } from '../../store/redis/index.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import type { AuditRetention, Store } from '../../store/types.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('strangler-retention-');
let redis: RedisServer | undefined;
let n = 0;
const hasRedis = redisAvailable();

beforeAll(async () => {
  if (hasRedis) redis = await startRedis();
});
afterAll(async () => {
  await redis?.close();
  tmp.cleanup();
});

const backends: Array<[string, (audit: AuditRetention) => Promise<Store>]> = [
  ['sqlite', async (audit) => openSqliteStore(`${tmp.dir}/state-${++n}.db`, { audit })],
  ...(hasRedis
    ? [
        ['redis', async (audit: AuditRetention) => openRedisStore(redis!.url(0, `t${++n}:`), { audit })] as [
          string,
          (a: AuditRetention) => Promise<Store>,
        ],
      ]
    : []),
];

const row = (i: number, action = 'flip') => ({
  actor: 't',
  route: 'block',
  action,
  before: null,
  after: null,
  reason: `row ${i}`,
});

async function appendMany(store: Store, count: number, action = 'flip'): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < count) await store.audit.append(row(next++, action));
    }),
  );
}

describe.each(backends)('audit retention and latest rows (%s)', (name, open) => {
  it('keeps about maxRows rows: the oldest go, the newest stay', async () => {
    const store = await open({ maxRows: 1000, maxAgeMs: 3_600_000 });
    try {
      await appendMany(store, 4000);
      const all = await store.audit.list({ limit: 1_000_000 });
      // SQLite trims every 256 appends; Redis's MAXLEN ~ keeps whole stream nodes (100 entries).
      expect(all.length).toBeGreaterThanOrEqual(1000);
      expect(all.length).toBeLessThanOrEqual(name === 'sqlite' ? 1256 : 1200);
      expect(all.at(-1)!.seq).toBe(4000);
      expect(all[0].seq).toBeGreaterThan(2700);
    } finally {
      await store.close();
    }
  });

  it('drops rows older than maxAge', async () => {
    const store = await open({ maxRows: 1_000_000, maxAgeMs: 200 });
    try {
      await appendMany(store, 600);
      await new Promise((r) => setTimeout(r, 400));
      await appendMany(store, 600);
      const all = await store.audit.list({ limit: 1_000_000 });
      // Trimming is batched (every 256th append), so some old rows may stay
      // until the next trim; most of the first 600 are gone.
      expect(all.filter((e) => e.seq <= 600).length).toBeLessThan(300);
      expect(all.at(-1)!.seq).toBe(1200);
    } finally {
      await store.close();
    }
  });

  it('finds the newest breaker row behind 5,000 newer rows of other kinds, in one lookup', async () => {
    const store = await open({ maxRows: 1_000_000, maxAgeMs: 3_600_000 });
    try {
      await store.audit.append(row(0, 'breaker.open'));
      await appendMany(store, 5000, 'shadow.reset');
      const [open] = await store.audit.list({ route: 'block', action: 'breaker.open', limit: 1 });
      expect(open).toMatchObject({ seq: 1, action: 'breaker.open' });
      expect(await store.audit.list({ route: 'block', action: 'breaker.close', limit: 1 })).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
