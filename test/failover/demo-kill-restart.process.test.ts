/**
 * The kill/restart fault test against the real demo apps: the Python monolith
 * as legacy and the TypeScript block-service (SIGKILLed, then restarted on the
 * same port). Both write the same SQLite file, whose `blocks` table is the
 * ledger: every POST blocks a pair nobody blocked before, so an execution
 * answers 201 and a second execution of the same request could only answer
 * 200 ("already blocked"). The demo config marks `block` idempotent; here it
 * is not, so the never-resend rule for POSTs is what is exercised.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { type RunningApp, startBlockService, startMonolith } from '../../examples/run.js';
import { onBreakerChange } from '../../proxy/breaker.js';
import { type ProxyServer, startProxy } from '../../proxy/server.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { type Outcome, runClients, sleep, waitForBreaker, waitForOutcomes } from './kill-restart.js';

const USERS = 50;

describe('demo monolith + block-service: block-service SIGKILLed and restarted', () => {
  let dir: string;
  let monolith: RunningApp;
  let blockService: RunningApp | undefined;
  let store: Store;
  let proxy: ProxyServer;
  let outcomes: Outcome[] = [];
  const pairs: Array<[number, number]> = [];
  let killedAt = 0;
  let restartedAt = 0;
  let openedAt = 0;
  let closedAt = 0;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'strangler-failover-demo-'));
    monolith = await startMonolith({ dbPath: path.join(dir, 'demo.db') });
    blockService = await startBlockService({ dbPath: monolith.dbPath });
    // Pairs not blocked yet, read from legacy before any traffic.
    for (let u = 1; u <= USERS; u++) {
      const r = await request(`${monolith.url}/api/block/${u}`);
      const taken = new Set(((await r.body.json()) as { blocked: number[] }).blocked);
      for (let t = 1; t <= USERS; t++) if (t !== u && !taken.has(t)) pairs.push([u, t]);
    }
    const config = parseConfig({
      store: `sqlite:${path.join(dir, 'state.db')}`,
      legacy: { url: monolith.url },
      services: { 'block-service': { url: blockService.url } },
      routes: [
        {
          id: 'block',
          match: { path: '/api/block/*', methods: ['GET', 'POST', 'DELETE'] },
          service: 'block-service',
          mode: 'service',
          failover: {
            volumeThreshold: 10,
            resetTimeoutMs: 400,
            rollingCountTimeoutMs: 1000,
            halfOpenMaxRequests: 3,
            timeoutMs: 2000,
          },
        },
      ],
    });
    store = await openStore(config.store);
    await store.routes.seed([{ id: 'block', mode: 'service', weight: 0 }], 'test');
    proxy = await startProxy({ config, store, listen: { host: '127.0.0.1', port: 0 } });

    let next = 0;
    const load = runClients({
      url: proxy.url,
      clients: 50,
      getPath: (i) => `/api/block/${1 + (i % USERS)}`,
      post: () => {
        const [u, t] = pairs[next++ % pairs.length];
        return { path: `/api/block/${u}`, body: JSON.stringify({ target: t }) };
      },
    });
    try {
      await waitForOutcomes(load.outcomes, 100, 30_000);
      const opened = waitForBreaker(onBreakerChange, 'open', 15_000);
      killedAt = Date.now();
      blockService.process.kill('SIGKILL');
      await new Promise((r) =>
        blockService!.process.exitCode !== null ? r(null) : blockService!.process.once('exit', r),
      );
      openedAt = (await opened).at;
      await Promise.all([sleep(800), waitForOutcomes(load.outcomes, 100, 30_000)]);
      const closed = waitForBreaker(onBreakerChange, 'closed', 20_000);
      restartedAt = Date.now();
      blockService = await startBlockService({ dbPath: monolith.dbPath, port: blockService.port });
      closedAt = (await closed).at;
      await waitForOutcomes(load.outcomes, 100, 30_000);
    } finally {
      await load.stop();
      outcomes = load.outcomes;
    }
    expect(next).toBeLessThan(pairs.length); // each POST had a pair of its own
  });

  afterAll(async () => {
    await proxy?.close();
    await store?.close();
    await blockService?.stop();
    await monolith?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('no GET failed', () => {
    const gets = outcomes.filter((o) => o.method === 'GET');
    expect(gets.filter((o) => o.status !== 200)).toEqual([]);
    expect(gets.filter((o) => o.target === 'legacy').length).toBeGreaterThan(0);
  });

  it('no POST ran twice (none answered "already blocked"); failed POSTs are 502/504 with the request id', () => {
    const posts = outcomes.filter((o) => o.method === 'POST');
    expect(posts.filter((o) => o.status === 200)).toEqual([]);
    for (const o of posts) {
      if (o.status === 201) continue;
      expect([502, 504], JSON.stringify(o)).toContain(o.status);
      expect(JSON.parse(o.body!)).toMatchObject({ requestId: o.id });
    }
    expect(posts.filter((o) => o.status === 201 && o.target === 'legacy').length).toBeGreaterThan(0);
  });

  it('the breaker opened after the kill and closed after the restart', async () => {
    expect(openedAt).toBeGreaterThanOrEqual(killedAt);
    expect(closedAt).toBeGreaterThanOrEqual(restartedAt);
    const actions = (await store.audit.list({ route: 'block' }))
      .filter((r) => r.actor === 'breaker')
      .map((r) => r.action);
    expect(actions[0]).toBe('breaker.open');
    expect(actions.at(-1)).toBe('breaker.close');
  });
});
