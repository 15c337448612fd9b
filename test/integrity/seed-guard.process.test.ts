/**
 * The hole issue 13 left: `serve` seeded an empty store. Several proxies on
 * one Redis, `block` flipped service -> legacy, Redis restarts empty: the
 * running proxies keep legacy (issue 13), but one more `serve` (a new pod, a
 * redeploy) named the empty store and served the config's `service` mode, so
 * /api/block writes went to two databases with no audited flip. Now the first
 * proxy to notice leaves a lost mark and that `serve` refuses (exit 5) until
 * the data is restored or `strangler seed` re-seeds deliberately (audited).
 * Same for a SQLite file removed under a running proxy. Real processes:
 * redis-server, `strangler serve`, the CLI.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/open.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';
import { BIN, cli, type Served, servedBy, startServe, until, oneRouteConfig } from './helpers.js';

const tmp = tempDir('strangler-seed-guard-');
let upstream: http.Server;
let upstreamUrl: string;
const running = new Set<Served>();

function configFor(store: string, name: string): string {
  return writeConfig(tmp.dir, oneRouteConfig({ store: store, upstream: upstreamUrl, mode: 'service' }), name);
}

async function serve(config: string): Promise<Served> {
  const s = await startServe(config);
  running.add(s);
  return s;
}

async function stop(s: Served): Promise<void> {
  await s.stop();
  running.delete(s);
}

/** A `serve` that must not start: its exit code and output (killed after 30 s if it does start). */
function serveRefused(config: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], {
    env: { ...process.env, STRANGLER_ADMIN_TOKEN: 'seed-guard-admin-token', STRANGLER_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    }),
  );
}

async function lostOnHealthz(s: Served): Promise<void> {
  await until(
    'healthz to report the lost store',
    async () => {
      const res = await fetch(`${s.admin}/healthz`);
      const body = (await res.json()) as { problem?: { kind: string } };
      return res.status === 503 && body.problem?.kind === 'lost';
    },
    15_000,
  );
}

beforeAll(async () => {
  // One upstream for both sides; the x-strangler-target header tells which side served.
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

describe.skipIf(!redisAvailable())('a new serve beside proxies whose Redis restarted empty', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('refuses to seed (exit 5, says who noticed what); the running proxies keep legacy; `strangler seed` clears it, audited', async () => {
    const config = configFor(redis.url(0), 'redis.yaml');
    const a = await serve(config);
    const b = await serve(config);
    expect(await servedBy(a.proxy)).toBe('service');
    const back = await cli(config, ['flip', 'block', 'legacy', '--reason', 'incident 42']);
    expect(back.code, back.err).toBe(0);
    for (const s of [a, b])
      await until('legacy everywhere', async () => (await servedBy(s.proxy)) === 'legacy', 10_000);

    await redis.kill(); // SIGKILL: no RDB, the data is gone
    await redis.restart();
    await lostOnHealthz(a);
    await lostOnHealthz(b);
    const raw = await openStore(redis.url(0));
    try {
      const mark = await until('the lost mark', () => raw.lostMark(), 10_000);
      expect(mark.lostId).toMatch(/[0-9a-f-]{36}/);
      expect(mark.lastVersion).toBeGreaterThanOrEqual(2);

      // One more instance starts (autoscaling, a redeployed pod).
      const c = await serveRefused(config);
      expect(c.code, c.out).toBe(5);
      expect(c.out).toContain('STRANGLER_E_STORE_LOST');
      expect(c.out).toContain(`identity ${mark.lostId}`);
      expect(c.out).toContain(`noticed by ${mark.noticedBy}`);
      expect(c.out).toContain('strangler seed');
      // Nothing was seeded: no identity, no routes, no audit row.
      expect(await raw.identity()).toBeUndefined();
      expect(await raw.routes.list()).toEqual([]);
      expect(await raw.audit.list()).toEqual([]);
      // The running proxies still agree: legacy.
      for (const s of [a, b]) for (let i = 0; i < 3; i++) expect(await servedBy(s.proxy)).toBe('legacy');
      console.log(
        `new serve beside a lost Redis -> exit ${c.code}:\n${c.out
          .split('\n')
          .filter((l) => l.includes('STORE_LOST'))
          .join('\n')}`,
      );

      // The deliberate way out: stop every proxy, then `strangler seed`.
      await stop(a);
      await stop(b);
      const seeded = await cli(config, ['seed']);
      expect(seeded.code, seeded.err).toBe(0);
      expect(seeded.out).toContain('cleared the lost mark');
      expect(await raw.lostMark()).toBeUndefined();
      const rows = await raw.audit.list();
      // The re-seed writes the config's routes and upstreams (issue 29), then clears the mark.
      expect(rows.map((r) => r.action)).toEqual(['seed', 'upstreams.seed', 'store.lost-cleared']);
      expect(rows[2].actor).toBe('tester');
      expect(rows[2].details?.lostMark).toMatchObject({ lostId: mark.lostId });
      const d = await serve(config);
      expect(await servedBy(d.proxy)).toBe('service');
    } finally {
      await raw.close();
    }
  }, 180_000);
});

describe.skipIf(!redisAvailable())('serve --workers 2 whose Redis restarted empty', () => {
  let redis: RedisServer;
  let primary: ChildProcess | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    if (primary && primary.exitCode === null) {
      const exited = new Promise((r) => primary!.once('exit', r));
      primary.kill('SIGTERM');
      await exited;
    }
    await redis?.close();
  });

  it('a worker replaced after a crash never seeds: the store stays empty, the other worker keeps legacy', async () => {
    const config = configFor(redis.url(0), 'workers.yaml');
    primary = spawn(process.execPath, [BIN, 'serve', '--config', config, '--workers', '2'], {
      env: { ...process.env, STRANGLER_ADMIN_TOKEN: 'seed-guard-admin-token', STRANGLER_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    primary.stdout!.on('data', (c) => (out += c));
    primary.stderr!.on('data', (c) => (out += c));
    const proxy = (await until(
      'the workers',
      () => /workers on (http:\/\/\S+)/.exec(out)?.[1],
      60_000,
    )) as string;
    const back = await cli(config, ['flip', 'block', 'legacy', '--reason', 'incident 44']);
    expect(back.code, back.err).toBe(0);
    await until('legacy', async () => (await servedBy(proxy)) === 'legacy', 10_000);

    await redis.kill();
    await redis.restart();
    const raw = await openStore(redis.url(0));
    try {
      await until('the lost mark', () => raw.lostMark(), 15_000);
      // A worker crashes; the primary replaces it against the emptied store.
      const workers = execFileSync('ps', ['-o', 'pid=', '--ppid', String(primary.pid)], { encoding: 'utf8' })
        .split('\n')
        .map((l) => Number(l.trim()))
        .filter((n) => n > 0);
      expect(workers.length).toBe(2);
      process.kill(workers[0], 'SIGKILL');
      await until('the replacement to be refused', () => out.includes('worker could not start'), 30_000);
      expect(await raw.identity()).toBeUndefined();
      expect(await raw.routes.list()).toEqual([]);
      expect(await raw.audit.list()).toEqual([]);
      for (let i = 0; i < 5; i++) expect(await servedBy(proxy)).toBe('legacy');
    } finally {
      await raw.close();
    }
  }, 180_000);
});

describe('a new serve on a SQLite path whose file was removed under a running proxy', () => {
  it('refuses without creating the file; restoring the data lets serve start and clears the mark', async () => {
    const file = path.join(tmp.dir, 'state.db');
    const config = configFor(`sqlite:${file}`, 'sqlite.yaml');
    const a = await serve(config);
    const back = await cli(config, ['flip', 'block', 'legacy', '--reason', 'incident 43']);
    expect(back.code, back.err).toBe(0);
    await until('legacy', async () => (await servedBy(a.proxy)) === 'legacy', 10_000);
    const backup = path.join(tmp.dir, 'backup.db');
    const src = new Database(file, { readonly: true });
    await src.backup(backup);
    src.close();

    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    await lostOnHealthz(a);
    await until('the lost mark file', () => existsSync(`${file}.lost`), 10_000);

    const b = await serveRefused(config);
    expect(b.code, b.out).toBe(5);
    expect(b.out).toContain('STRANGLER_E_STORE_LOST');
    expect(b.out).toContain('noticed by');
    expect(existsSync(file)).toBe(false); // refused before creating anything
    for (let i = 0; i < 3; i++) expect(await servedBy(a.proxy)).toBe('legacy');

    // Restore the data and restart: the mark names the restored identity, so serve starts and clears it.
    await stop(a);
    copyFileSync(backup, file);
    const c = await serve(config);
    expect(await servedBy(c.proxy)).toBe('legacy');
    expect(c.out() + c.err()).toContain('(restored): cleared its lost mark');
    expect(existsSync(`${file}.lost`)).toBe(false);
    await stop(c);

    // And the deliberate re-seed: remove it again under a proxy, then `strangler seed`.
    const d = await serve(config);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    await until('the lost mark file', () => existsSync(`${file}.lost`), 15_000);
    expect((await serveRefused(config)).code).toBe(5);
    await stop(d);
    const seeded = await cli(config, ['seed']);
    expect(seeded.code, seeded.err).toBe(0);
    expect(existsSync(`${file}.lost`)).toBe(false);
    const store = await openStore(`sqlite:${file}`, { create: false });
    try {
      expect((await store.audit.list()).map((r) => r.action)).toEqual([
        'seed',
        'upstreams.seed',
        'store.lost-cleared',
      ]);
    } finally {
      await store.close();
    }
    const e = await serve(config);
    expect(await servedBy(e.proxy)).toBe('service');
  }, 180_000);
});
