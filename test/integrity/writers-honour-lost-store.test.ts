/**
 * Regression for issue 29, case 4: writers ignored a lost store. With the
 * proxy lost (its SQLite file replaced; or its Redis emptied and re-seeded),
 * `strangler flip` exited 0 and wrote an audit row the proxy never applied
 * (audit said one mode, traffic went to the other); on an emptied Redis
 * `routes`, `history` and `flip` said "no strangler state in this Redis
 * database yet" although the lost mark was there; `strangler seed` succeeded
 * beside a live proxy; admin `GET /routes` answered `{"routes":[]}` while the
 * proxy served a route.
 *
 * Now every writer and read of the CLI checks the lost mark (exit 5, one
 * line, "lost" and the way out), `seed` names the live proxy and refuses
 * unless --force, and `GET /routes` answers the served table marked stale.
 * Real processes: `strangler serve`, the CLI, redis-server.
 */
import { renameSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/open.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';
import { cli, oneRouteConfig, type Served, servedBy, startServe, until } from './helpers.js';

const tmp = tempDir('strangler-writers-lost-');
let upstream: http.Server;
let upstreamUrl: string;
const running: Served[] = [];

beforeAll(async () => {
  upstream = http.createServer((_req, res) => res.end('{}'));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of running) await s.stop();
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
  tmp.cleanup();
});

/** A proxy serving `block` from legacy after an audited flip (config says service). */
async function proxyOnLegacy(config: string): Promise<Served> {
  const s = await startServe(config);
  running.push(s);
  expect(await servedBy(s.proxy)).toBe('service');
  const back = await cli(config, ['flip', 'block', 'legacy', '--reason', 'incident 42']);
  expect(back.code, back.err).toBe(0);
  await until('legacy', async () => (await servedBy(s.proxy)) === 'legacy', 10_000);
  return s;
}

async function lostOnHealthz(s: Served): Promise<void> {
  await until(
    'healthz to report the lost store',
    async () => {
      const res = await fetch(`${s.admin}/healthz`);
      return (
        res.status === 503 && ((await res.json()) as { problem?: { kind: string } }).problem?.kind === 'lost'
      );
    },
    15_000,
  );
}

/** The CLI refuses in one line saying the store is lost, with the way out. */
function expectLost(r: { code: number; err: string }, what: string): void {
  expect(r.code, `${what}: ${r.err}`).toBe(5);
  expect(r.err).toContain('STRANGLER_E_STORE_LOST');
  expect(r.err).toContain('the store is lost');
  expect(r.err).not.toContain('yet');
  expect(r.err).toContain('To recover');
  expect(r.err.trim().split('\n')).toHaveLength(1);
}

async function staleRoutes(s: Served): Promise<{ stale?: boolean; reason?: string; routes: unknown[] }> {
  return (await (await fetch(`${s.admin}/routes`)).json()) as {
    stale?: boolean;
    reason?: string;
    routes: unknown[];
  };
}

describe('a SQLite file replaced under a running proxy', () => {
  it('flip is refused (no audit row the proxy never applies); GET /routes shows the served table, stale', async () => {
    const file = path.join(tmp.dir, 'state.db');
    const config = writeConfig(
      tmp.dir,
      oneRouteConfig({ store: `sqlite:${file}`, upstream: upstreamUrl, mode: 'service' }),
      'sqlite.yaml',
    );
    const a = await proxyOnLegacy(config);
    // Another store (the config's modes) takes the file's place.
    const other = path.join(tmp.dir, 'other.db');
    const o = openSqliteStore(other);
    await o.routes.seed([{ id: 'block', mode: 'service', weight: 100 }], 'someone');
    await o.close();
    for (const f of [`${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    renameSync(other, file);
    await lostOnHealthz(a);

    const [flip, routesCli] = await Promise.all([
      cli(config, ['flip', 'block', 'legacy', '--reason', 'make sure']),
      cli(config, ['routes']),
    ]);
    expectLost(flip, 'flip');
    expectLost(routesCli, 'routes');
    const replaced = await openStore(`sqlite:${file}`, { create: false });
    try {
      expect((await replaced.audit.list()).map((e) => e.action)).toEqual(['seed']);
    } finally {
      await replaced.close();
    }
    const routes = await staleRoutes(a);
    expect(routes.stale).toBe(true);
    expect(routes.reason).toContain('replaced by another file');
    expect(routes.routes).toMatchObject([{ id: 'block', mode: 'legacy', version: 2 }]);
    for (let i = 0; i < 3; i++) expect(await servedBy(a.proxy)).toBe('legacy');
  }, 60_000);
});

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
      tmp.dir,
      oneRouteConfig({ store: redis.url(0), upstream: upstreamUrl, mode: 'service' }),
      'redis.yaml',
    );
    const a = await proxyOnLegacy(config);
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

      const routes = await staleRoutes(a);
      expect(routes.stale).toBe(true);
      expect(routes.routes).toMatchObject([{ id: 'block', mode: 'legacy' }]);

      // Re-seeded anyway (--force): the proxy still serves its last good table
      // and marks the new store lost again, so a flip there is refused too.
      const forced = await cli(config, ['seed', '--force', '--reason', 'start over']);
      expect(forced.code, forced.err).toBe(0);
      await until('the lost mark again', () => store.lostMark(), 10_000);
      expectLost(await cli(config, ['flip', 'block', 'legacy', '--reason', 'again']), 'flip after re-seed');
      for (let i = 0; i < 3; i++) expect(await servedBy(a.proxy)).toBe('legacy');
      expect((await staleRoutes(a)).routes).toMatchObject([{ id: 'block', mode: 'legacy' }]);
    } finally {
      await store.close();
    }
  }, 60_000);
});
