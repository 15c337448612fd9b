/**
 * Issue 29 (last item): "a guard rollback's reason uses only evidence gathered
 * since the route's current version". The guard skipped stats windows that
 * start before the last flip, but the window holding the flip still counted:
 * service errors seconds before a flip rolled back the new version, quoting
 * the old version's numbers. Now every proxy records each request under the
 * route version that routed it, and the guard counts that version only.
 *
 * A real `strangler serve` child (proxy + guard), a service stand-in that
 * fails then is fixed, the flip through the admin API, and the store's audit.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/open.js';
import { windowStart } from '../../store/stats-window.js';
import type { Store } from '../../store/types.js';
import { type Served, startServe } from '../helpers/bin.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';

const FLUSH_MS = 2000;
const TOKEN = 'guard-version-token-1234';
const ADMIN = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const POLL = { timeout: 15_000, interval: 100 };

function upstream(name: string, failing: () => boolean): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    req.resume();
    const status = failing() ? 500 : 200;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ from: name }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
const url = (s: http.Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
const close = (s: http.Server) =>
  new Promise<void>((r) => {
    s.close(() => r());
    s.closeAllConnections();
  });

describe('the guard judges a re-flipped route on its own version only (issue 29)', () => {
  const tmp = tempDir('strangler-guard-version-');
  let serviceFails = true;
  let legacy: http.Server;
  let service: http.Server;
  let served: Served;
  let store: Store;

  beforeAll(async () => {
    legacy = await upstream('legacy', () => false);
    service = await upstream('service', () => serviceFails);
    const config = writeConfig(
      tmp.dir,
      `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:${tmp.dir}/state.db
proxy: { statsFlushMs: ${FLUSH_MS}, pollIntervalMs: 50 }
legacy: { url: ${url(legacy)} }
services:
  block-service: { url: ${url(service)} }
routes:
  - id: block
    match: { path: /api/block/*, methods: [GET] }
    service: block-service
    mode: canary
    weight: 50
    sticky: header:x-user-id
    # The breaker stays closed: every failure reaches the stats as an error, none is short-circuited later.
    failover: { volumeThreshold: 100000 }
    slo: { maxErrorRate: 0.05, maxP99Ms: 2000, window: 30s, minRequests: 20 }
`,
    );
    served = await startServe(config, { STRANGLER_ADMIN_TOKEN: TOKEN, STRANGLER_LOG_LEVEL: 'info' });
    store = await openStore(`sqlite:${tmp.dir}/state.db`, { create: false });
  });
  afterAll(async () => {
    await store?.close();
    await served?.stop();
    await close(legacy);
    await close(service);
    tmp.cleanup();
  });

  const get = async (user: string) => {
    const res = await fetch(`${served.proxy}/api/block/1`, { headers: { 'x-user-id': user } });
    await res.text();
    expect(res.status).toBe(200); // failover: legacy answers for the failing service
    return {
      target: res.headers.get('x-strangler-target'),
      failover: res.headers.has('x-strangler-failover'),
    };
  };

  it("errors just before a flip, in the same stats window, neither roll back the new version nor appear in the guard's numbers", async () => {
    // Start early in a stats window, so the failures and the flip share it.
    while (Date.now() % FLUSH_MS > FLUSH_MS / 4) await new Promise((r) => setTimeout(r, 20));
    const errorsFrom = Date.now();
    // Version 1 (canary 50%): 15 service failures, fewer than slo.minRequests,
    // so the guard cannot judge version 1 on them alone.
    let failures = 0;
    let legacyUser: string | undefined;
    for (let i = 0; failures < 15 && i < 500; i++) {
      const r = await get(`u${i}`);
      if (r.failover) failures++;
      else if (r.target === 'legacy') legacyUser ??= `u${i}`;
    }
    expect(failures).toBe(15);
    expect(legacyUser, 'no user sticky to legacy at 50%').toBeDefined();
    // The operator fixes the service and moves the route on to version 2.
    serviceFails = false;
    const flip = await fetch(`${served.admin}/routes/block/flip`, {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ mode: 'service', force: true, reason: 'service fixed', actor: 'alice' }),
    });
    expect(flip.status, await flip.clone().text()).toBe(201);
    const v2 = (await store.routes.get('block'))!;
    expect(v2).toMatchObject({ mode: 'service', version: 2 });
    // What this test is about: the failures and the flip fall in one stats window.
    expect(windowStart(Date.parse(v2.updatedAt), FLUSH_MS)).toBe(windowStart(errorsFrom, FLUSH_MS));
    // The proxy serves version 2 once a user sticky to legacy reaches the service.
    await expect.poll(async () => (await get(legacyUser!)).target, POLL).toBe('service');
    // 25 healthy service requests under version 2: enough to judge.
    for (let i = 0; i < 24; i++) expect(await get(`v2-${i}`)).toEqual({ target: 'service', failover: false });

    // The guard's verdict on version 2 once those are flushed: ok, or (on the
    // old code) a rollback that quoted version 1's failures.
    const rollbacks = () => store.audit.list({ route: 'block', action: 'guard.rollback' });
    await expect
      .poll(
        async () =>
          (await rollbacks()).length > 0 || /guard: block: SLO ok/.test(served.out() + served.err()),
        POLL,
      )
      .toBe(true);
    const [rollback] = await rollbacks();
    expect(rollback?.reason, 'rolled back version 2 on version 1 errors').toBeUndefined();
    expect(await store.routes.get('block')).toMatchObject({ mode: 'service', version: 2 });
    const ok = (served.out() + served.err()).split('\n').find((l) => /guard: block: SLO ok/.test(l))!;
    expect(JSON.parse(ok).slo).toMatchObject({ state: 'ok', errors: 0, requests: 25 });
  });
});
