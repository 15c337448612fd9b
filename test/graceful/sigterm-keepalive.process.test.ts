/**
 * SIGTERM under keep-alive load, on the real `bin/strangler.js serve`: a
 * client that reconnects (undici pools, keep-alive, a new connection after
 * `Connection: close`) and acts as a load balancer would — it polls /readyz
 * and stops sending new requests once the proxy is not ready — sees 0 failed
 * requests. Before this, 20 GET and 5 POST requests on kept-alive connections
 * got ECONNRESET at the moment of the signal.
 *
 * Also: /readyz is 503 until the upstreams answered their probe, then 200.
 */
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeConfig } from '../helpers/tmp.js';
import { type Served, startServe as startServeProcess } from '../helpers/bin.js';

const DRAIN_MS = 1500;
const tmp = tempDir('strangler-sigterm-');

interface Upstream {
  url: string;
  port: number;
  hits: () => number;
  close(): Promise<void>;
}

/** A keep-alive upstream answering JSON after a short pause (so requests are in flight at the signal). */
async function startUpstream(name: string, port = 0): Promise<Upstream> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ served_by: name }));
      }, 2),
    );
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const p = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${p}`,
    port: p,
    hits: () => hits,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function startServe(config: string): Promise<Served> {
  return startServeProcess(config, {});
}

async function readyz(admin: string): Promise<number> {
  try {
    const res = await fetch(`${admin}/readyz`);
    await res.text();
    return res.status;
  } catch {
    return 0; // not listening: as not ready as it gets
  }
}

describe('graceful stop on SIGTERM', () => {
  let legacy: Upstream;
  let service: Upstream | undefined;
  let child: ChildProcess | undefined;
  let proxy = '';
  let admin = '';

  beforeAll(async () => {
    legacy = await startUpstream('legacy');
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await service?.close();
    await legacy?.close();
    tmp.cleanup();
  });

  it('is not ready until every upstream answered its probe', async () => {
    // The service is not listening yet: reserve a port, start it later.
    const reserved = await startUpstream('placeholder');
    const servicePort = reserved.port;
    await reserved.close();
    const config = writeConfig(
      tmp.dir,
      `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:state.db
legacy: { url: ${legacy.url}, probePath: /health }
services:
  svc: { url: http://127.0.0.1:${servicePort} }
drain: { delay: ${DRAIN_MS}ms }
routes:
  - id: block
    match: { path: /api/block/* }
    service: svc
    mode: service
`,
    );
    const s = await startServe(config);
    child = s.child;
    proxy = s.proxy;
    admin = s.admin;
    const first = await (await fetch(`${admin}/readyz`)).json();
    expect(first.ready).toBe(false);
    expect(first.waiting.join('\n')).toContain(
      `upstream not answered yet: GET http://127.0.0.1:${servicePort}/`,
    );
    expect(await readyz(admin)).toBe(503);
    service = await startUpstream('service', servicePort);
    const t0 = performance.now();
    while ((await readyz(admin)) !== 200 && performance.now() - t0 < 10_000)
      await new Promise((r) => setTimeout(r, 100));
    expect(await readyz(admin)).toBe(200);
    expect((await (await fetch(`${admin}/livez`)).json()).ok).toBe(true);
  }, 30_000);

  it('fails 0 requests of a reconnecting keep-alive client across SIGTERM', async () => {
    // The proxy of the test above, ready now.
    expect(await readyz(admin)).toBe(200);
    const pools = Array.from({ length: 4 }, () => new Pool(proxy, { connections: 2, pipelining: 1 }));
    let sending = true;
    let sigtermAt = 0;
    const results: Array<{ at: number; status: number; error?: string; close: boolean; method: string }> = [];
    const worker = async (pool: Pool, i: number) => {
      let n = 0;
      while (sending) {
        const method = n++ % 4 === 3 ? 'POST' : 'GET';
        const at = performance.now();
        try {
          const res = await pool.request({
            method,
            path: `/api/block/${i}`,
            body: method === 'POST' ? '{"blocked":true}' : undefined,
            headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
          });
          await res.body.dump();
          results.push({ at, status: res.statusCode, close: res.headers.connection === 'close', method });
        } catch (err) {
          results.push({ at, status: 0, error: (err as Error).message, close: false, method });
        }
      }
    };
    // The load balancer: stops sending here after /readyz said no twice in a
    // row, 100 ms apart (the export's readinessProbe uses failureThreshold 2).
    const lb = (async () => {
      let failures = 0;
      while (sending) {
        failures = (await readyz(admin)) === 200 ? 0 : failures + 1;
        if (failures >= 2) sending = false;
        else await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const workers = pools.flatMap((p, i) => [worker(p, i), worker(p, i + 10)]);
    await new Promise((r) => setTimeout(r, 1000));
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    sigtermAt = performance.now();
    child!.kill('SIGTERM');
    await Promise.all([...workers, lb]);
    const stoppedSendingAfter = performance.now() - sigtermAt;
    const code = await exited;
    const exitedAfter = performance.now() - sigtermAt;
    for (const p of pools) await p.close();

    const after = results.filter((r) => r.at >= sigtermAt);
    const failed = results.filter((r) => r.status !== 200);
    console.log(
      `SIGTERM under keep-alive load: ${results.length} requests (${results.filter((r) => r.method === 'POST').length} POST), ` +
        `${after.length} sent after the signal (${after.filter((r) => r.close).length} answered with Connection: close), ` +
        `${failed.length} failed; load balancer stopped sending after ${stoppedSendingAfter.toFixed(0)} ms, exit ${code} after ${exitedAfter.toFixed(0)} ms`,
    );
    expect(failed).toEqual([]);
    // It served through the drain, closing connections as it answered.
    expect(after.length).toBeGreaterThan(0);
    expect(results.filter((r) => r.close).length).toBeGreaterThan(0);
    expect(code).toBe(0);
    // It kept serving through the delay before it stopped accepting.
    expect(exitedAfter).toBeGreaterThanOrEqual(DRAIN_MS);
  }, 60_000);
});
