/**
 * Regression for issue 13 item 2: roll `block` back to legacy, restart Redis
 * without persistence, run `strangler routes`: the read re-seeded the
 * config's `service` mode and the running proxy moved /api/block/* back to
 * the service with no flip in the audit log. Now nothing re-seeds: the read
 * fails (exit 5) naming the problem and how to restore, flips are refused,
 * the proxy keeps serving legacy, and /healthz and a metric say so.
 * Real processes: redis-server, `strangler serve`, the CLI.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/open.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';
import { cli, type Served, servedBy, startServe, until, oneRouteConfig } from './helpers.js';

const tmp = tempDir('strangler-lost-');
let redis: RedisServer;
let upstream: http.Server;
let serve: Served | undefined;
let config: string;

describe.skipIf(!redisAvailable())('a Redis restarted empty under a running proxy', () => {
  beforeAll(async () => {
    redis = await startRedis();
    // One upstream for both sides; the x-strangler-target header tells which side served.
    upstream = http.createServer((_req, res) => res.end('{}'));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    config = writeConfig(tmp.dir, oneRouteConfig({ store: redis.url(0), upstream: url, mode: 'service' }));
  });

  afterAll(async () => {
    await serve?.stop();
    upstream?.closeAllConnections();
    await new Promise((r) => upstream?.close(r));
    await redis?.close();
    tmp.cleanup();
  });

  it('nothing re-seeds: reads fail with exit 5, flips are refused, the proxy keeps legacy, /healthz says degraded', async () => {
    serve = await startServe(config);
    expect(await servedBy(serve.proxy)).toBe('service');
    const back = await cli(config, ['flip', 'block', 'legacy', '--reason', 'incident 42']);
    expect(back.code, back.err).toBe(0);
    await until('the proxy to serve legacy', async () => (await servedBy(serve!.proxy)) === 'legacy', 10_000);

    await redis.kill(); // SIGKILL: no RDB, the data is gone
    await redis.restart();

    const routes = await cli(config, ['routes']);
    expect(routes.code).toBe(5);
    expect(routes.err).toContain('STRANGLER_E_STORE_LOST');
    const flip = await cli(config, ['flip', 'block', 'shadow']);
    expect(flip.code).toBe(5);
    expect(flip.err).toContain('STRANGLER_E_STORE_LOST');
    // Nothing was written back: the store is still empty.
    const raw = await openStore(redis.url(0));
    try {
      expect(await raw.routes.list()).toEqual([]);
      expect(await raw.identity()).toBeUndefined();
    } finally {
      await raw.close();
    }

    // The running proxy noticed, keeps its last good table, and says so.
    const health = await until(
      'healthz to report the lost store',
      async () => {
        const res = await fetch(`${serve!.admin}/healthz`);
        const body = (await res.json()) as { status: string; problem?: { kind: string; message: string } };
        return res.status === 503 && body.problem?.kind === 'lost' ? body : undefined;
      },
      10_000,
    );
    expect(health.problem!.message).toContain('restore');
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < 5; i++) expect(await servedBy(serve.proxy)).toBe('legacy');
    const metrics = await (await fetch(`${serve.admin}/metrics`)).text();
    expect(metrics).toMatch(/^strangler_store_lost\{reason="state-lost"\} 1$/m);
    const adminFlip = await fetch(`${serve.admin}/routes/block/flip`, {
      method: 'POST',
      headers: { authorization: 'Bearer integrity-test-admin-token', 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'service', force: true, reason: 'x' }),
    });
    expect(adminFlip.status).toBe(503);
    expect(((await adminFlip.json()) as { error: string }).error).toBe('STRANGLER_E_STORE_LOST');
    const logged = serve.out() + serve.err();
    expect(logged).toContain('store lost its state');
    console.log(
      `Redis restarted empty: strangler routes -> exit ${routes.code}: ${routes.err.trim()}\n` +
        `strangler flip -> exit ${flip.code}; /healthz -> 503 ${JSON.stringify(health)}\n` +
        `serve log: ${logged
          .split('\n')
          .filter((l) => l.includes('store lost'))
          .join('\n')}`,
    );

    // `strangler seed` under the running proxy is refused, naming it (issue 29)...
    const refused = await cli(config, ['seed']);
    expect(refused.code, refused.err).toBe(5);
    expect(refused.err).toContain('STRANGLER_E_PROXIES_LIVE');
    expect(refused.err).toContain(`:${serve.child.pid} (`);
    expect(refused.err.trim().split('\n')).toHaveLength(1);
    // ...and the explicit way back, --force (audited), names a new store from the config.
    const seeded = await cli(config, ['seed', '--force', '--reason', 'starting over']);
    expect(seeded.code, seeded.err).toBe(0);
    expect(seeded.out).toContain('forced past live proxies (audited)');
    expect(seeded.out).toContain('had no strangler state: named it');
  }, 120_000);
});
