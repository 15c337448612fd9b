/**
 * The Redis store (`store: redis://HOST:PORT[/DB][?prefix=P]`), for many proxy
 * instances sharing one route table. Same interface and contract as the
 * SQLite store (test/store/contract.ts runs against both).
 *
 * Keys (prefix `strangler:` by default):
 *   route:ID (hash: state and its `definition` JSON), routes (set of ids), upstreams (JSON),
 *   table-version (counter),
 *   audit (stream), audit-seq (counter), shadow:ROUTE:*, stats:*, stats-index,
 *   results:KIND[:latest], lease:NAME, recording:ROUTE:{cases,bytes}, lost (the lost mark, store/lost-mark.ts); channel `changes` carries the new table
 *   version after every route change.
 *
 * While Redis is away every call fails fast with STRANGLER_E_STORE (no offline
 * queue, short command timeout) so proxies keep their last good table and
 * flips are refused, never half-applied: a flip is one Lua script.
 */
import { Redis } from 'ioredis';
import { StranglerError } from '../../core/errors.js';
import { createLogger } from '../../core/log.js';
import { parseLostMark } from '../lost-mark.js';
import { guardSubStore, storeLostError, WRITE_METHODS, writeErrorLog } from '../integrity.js';
import {
  type AuditRetention,
  DEFAULT_AUDIT_RETENTION,
  type LostNotice,
  type Store,
  type StoreIntegrity,
} from '../types.js';
import { GenerationFloor, wentBackReason } from '../generation.js';
import { type VersionWatch, watchTableVersion } from '../version-watch.js';
import { defineAuditScripts, RedisAuditLog } from './audit.js';
import { connectionOptions, parseRedisUrl, RedisContext, type RedisTarget, storeError } from './client.js';
import { defineLeaseScripts, RedisLeaseStore } from './lease.js';
import { defineRecordScripts, RedisRecordStore } from './records.js';
import { defineRecordingScripts, RedisRecordingStore } from './recordings.js';
import { RedisResultStore } from './results.js';
import { defineRouteScripts, type IdentityHolder, RedisRouteStore } from './routes.js';
import { RedisShadowStore } from './shadow.js';
import { RedisStatsStore } from './stats.js';

export { parseRedisUrl } from './client.js';

/** KEYS: lost mark, table version. ARGV: mark JSON, generation at which not to write it|''. SET NX. */
const MARK_LOST_LUA = `
if ARGV[2] ~= '' and tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[2]) then return false end
return redis.call('SET', KEYS[1], ARGV[1], 'NX')
`;

/** Opening a Redis store fails with STRANGLER_E_STORE after this long without an answer. */
export const OPEN_DEADLINE_MS = 1500;

/**
 * A connection of its own to a Redis store's database, for data that lives
 * beside the store under its key prefix (the rate limits' windows,
 * proxy/rate-limit.ts): no scripts, no identity, no offline queue. The
 * backend's connection rules stay here, behind its public face.
 */
export function connectBeside(url: string, commandTimeoutMs: number): { client: Redis; prefix: string } {
  const target = parseRedisUrl(url);
  return {
    client: new Redis(connectionOptions(target, { commandTimeout: commandTimeoutMs })),
    prefix: target.prefix,
  };
}

/** The store's identity hash (id, createdAt): what integrity() compares with the one this process opened. */
const readIdentity = (ctx: RedisContext) => ctx.run('read store identity', (r) => r.hgetall(ctx.key('meta')));

/**
 * The command connection with the store's scripts defined, and the identity
 * it read: both within OPEN_DEADLINE_MS, or STRANGLER_E_STORE.
 */
async function connectStore(
  target: RedisTarget,
): Promise<{ redis: Redis; ctx: RedisContext; opened: Record<string, string> }> {
  const log = createLogger('strangler.store');
  const redis = new Redis(connectionOptions(target));
  // ioredis reports connection trouble as 'error' events; without a listener
  // it prints them. Log transitions once instead of once per retry.
  let down = false;
  let lastError: Error | undefined;
  redis.on('error', (err) => {
    lastError = err;
    if (!down)
      log.warn({ store: target.label, err: err.message }, 'redis store unreachable; keeping last good state');
    down = true;
  });
  redis.on('ready', () => {
    if (down) log.info({ store: target.label }, 'redis store reachable again');
    down = false;
  });
  // One deadline for connecting and the first read, whatever ioredis's
  // retries do meanwhile: a Redis that accepts the TCP connection but does
  // not answer (stopped, overloaded) made a CLI flip wait 9-18 s (issue 13).
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${OPEN_DEADLINE_MS} ms`)), OPEN_DEADLINE_MS);
  });
  try {
    await Promise.race([redis.connect(), deadline]);
  } catch (err) {
    clearTimeout(timer);
    redis.disconnect();
    // ioredis rejects with "Connection is closed."; the cause (ECONNREFUSED...) came as an 'error' event.
    throw storeError(
      target,
      'connect',
      /Connection is closed/.test((err as Error)?.message ?? '') && lastError ? lastError : err,
    );
  }
  const ctx = new RedisContext(redis, target);
  defineRouteScripts(ctx);
  defineAuditScripts(ctx);
  defineLeaseScripts(ctx);
  defineRecordScripts(ctx);
  defineRecordingScripts(ctx);
  let opened: Record<string, string>;
  try {
    opened = await Promise.race([readIdentity(ctx), deadline]);
  } catch (err) {
    redis.disconnect();
    throw storeError(target, 'connect', err);
  } finally {
    clearTimeout(timer);
  }
  return { redis, ctx, opened };
}

/** store.integrity(): this Redis still holds the state this process opened, at no older generation. */
function integrityCheck(
  ctx: RedisContext,
  identity: IdentityHolder,
  routes: RedisRouteStore,
): () => Promise<StoreIntegrity> {
  return async () => {
    const id = (await readIdentity(ctx)).id;
    if (!id && !identity.seen)
      return { state: 'uninitialised', reason: 'no strangler state in this Redis database yet' };
    if (!id)
      return {
        state: 'lost',
        reason: `its identity ${identity.seen} is gone (Redis restarted without its data?)`,
      };
    if (identity.seen && id !== identity.seen)
      return {
        state: 'lost',
        reason: `it holds ${id}, not ${identity.seen} which this process opened (re-seeded since?)`,
      };
    identity.seen = id;
    // Same identity, older state: restored from an older RDB/AOF, or a
    // replica promoted behind (store/generation.ts).
    const generation = await routes.tableVersion();
    const back = identity.floor.wentBack(generation);
    if (back) return { state: 'lost', reason: wentBackReason(back.from, back.to), wentBack: back };
    identity.floor.observe(generation);
    return { state: 'ok', id };
  };
}

/** Connect, or throw STRANGLER_E_STORE if Redis does not answer within the connect timeout. */
export async function openRedisStore(url: string, opts: { audit?: AuditRetention } = {}): Promise<Store> {
  const target = parseRedisUrl(url);
  const { redis, ctx, opened } = await connectStore(target);
  const retention = opts.audit ?? DEFAULT_AUDIT_RETENTION;
  const readId = () => readIdentity(ctx);
  const identity: IdentityHolder = {
    seen: opened.id || undefined,
    floor: new GenerationFloor(),
    lost: (reason, wentBack) =>
      storeLostError(target.label, { state: 'lost', reason, ...(wentBack ? { wentBack } : {}) }),
  };
  const routes: RedisRouteStore = new RedisRouteStore(ctx, identity, retention.maxRows);
  const integrity = integrityCheck(ctx, identity, routes);
  const writes = writeErrorLog();
  const guard = <T extends object>(part: string, o: T) =>
    guardSubStore(target.label, part, o, WRITE_METHODS, writes);

  // One subscriber connection for all watchers of this store object. It keeps
  // its offline queue so the SUBSCRIBE issued while Redis is away is sent on
  // reconnect; ioredis re-subscribes by itself after every reconnect.
  let subscriber: Redis | undefined;
  const listeners = new Set<(version: number) => void>();
  const reconnectHooks = new Set<() => void>();
  const watchers = new Set<VersionWatch>();
  let closed = false;

  const ensureSubscriber = () => {
    if (subscriber) return;
    const sub = new Redis(connectionOptions(target, { lazyConnect: false, enableOfflineQueue: true }));
    sub.on('error', () => {
      // the command connection logs outages; polling covers lost messages
    });
    sub.on('message', (channel: string, message: string) => {
      if (channel !== ctx.channel) return;
      for (const l of listeners) l(Number(message));
    });
    // After a reconnect, check the version at once rather than at the next
    // poll: flips made while we were cut off reach us sooner.
    sub.on('ready', () => {
      for (const h of reconnectHooks) h();
    });
    sub.subscribe(ctx.channel).catch(() => {
      // retried by autoResubscribe once connected; polling covers the gap
    });
    subscriber = sub;
  };

  return {
    kind: 'redis',
    label: target.label,
    routes: guard('routes', routes),
    audit: guard('audit', new RedisAuditLog(ctx, retention)),
    shadow: guard('shadow', new RedisShadowStore(ctx)),
    stats: guard('stats', new RedisStatsStore(ctx)),
    results: guard('results', new RedisResultStore(ctx)),
    lease: guard('lease', new RedisLeaseStore(ctx)),
    records: guard('records', new RedisRecordStore(ctx)),
    recordings: guard('recordings', new RedisRecordingStore(ctx)),
    async identity() {
      const m = await readId();
      return m.id ? { id: m.id, createdAt: m.createdAt ?? '' } : undefined;
    },
    integrity,
    async lostMark() {
      const text = await ctx.run('read lost mark', (r) => r.get(ctx.key('lost')));
      return text === null ? undefined : parseLostMark(text);
    },
    // SET NX: the first proxy to notice wins. An empty Redis accepts the key,
    // and a Redis restored from its RDB/AOF never held it.
    async markLost(notice: LostNotice) {
      const mark = { lostId: identity.seen ?? null, ...notice, noticedAt: new Date().toISOString() };
      // A went-back mark is not written once the generation is back at the
      // one seen (accept-restore raised it while this proxy was noticing).
      const floor = notice.wentBack ? String(notice.wentBack.from) : '';
      const set = await ctx.run('write lost mark', (r) =>
        r.eval(MARK_LOST_LUA, 2, ctx.key('lost'), ctx.key('table-version'), JSON.stringify(mark), floor),
      );
      if (set === 'OK') return mark;
      const text = await ctx.run('read lost mark', (r) => r.get(ctx.key('lost')));
      return text === null ? mark : parseLostMark(text);
    },
    async clearLostMark() {
      await ctx.run('clear lost mark', (r) => r.del(ctx.key('lost')));
    },
    lastWriteError: () => writes.last(),
    watch(onChange, intervalMs = 1000) {
      if (closed) throw new StranglerError('STRANGLER_E_STORE', `${target.label}: store is closed`);
      ensureSubscriber();
      // A message, a poll and a reconnect check may report the same change:
      // one VersionWatch calls onChange once (store/version-watch.ts).
      const w = watchTableVersion(() => routes.tableVersion(), onChange, intervalMs);
      const onReconnect = () => void w.check();
      listeners.add(w.announced);
      reconnectHooks.add(onReconnect);
      watchers.add(w);
      return () => {
        w.stop();
        watchers.delete(w);
        listeners.delete(w.announced);
        reconnectHooks.delete(onReconnect);
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const w of watchers) w.stop();
      watchers.clear();
      listeners.clear();
      reconnectHooks.clear();
      for (const c of [subscriber, redis]) {
        if (!c) continue;
        // QUIT waits for pending replies; if Redis is away just drop the socket.
        if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
        else c.disconnect();
      }
    },
  };
}
