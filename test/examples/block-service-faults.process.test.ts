import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, seedDemoDb, startBlockService, startMonolith } from '../../examples/run.js';
import { call } from './http-json.js';

// The fault-injection flags other tests lean on: a seeded failure rate, added
// latency, a deliberate difference, and a graceful SIGTERM.
describe('block-service fault injection', () => {
  let dir: string;
  let dbPath: string;
  const started: RunningApp[] = [];

  async function service(options: Parameters<typeof startBlockService>[0]): Promise<RunningApp> {
    const app = await startBlockService(options);
    started.push(app);
    return app;
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'strangler-faults-'));
    dbPath = path.join(dir, 'demo.db');
    await seedDemoDb(dbPath);
  });

  afterAll(async () => {
    await Promise.all(started.map((a) => a.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function statuses(app: RunningApp, n: number): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await call(app.url, 'GET', `/api/block/${1 + (i % 50)}`)).status);
    return out;
  }

  it('--fail-rate fails a seeded, repeatable fraction of requests with 500', async () => {
    const [a, b, c] = await Promise.all([
      service({ dbPath, failRate: 0.2, seed: 7 }),
      service({ dbPath, failRate: 0.2, seed: 7 }),
      service({ dbPath, failRate: 0.2, seed: 8 }),
    ]);
    const sa = await statuses(a, 100);
    const sb = await statuses(b, 100);
    const sc = await statuses(c, 100);
    expect(sb).toEqual(sa);
    expect(sc).not.toEqual(sa);
    const failures = sa.filter((s) => s === 500).length;
    // Binomial(100, 0.2): 8..35 holds with overwhelming probability for any seed.
    expect(failures).toBeGreaterThanOrEqual(8);
    expect(failures).toBeLessThanOrEqual(35);
    expect(sa.filter((s) => s !== 500 && s !== 200)).toEqual([]);
    const failed = await (async () => {
      for (;;) {
        const res = await call(a.url, 'GET', '/api/block/1');
        if (res.status === 500) return res;
      }
    })();
    expect(failed.body).toEqual({ error: 'injected_failure', message: 'block-service --fail-rate 0.2' });
    // Health checks are never failed on purpose.
    for (let i = 0; i < 20; i++) expect((await call(a.url, 'GET', '/healthz')).status).toBe(200);
  });

  it('--latency-ms delays every block answer by at least that much', async () => {
    const app = await service({ dbPath, latencyMs: 120 });
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const res = await call(app.url, 'GET', '/api/block/1/2');
      // A lower bound on an injected delay, not a speed claim; timers may fire ~1 ms early.
      expect(performance.now() - t0).toBeGreaterThanOrEqual(115);
      expect(res.status).toBe(200);
    }
  });

  it('--differ adds served_by, bumps count and flips blocked', async () => {
    const [legacy, app] = await Promise.all([startMonolith({ dbPath }), service({ dbPath, differ: true })]);
    started.push(legacy);
    const [la, sa] = [
      await call(legacy.url, 'GET', '/api/block/1'),
      await call(app.url, 'GET', '/api/block/1'),
    ];
    expect(sa.body).toEqual({
      ...la.body,
      count: la.body.count + 1,
      generated_at: sa.body.generated_at,
      served_by: 'block-service',
    });
    const [lb, sb] = [
      await call(legacy.url, 'GET', '/api/block/1/2'),
      await call(app.url, 'GET', '/api/block/1/2'),
    ];
    expect(sb.body).toEqual({ ...lb.body, blocked: !lb.body.blocked, served_by: 'block-service' });
    const [lc, sc] = [
      await call(legacy.url, 'GET', '/api/block/999'),
      await call(app.url, 'GET', '/api/block/999'),
    ];
    expect(sc.status).toBe(lc.status);
    expect(sc.body).toEqual({ ...lc.body, served_by: 'block-service' });
  });

  it('finishes an in-flight request on SIGTERM, then exits 0', async () => {
    const app = await service({ dbPath, latencyMs: 400 });
    const pending = call(app.url, 'GET', '/api/block/1');
    await new Promise((r) => setTimeout(r, 100));
    await app.stop();
    expect((await pending).status).toBe(200);
    expect(app.process.exitCode).toBe(0);
    expect(app.stderr()).toContain('block-service: stopped');
  });

  it('refuses a missing database with a message naming --db', async () => {
    await expect(startBlockService({ dbPath: path.join(dir, 'missing.db') })).rejects.toThrow(
      /exited \(code 1\) before listening[\s\S]*cannot open --db/,
    );
  });
});
