/**
 * `strangler serve --workers 2` as a user runs it (the real bin, node:cluster):
 * a SIGKILLed worker is replaced while the listener keeps accepting; SIGTERM
 * under load lets every in-flight request finish, then exits 0.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');
const tmp = tempDir();
let upstream: http.Server;
let upstreamUrl: string;
let slowSeen = 0;

beforeAll(async () => {
  // One upstream for both sides; /slow answers after 1 s so requests are in flight during SIGTERM.
  upstream = http.createServer((req, res) => {
    const delay = req.url?.includes('slow') ? 1000 : 0;
    if (delay) slowSeen++;
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, pid: process.pid }));
    }, delay);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
  tmp.cleanup();
});

interface Served {
  child: ChildProcess;
  url: string;
  /** Resolves once the primary has logged `line` with this worker pid (info level). */
  serving(pid: number, ms: number): Promise<void>;
}

function startServe(name: string, logLevel = 'warn'): Promise<Served> {
  const config = writeConfig(
    tmp.dir,
    demoConfigYaml({ store: `sqlite:${name}.db`, legacy: upstreamUrl, service: upstreamUrl }),
    `${name}.yaml`,
  );
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--workers', '2', '--config', config, '--listen', '127.0.0.1:0'],
    {
      env: { ...process.env, STRANGLER_LOG_LEVEL: logLevel },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  started.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (c) => (err += c));
    // The primary logs (stderr) when a replacement serves: "replacement worker serving" with its pid.
    const serving = (pid: number, ms: number) =>
      new Promise<void>((ok, fail) => {
        const seen = () => new RegExp(`"pid":${pid}[^\\n]*replacement worker serving`).test(err);
        const timer = setTimeout(() => fail(new Error(`worker ${pid} never logged serving`)), ms);
        const check = () => {
          if (!seen()) return;
          clearTimeout(timer);
          child.stderr!.off('data', check);
          ok();
        };
        child.stderr!.on('data', check);
        check();
      });
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /2 workers on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1], serving });
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

const started: ChildProcess[] = [];
/** Workers first: once the primary is gone they are no longer its children. */
function killTree(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  for (const pid of workerPids(child.pid!)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  child.kill('SIGKILL');
}
afterAll(() => {
  for (const c of started) killTree(c);
});

function workerPids(primary: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(primary)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

describe('serve --workers 2', () => {
  it('replaces a SIGKILLed worker while the listener keeps accepting', async () => {
    const { child, url, serving } = await startServe('kill', 'info');
    try {
      const before = workerPids(child.pid!);
      expect(before).toHaveLength(2);
      // A fresh connection per request, so each request tests the listener.
      const agent = new Agent({ pipelining: 0, keepAliveTimeout: 1 });
      let ok = 0;
      let refused = 0;
      let inFlightLost = 0;
      let stop = false;
      const client = async () => {
        while (!stop) {
          try {
            const res = await request(`${url}/api/block/1`, {
              dispatcher: agent,
              reset: true,
              headersTimeout: 5000,
              bodyTimeout: 5000,
            });
            await res.body.text();
            if (res.statusCode === 200) ok++;
          } catch (err) {
            const code = (err as { code?: string }).code;
            if (code === 'ECONNREFUSED') refused++;
            else inFlightLost++;
          }
        }
      };
      const clients = Array.from({ length: 8 }, client);
      await new Promise((r) => setTimeout(r, 500));
      process.kill(before[0], 'SIGKILL');
      const killedAt = performance.now();
      let replaced: number[] = [];
      while (performance.now() - killedAt < 10_000) {
        replaced = workerPids(child.pid!);
        if (replaced.length === 2 && !replaced.includes(before[0])) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      stop = true;
      await Promise.all(clients);
      console.log(
        `worker kill: ${ok} ok, ${refused} refused at the listener, ${inFlightLost} lost in flight on the killed worker`,
      );
      expect(replaced).toHaveLength(2);
      expect(replaced).not.toContain(before[0]);
      expect(refused).toBe(0);
      // The replacement serves: with both original workers gone (the second
      // killed while nothing is in flight), every request below is answered
      // by a worker the primary forked after the kill. A count, never a rate:
      // a throughput bound fails on a loaded machine (issue 30).
      // The first replacement serves (the primary says so) before the second
      // original goes: a cluster primary with no listening worker closes the
      // shared listener, and connections would be refused meanwhile.
      const first = replaced.find((pid) => !before.includes(pid))!;
      await serving(first, 10_000);
      process.kill(before[1], 'SIGKILL');
      const secondKilledAt = performance.now();
      while (performance.now() - secondKilledAt < 10_000) {
        const now = workerPids(child.pid!);
        if (now.length === 2 && !now.includes(before[1])) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await request(`${url}/api/block/1`, { dispatcher: agent, reset: true });
        await res.body.text();
        statuses.push(res.statusCode);
      }
      await agent.close();
      expect(statuses).toEqual(Array(20).fill(200));
      expect(workerPids(child.pid!).some((pid) => before.includes(pid))).toBe(false);
    } finally {
      killTree(child);
    }
  }, 40_000);

  it('drains on SIGTERM: requests in flight finish, then exit 0', async () => {
    const { child, url } = await startServe('drain');
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const agent = new Agent({ connections: 50 });
    const inflight = Array.from({ length: 40 }, () =>
      request(`${url}/api/block/slow`, { dispatcher: agent }).then(
        async (res) => ({ status: res.statusCode, body: await res.body.text() }),
        (err: Error) => ({ status: 0, body: err.message }),
      ),
    );
    // In flight = reached the upstream (which holds each for 1 s).
    const t0 = performance.now();
    while (slowSeen < 40 && performance.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 5));
    expect(slowSeen).toBe(40);
    child.kill('SIGTERM');
    const results = await Promise.all(inflight);
    await agent.close();
    const failed = results.filter((r) => r.status !== 200);
    console.log(
      `SIGTERM drain: ${results.length - failed.length} of ${results.length} in-flight requests finished`,
    );
    expect(failed).toEqual([]);
    expect(await exited).toBe(0);
  }, 40_000);
});
