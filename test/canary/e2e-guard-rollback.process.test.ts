/**
 * End to end: the real Python monolith as legacy, the block-service built to
 * fail 20% of /api/block requests, the real proxy with failover, a real SQLite
 * store and the guard. The route starts as a 50% sticky canary. Clients must
 * see failovers (legacy answers, x-strangler-failover), never errors, and the
 * guard must roll the route back to shadow on the service traffic of one SLO
 * window, audited as actor `guard` with the numbers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Guard, startGuard } from '../../control/guard.js';
import { parseConfig } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { type RunningApp, startBlockService, startMonolith } from '../../examples/run.js';
import { type ProxyServer, startProxy } from '../../proxy/server.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';

const WINDOW_MS = 3000;
const FLUSH_MS = 200;
/** Hard cap on client requests, so the test is bounded whatever happens. */
const MAX_REQUESTS = 4000;

describe('guard rolls back a block-service failing 20% of requests', () => {
  let dir: string;
  let monolith: RunningApp;
  let failing: RunningApp;
  let store: Store;
  let proxy: ProxyServer;
  let guard: Guard;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'strangler-guard-e2e-'));
    monolith = await startMonolith({ dbPath: path.join(dir, 'demo.db') });
    failing = await startBlockService({ dbPath: monolith.dbPath, failRate: 0.2 });
    const config = parseConfig({
      store: `sqlite:${path.join(dir, 'state.db')}`,
      legacy: { url: monolith.url },
      services: { 'block-service': { url: failing.url } },
      proxy: { statsFlushMs: FLUSH_MS, pollIntervalMs: 100 },
      routes: [
        {
          id: 'block',
          match: { path: '/api/block/*', methods: ['GET'] },
          service: 'block-service',
          mode: 'canary',
          weight: 50,
          sticky: 'header:x-user-id',
          slo: { maxErrorRate: 0.05, maxP99Ms: 2000, window: `${WINDOW_MS}ms`, minRequests: 20 },
        },
      ],
    });
    store = await openStore(config.store);
    await store.routes.seed([{ id: 'block', mode: 'canary', weight: 50 }], 'config');
    proxy = await startProxy({ config, store, listen: { host: '127.0.0.1', port: 0 } });
    guard = startGuard({ config, store, logger: createLogger('guard-e2e', 'silent') });
  });

  afterAll(async () => {
    guard?.stop();
    await proxy?.close();
    await store?.close();
    await failing?.stop();
    await monolith?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('clients see failovers, not errors; the guard flips the route to shadow with the numbers', async () => {
    const statuses = new Map<number, number>();
    let failovers = 0;
    let served = { legacy: 0, service: 0 };
    let sent = 0;
    let rolledBack = false;
    const startedAt = Date.now();
    // Four clients, 100 users; stop once the guard has acted (or at the cap).
    await Promise.all(
      Array.from({ length: 4 }, async (_, c) => {
        while (!rolledBack && sent < MAX_REQUESTS) {
          const user = (sent++ * 7 + c) % 100;
          const res = await fetch(`${proxy.url}/api/block/${(user % 50) + 1}`, {
            headers: { 'x-user-id': `u${user}` },
          });
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.headers.get('x-strangler-failover')) failovers++;
          const target = res.headers.get('x-strangler-target') as 'legacy' | 'service' | null;
          if (target) served = { ...served, [target]: served[target] + 1 };
          if (sent % 20 === 0) rolledBack = (await store.routes.get('block'))!.mode === 'shadow';
        }
      }),
    );
    const rollback = (await store.audit.list({ route: 'block', action: 'guard.rollback' }))[0];
    const elapsed = rollback ? Date.parse(rollback.at) - startedAt : undefined;
    console.log(
      `guard e2e: ${sent} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}, ` +
        `${failovers} failovers, served ${JSON.stringify(served)}, rollback ${elapsed} ms after traffic began`,
    );
    expect(rollback, 'the guard never rolled the route back').toBeDefined();
    expect([...statuses.keys()]).toEqual([200]);
    expect(failovers).toBeGreaterThan(0);
    expect(rollback).toMatchObject({
      actor: 'guard',
      before: { mode: 'canary', weight: 50 },
      after: { mode: 'shadow', weight: 0 },
    });
    const slo = rollback.details!.slo as {
      state: string;
      requests: number;
      errors: number;
      errorRate: number;
      since: number;
      until: number;
    };
    expect(slo.state).toBe('breach');
    expect(slo.requests).toBeGreaterThanOrEqual(20);
    expect(slo.errorRate).toBeGreaterThan(0.05);
    // The verdict was made on the service traffic of at most one SLO window
    // (plus the alignment of its first stats window to the flush interval).
    expect(slo.until - slo.since).toBeLessThanOrEqual(WINDOW_MS + FLUSH_MS);
    expect(rollback.reason).toMatch(/SLO breached .* error rate \d+(\.\d+)?% \(\d+\/\d+\) > 5%/);
    expect(await store.routes.get('block')).toMatchObject({ mode: 'shadow', actor: 'guard' });
  });
});
