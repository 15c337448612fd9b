/**
 * Regression for issue 29, case 3: Redis restored from an older snapshot
 * silently reverted the fleet. SAVE, then an audited flip of `block`
 * service -> legacy, then Redis restarted from the saved RDB: within a
 * second every proxy routed `block` to the service again (hundreds of POSTs
 * ran there after the last audited flip said legacy), `/healthz` said ok and
 * `strangler_store_lost` 0, and history reused the lost rows' version numbers.
 *
 * Now the generation never goes back: both proxies keep legacy, `/healthz`
 * answers 503 "the store went back from generation 2 to 1 (restored from an
 * older backup?)", the gauge is 1 with reason="went-back", writers and reads
 * are refused with exit 5 and the recovery command, `GET /routes` shows the
 * served table marked stale, a new `serve` refuses to start, plain `seed`
 * refuses; `seed --accept-restore --reason` is the one audited way back.
 * Real processes: redis-server (its own RDB), two `strangler serve`, the CLI.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/open.js';
import { runBin } from '../helpers/bin.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';
import { cli, type Served, startServe, until } from './helpers.js';

const tmp = tempDir('strangler-restored-');
const ADMIN = { authorization: 'Bearer integrity-test-admin-token', 'content-type': 'application/json' };
let redis: RedisServer;
let legacy: http.Server;
let service: http.Server;
const posts = { legacy: 0, service: 0 };
const proxies: Served[] = [];
let config: string;

async function upstream(side: 'legacy' | 'service'): Promise<http.Server> {
  const s = http.createServer((req, res) => {
    if (req.method === 'POST') posts[side]++;
    req.resume();
    req.on('end', () => res.end('{}'));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
}
const url = (s: http.Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

async function post(proxy: string): Promise<string | null> {
  const res = await fetch(`${proxy}/api/block/1`, { method: 'POST', body: '{"n":1}' });
  await res.arrayBuffer();
  return res.headers.get('x-strangler-target');
}

async function health(
  s: Served,
): Promise<{ status: number; body: { problem?: { kind: string; message: string } } }> {
  const res = await fetch(`${s.admin}/healthz`);
  return { status: res.status, body: (await res.json()) as { problem?: { kind: string; message: string } } };
}

describe.skipIf(!redisAvailable())('Redis restored from an older snapshot under two running proxies', () => {
  beforeAll(async () => {
    redis = await startRedis();
    legacy = await upstream('legacy');
    service = await upstream('service');
    config = writeConfig(
      tmp.dir,
      `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: ${redis.url(0)}
legacy: { url: ${url(legacy)} }
services:
  block-service: { url: ${url(service)} }
proxy: { pollIntervalMs: 100 }
routes:
  - id: block
    match: { path: /api/block/* }
    service: block-service
    mode: service
`,
    );
  });

  afterAll(async () => {
    for (const p of proxies) await p.stop();
    for (const s of [legacy, service]) {
      s?.closeAllConnections();
      await new Promise((r) => s?.close(r));
    }
    await redis?.close();
    tmp.cleanup();
  });

  it('keeps legacy everywhere, says the store went back, refuses writers; accept-restore is the audited way back', async () => {
    proxies.push(await startServe(config), await startServe(config));
    const [a, b] = proxies;
    for (const p of proxies) expect(await post(p.proxy)).toBe('service');

    // The snapshot (generation 1: `block` in service), then the audited flip to legacy.
    const raw = new Redis(redis.port);
    expect(await raw.save()).toBe('OK');
    raw.disconnect();
    const back = await cli(config, ['flip', 'block', 'legacy', '--reason', 'incident 42']);
    expect(back.code, back.err).toBe(0);
    for (const p of proxies)
      await until('legacy everywhere', async () => (await post(p.proxy)) === 'legacy', 10_000);

    // Redis dies and comes back from the older RDB (SIGKILL: it does not save again).
    await redis.kill();
    await redis.restart();
    for (const p of proxies)
      await until(
        'the proxy to report the store went back',
        async () => (await health(p)).body.problem?.kind === 'lost',
        15_000,
      );
    const h = await health(a);
    expect(h.body.problem?.kind).toBe('lost');
    expect(h.body.problem?.message).toContain(
      'the store went back from generation 2 to 1 (restored from an older backup?)',
    );
    expect(h.body.problem?.message).toContain('strangler seed --accept-restore');

    // Traffic stays where the last audited flip put it.
    posts.legacy = 0;
    posts.service = 0;
    for (let i = 0; i < 40; i++) for (const p of proxies) expect(await post(p.proxy)).toBe('legacy');
    expect(posts).toEqual({ legacy: 80, service: 0 });
    const metrics = await (await fetch(`${b.admin}/metrics`)).text();
    expect(metrics).toMatch(/^strangler_store_lost\{reason="went-back"\} 1$/m);

    // The served table, marked stale, never the restored store's rows.
    const routes = (await (await fetch(`${a.admin}/routes`)).json()) as {
      stale?: boolean;
      reason?: string;
      routes: Array<{ id: string; mode: string; version: number }>;
    };
    expect(routes.stale).toBe(true);
    expect(routes.reason).toContain('went back from generation 2 to 1');
    expect(routes.routes).toMatchObject([{ id: 'block', mode: 'legacy', version: 2 }]);

    // Every writer is refused, in one line with the way out; so are reads.
    const store = await openStore(redis.url(0));
    let accepted: { code: number; out: string; err: string };
    try {
      await until('the lost mark', () => store.lostMark(), 10_000);
      const argvs = [
        ['flip', 'block', 'shadow'],
        ['canary', 'block', '--steps', '5,100', '--interval', '1s'],
        ['routes'],
        ['history'],
        ['seed'],
      ];
      const runs = await Promise.all(argvs.map((argv) => cli(config, argv)));
      for (const [i, argv] of argvs.entries()) {
        const r = runs[i];
        expect(r.code, `${argv.join(' ')}: ${r.err}`).toBe(5);
        expect(r.err).toContain('STRANGLER_E_STORE_LOST');
        expect(r.err).toContain('went back from generation 2 to 1');
        expect(r.err).toContain('--accept-restore');
        expect(r.err.trim().split('\n')).toHaveLength(1);
      }
      const adminFlip = await fetch(`${b.admin}/routes/block/flip`, {
        method: 'POST',
        headers: ADMIN,
        body: JSON.stringify({ mode: 'shadow', reason: 'x' }),
      });
      expect(adminFlip.status).toBe(503);
      expect(((await adminFlip.json()) as { error: string }).error).toBe('STRANGLER_E_STORE_LOST');
      // The console's rollout actions go through the same step.
      const consoleAction = await fetch(`${a.admin}/routes/block/rollout/abort`, {
        method: 'POST',
        headers: ADMIN,
        body: JSON.stringify({ reason: 'x' }),
      });
      expect(consoleAction.status).toBe(503);
      expect(((await consoleAction.json()) as { error: string }).error).toBe('STRANGLER_E_STORE_LOST');
      // No write reached the restored store: its audit log is the snapshot's (no flip row).
      expect((await store.audit.list()).map((e) => e.action)).not.toContain('flip');
      expect(await store.routes.tableVersion()).toBe(1);

      // A new instance refuses to start on it.
      const c = await runBin(['serve', '--config', config], {
        cwd: tmp.dir,
        env: {
          ...process.env,
          STRANGLER_LOG_LEVEL: 'silent',
          STRANGLER_ADMIN_TOKEN: 'integrity-test-admin-token',
        },
        timeoutMs: 20_000,
      });
      expect(c.code, c.err).toBe(5);
      expect(c.err).toContain('went back from generation 2 to 1');

      // The way back: one audited command recording both generations.
      const noReason = await cli(config, ['seed', '--accept-restore']);
      expect(noReason.code).toBe(2);
      expect(noReason.err).toContain('--reason');
      accepted = await cli(config, ['seed', '--accept-restore', '--reason', 'restored the 02:00 snapshot']);
      expect(accepted.code, accepted.err).toBe(0);
      expect(accepted.out).toContain('went back from generation 2 to 1; now at generation 3');
      const row = (await store.audit.list({ action: 'store.restore-accepted' })).at(-1);
      expect(row).toMatchObject({
        actor: 'tester',
        reason: 'restored the 02:00 snapshot',
        details: { restoredGeneration: 1, highestSeen: 2, generation: 3 },
      });
      expect(await store.lostMark()).toBeUndefined();
    } finally {
      await store.close();
    }
    // The proxies serve the restored (accepted, audited) state again.
    for (const p of proxies) {
      await until('healthz ok again', async () => (await health(p)).status === 200, 15_000);
      await until('the restored state served', async () => (await post(p.proxy)) === 'service', 10_000);
    }
    const flip = await cli(config, ['flip', 'block', 'legacy', '--reason', 'after the restore']);
    expect(flip.code, flip.err).toBe(0);
    console.log(
      `Redis restored from an older RDB: /healthz 503 "${h.body.problem?.message}"; ` +
        `80/80 POSTs on legacy; after accept-restore: ${accepted.out.split('\n')[0]}`,
    );
  }, 120_000);
});
