/**
 * A real redis-server for one test suite, on a free loopback port, with
 * stop/restart to inject faults. Redis takes no "port 0", so a port is picked
 * by listening on 0 and closing, then redis is started on it; if another
 * process grabbed it meanwhile redis exits with "Address already in use" and
 * we pick again.
 *
 * Persistence is off (`--save "" --appendonly no`) except at shutdown:
 * `--shutdown-on-sigterm save` writes one RDB when stop() sends SIGTERM, so a
 * restart() brings the same data back, like a real Redis that was away for a
 * while. kill() (SIGKILL) loses it, like a crash of an unpersisted Redis.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../../bench/free-port.js';
import os from 'node:os';
import path from 'node:path';

export const REDIS_BIN = process.env.STRANGLER_REDIS_SERVER ?? '/usr/bin/redis-server';

/**
 * True when the binary exists. Missing binary: under CI=true this throws (a CI
 * that silently skips the Redis suite proves nothing); locally the suite is
 * skipped with a visible message.
 */
export function redisAvailable(): boolean {
  if (existsSync(REDIS_BIN)) return true;
  if (process.env.CI === 'true')
    throw new Error(`${REDIS_BIN} not found: the Redis store suites need redis-server`);
  console.warn(`SKIPPED: ${REDIS_BIN} not found; install redis-server to run the Redis store suites`);
  return false;
}

export interface RedisServer {
  readonly port: number;
  /** redis://127.0.0.1:PORT/DB */
  url(db?: number, prefix?: string): string;
  /** SIGTERM (saves an RDB first) and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: gone at once, data lost. */
  kill(): Promise<void>;
  /** Start again on the same port and dir (loads the RDB written by stop()). */
  restart(): Promise<void>;
  running(): boolean;
  /** Stop and remove the data dir; safe to call twice. */
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;

/** Spawn redis on `port` and resolve once it accepts connections; reject with the log if it exits first. */
function spawnRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    REDIS_BIN,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--shutdown-on-sigterm',
      'save',
      '--loglevel',
      'notice',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server on ${port} not ready after ${READY_TIMEOUT_MS} ms:\n${log}`));
    }, READY_TIMEOUT_MS);
    const onData = (b: Buffer) => {
      log += b.toString();
      if (/Ready to accept connections/.test(log)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (b: Buffer) => {
      log += b.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      const err = new Error(`redis-server on ${port} exited with ${code}:\n${log}`) as Error & {
        inUse?: boolean;
      };
      err.inUse = /Address already in use/i.test(log);
      reject(err);
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Start a redis-server for a suite. Close it in afterAll. */
export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'strangler-redis-'));
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      child = await spawnRedis(port, dir);
      break;
    } catch (err) {
      if (!(err as { inUse?: boolean }).inUse || attempt >= 5) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  const stopWith = async (signal: NodeJS.Signals) => {
    if (!child) return;
    const c = child;
    child = undefined;
    c.kill(signal);
    await waitExit(c);
  };
  return {
    port,
    url: (db = 0, prefix?: string) =>
      `redis://127.0.0.1:${port}/${db}${prefix ? `?prefix=${encodeURIComponent(prefix)}` : ''}`,
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
    async restart() {
      if (child) throw new Error('redis-server is still running; stop() it first');
      // Same port on purpose: clients reconnect to the address they know.
      // Retried briefly because the old socket may linger for a moment.
      for (let attempt = 1; ; attempt++) {
        try {
          child = await spawnRedis(port, dir);
          return;
        } catch (err) {
          if (!(err as { inUse?: boolean }).inUse || attempt >= 20) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    running: () => child !== undefined,
    async close() {
      await stopWith('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
