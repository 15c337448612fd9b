/**
 * Regression for issue 13 item 9: under `serve --workers 2`, a worker
 * replaced while Redis was down logged STRANGLER_E_STORE, stayed alive and
 * never served, even 30 s after Redis was back; SIGTERM then waited 15 s for
 * it. Now a worker that cannot start exits non-zero, the primary replaces it
 * with backoff, and once Redis is back a replacement serves within seconds.
 * Real processes: redis-server and the real bin under node:cluster.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { respawnDelay } from '../../cli/workers.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');
const tmp = tempDir('strangler-workers-down-');
let redis: RedisServer;
let upstream: http.Server;
let serve: ChildProcess | undefined;

const workerPids = (primary: number) =>
  execFileSync('pgrep', ['-P', String(primary)], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map(Number);

async function until<T>(what: string, fn: () => T | undefined | false, ms: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('respawnDelay', () => {
  it('doubles from 200 ms per failed start and stays at 2 s', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map(respawnDelay)).toEqual([200, 400, 800, 1600, 2000, 2000, 2000]);
  });
});

describe.skipIf(!redisAvailable())('serve --workers 2 while Redis is down', () => {
  beforeAll(async () => {
    redis = await startRedis();
    upstream = http.createServer((_req, res) => res.end('{}'));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    if (serve && serve.exitCode === null) serve.kill('SIGKILL');
    upstream?.closeAllConnections();
    await new Promise((r) => upstream?.close(r));
    await redis?.close();
    tmp.cleanup();
  });

  it('a worker that cannot start exits and is replaced; a replacement serves soon after Redis returns; SIGTERM is prompt', async () => {
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const config = writeConfig(tmp.dir, demoConfigYaml({ store: redis.url(0), legacy: url, service: url }));
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--workers', '2', '--config', config, '--listen', '127.0.0.1:0'],
      {
        env: { ...process.env, STRANGLER_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    serve = child;
    let out = '';
    let log = '';
    child.stdout!.on('data', (c) => (out += c));
    child.stderr!.on('data', (c) => (log += c));
    const proxyUrl = await until(
      'serve to listen',
      () => /2 workers on (http:\/\/\S+)/.exec(out)?.[1],
      30_000,
    );

    await redis.stop(); // saves its data: a Redis away for a while, then back
    const [victim] = workerPids(child.pid!);
    process.kill(victim, 'SIGKILL');
    // Replacements fail while Redis is down: each exits non-zero (not alive-but-idle).
    await until(
      'two failed starts',
      () => (log.match(/worker could not start; trying again/g)?.length ?? 0) >= 2,
      30_000,
    );
    const failed = log.split('\n').filter((l) => l.includes('worker could not start'));
    expect(failed.every((l) => /"code":5/.test(l))).toBe(true);
    // The proxy still answers on the surviving worker.
    expect((await fetch(`${proxyUrl}/api/block/1`)).status).toBe(200);

    const before = log.length;
    await redis.restart();
    const back = Date.now();
    await until(
      'a replacement serving',
      () => log.slice(before).includes('replacement worker serving'),
      30_000,
    );
    const ms = Date.now() - back;
    console.log(`worker replaced ${ms} ms after Redis returned; failed starts meanwhile: ${failed.length}`);
    expect(workerPids(child.pid!)).toHaveLength(2);

    const t0 = Date.now();
    child.kill('SIGTERM');
    const [code] = await new Promise<[number | null]>((r) => child.once('exit', (c) => r([c])));
    expect(code).toBe(0);
    console.log(`SIGTERM to exit: ${Date.now() - t0} ms`);
  }, 120_000);
});
