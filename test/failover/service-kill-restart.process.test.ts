/**
 * Fault test on real sockets: 50 keep-alive clients against a service-mode
 * route; the service (a child process) is SIGKILLed mid-run and restarted on
 * the same port. No GET fails; no POST runs twice (per the ledgers both sides
 * keep); every failed POST is a 502/504 with the request id; the breaker opens
 * after the kill and closes after the restart.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { onBreakerChange } from '../../proxy/breaker.js';
import { type ProxyServer, startProxy } from '../../proxy/server.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import {
  type LedgerChild,
  type Outcome,
  runClients,
  sleep,
  startLedgerService,
  waitForBreaker,
  waitForOutcomes,
} from './kill-restart.js';

describe('service SIGKILLed and restarted under 50 keep-alive clients', () => {
  let dir: string;
  let legacy: Server;
  const legacyLedger: string[] = [];
  let service: LedgerChild | undefined;
  let store: Store;
  let proxy: ProxyServer;
  let serviceLedger: string;
  let outcomes: Outcome[] = [];
  let killedAt = 0;
  let restartedAt = 0;
  let openedAt = 0;
  let closedAt = 0;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'strangler-failover-'));
    serviceLedger = path.join(dir, 'service.ledger');
    writeFileSync(serviceLedger, '');
    // Legacy stand-in in this process: it is never killed; its ledger is in memory.
    legacy = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.method === 'POST') legacyLedger.push(String(req.headers['x-request-id']));
        const body = JSON.stringify({ from: 'legacy' });
        res.writeHead(req.method === 'POST' ? 201 : 200, {
          'content-type': 'application/json',
          'content-length': body.length,
        });
        res.end(body);
      });
    });
    await new Promise<void>((r) => legacy.listen(0, '127.0.0.1', r));
    service = await startLedgerService({ port: 0, ledger: serviceLedger, name: 'service' });
    const config = parseConfig({
      store: `sqlite:${path.join(dir, 'state.db')}`,
      legacy: { url: `http://127.0.0.1:${(legacy.address() as AddressInfo).port}` },
      services: { svc: { url: `http://127.0.0.1:${service.port}` } },
      routes: [
        {
          id: 'blocks',
          match: { path: '/api/blocks/*' },
          service: 'svc',
          mode: 'service',
          failover: {
            volumeThreshold: 10,
            resetTimeoutMs: 400,
            rollingCountTimeoutMs: 1000,
            halfOpenMaxRequests: 3,
            timeoutMs: 1000,
          },
        },
      ],
    });
    store = await openStore(config.store);
    await store.routes.seed([{ id: 'blocks', mode: 'service', weight: 0 }], 'test');
    proxy = await startProxy({ config, store, listen: { host: '127.0.0.1', port: 0 } });

    const load = runClients({
      url: proxy.url,
      clients: 50,
      getPath: (i) => `/api/blocks/${i}`,
      post: (i) => ({ path: '/api/blocks/new', body: JSON.stringify({ n: i }) }),
    });
    try {
      await waitForOutcomes(load.outcomes, 150, 20_000);
      const opened = waitForBreaker(onBreakerChange, 'open', 10_000);
      killedAt = Date.now();
      await service.kill('SIGKILL');
      openedAt = (await opened).at;
      await Promise.all([sleep(800), waitForOutcomes(load.outcomes, 150, 20_000)]);
      const closed = waitForBreaker(onBreakerChange, 'closed', 15_000);
      restartedAt = Date.now();
      service = await startLedgerService({ port: service.port, ledger: serviceLedger, name: 'service' });
      closedAt = (await closed).at;
      await waitForOutcomes(load.outcomes, 150, 20_000);
    } finally {
      await load.stop();
      outcomes = load.outcomes;
    }
  });

  afterAll(async () => {
    await proxy?.close();
    await store?.close();
    await service?.kill('SIGTERM');
    await new Promise<void>((r) => (legacy ? legacy.close(() => r()) : r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const posts = () => outcomes.filter((o) => o.method === 'POST');
  const gets = () => outcomes.filter((o) => o.method === 'GET');

  it('ran real traffic through all three phases', () => {
    if (process.env.FAILOVER_DEBUG) {
      const t0 = outcomes[0]?.at ?? 0;
      const summary = (f: (o: Outcome) => boolean) => {
        const m: Record<string, number> = {};
        for (const o of outcomes.filter(f)) {
          const k = `${o.method} ${o.status} ${o.target} ${o.failover ?? ''}`;
          m[k] = (m[k] ?? 0) + 1;
        }
        return m;
      };
      console.log({
        killedAt: killedAt - t0,
        openedAt: openedAt - t0,
        restartedAt: restartedAt - t0,
        closedAt: closedAt - t0,
      });
      console.log(
        summary((o) => o.at < killedAt),
        summary((o) => o.at >= killedAt && o.at < closedAt),
        summary((o) => o.at >= closedAt),
      );
    }
    expect(outcomes.filter((o) => o.at < killedAt).length).toBeGreaterThanOrEqual(150);
    expect(outcomes.filter((o) => o.at > killedAt && o.at < restartedAt).length).toBeGreaterThanOrEqual(100);
    expect(outcomes.filter((o) => o.at > closedAt).length).toBeGreaterThanOrEqual(100);
  });

  it('no GET failed: each was answered 200, by legacy while the service was down', () => {
    const bad = gets().filter((o) => o.status !== 200);
    expect(bad).toEqual([]);
    const rescued = gets().filter((o) => o.target === 'legacy');
    expect(rescued.length).toBeGreaterThan(0);
    for (const o of rescued) expect(['breaker-open', 'refused', 'reset', 'timeout']).toContain(o.failover);
  });

  it('no POST ran twice, every 2xx POST ran exactly once, every failed POST is 502/504 with its request id', () => {
    const ran = [...readFileSync(serviceLedger, 'utf8').split('\n').filter(Boolean), ...legacyLedger];
    const counts = new Map<string, number>();
    for (const id of ran) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts].filter(([, n]) => n > 1)).toEqual([]);
    for (const o of posts()) {
      if (o.status === 201) expect(counts.get(o.id), o.id).toBe(1);
      else {
        expect([502, 504], JSON.stringify(o)).toContain(o.status);
        expect(JSON.parse(o.body!)).toMatchObject({ requestId: o.id });
        expect(o.body).not.toMatch(/breaker/i);
      }
    }
    // POSTs that never reached the service were resent to legacy.
    expect(posts().filter((o) => o.target === 'legacy' && o.status === 201).length).toBeGreaterThan(0);
  });

  it('the breaker opened after the kill and closed after the restart, and the audit trail says so', async () => {
    expect(openedAt).toBeGreaterThanOrEqual(killedAt);
    expect(closedAt).toBeGreaterThanOrEqual(restartedAt);
    const rows = await store.audit.list({ route: 'blocks' });
    const actions = rows.filter((r) => r.actor === 'breaker').map((r) => r.action);
    expect(actions[0]).toBe('breaker.open');
    expect(actions).toContain('breaker.half-open');
    expect(actions.at(-1)).toBe('breaker.close');
  });

  it('exports the breaker gauge and the failover counters', async () => {
    const text = await proxy.metrics();
    expect(text).toMatch(/strangler_breaker_state\{route="blocks"\} 0/);
    expect(text).toMatch(/strangler_failovers_total\{route="blocks",reason="(refused|breaker-open)"\} [1-9]/);
    const unsafe = posts().filter((o) => o.status === 502 || o.status === 504).length;
    if (unsafe > 0)
      expect(text).toMatch(new RegExp(`strangler_unsafe_rejected_total\\{route="blocks"\\} ${unsafe}`));
  });
});
