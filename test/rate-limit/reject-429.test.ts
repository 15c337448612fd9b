/**
 * `over: reject`: requests over a route's limit get 429 with Retry-After and
 * the JSON error body, nothing reaches the upstream, and the refusal is
 * counted as strangler_rate_limited_total{route,target,action="reject"}.
 * The legacy limit holds in legacy mode too, and in shadow mode the copies
 * to the service count against the service's limit (over it the copy is
 * skipped; the client, served by legacy, sees nothing). Memory backend
 * (SQLite store).
 */
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedFromConfig } from '../../cli/context.js';
import { parseConfig } from '../../core/config.js';
import { type ProxyServer, startProxy } from '../../proxy/server.js';
import { createShadowHook } from '../../shadow/mirror.js';
import type { ShadowHook } from '../../shadow/types.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { type StandIn, startStandIn } from '../helpers/stand-ins.js';
import { tempDir } from '../helpers/tmp.js';

describe('rate limit, over: reject', () => {
  let legacy: StandIn;
  let service: StandIn;
  let store: Store;
  let proxy: ProxyServer;
  let pool: Pool;
  let shadow: ShadowHook;
  const tmp = tempDir('strangler-rl-');

  beforeAll(async () => {
    legacy = await startStandIn('legacy');
    service = await startStandIn('service');
    const config = parseConfig({
      listen: '127.0.0.1:0',
      store: `sqlite:${tmp.dir}/state.db`,
      legacy: { url: legacy.url },
      services: { svc: { url: service.url } },
      routes: [
        {
          id: 'svc',
          match: { path: '/svc/*' },
          service: 'svc',
          mode: 'service',
          rateLimit: { service: '5/m' },
        },
        {
          id: 'old',
          match: { path: '/old/*' },
          service: 'svc',
          mode: 'legacy',
          rateLimit: { legacy: '3/m' },
        },
        { id: 'free', match: { path: '/free/*' }, service: 'svc', mode: 'service' },
        {
          id: 'copied',
          match: { path: '/copied/*' },
          service: 'svc',
          mode: 'shadow',
          shadow: { noiseSampleRate: 0 },
          rateLimit: { service: '3/m' },
        },
      ],
    });
    store = await openStore(config.store);
    await seedFromConfig(store, config);
    shadow = createShadowHook({ config, store });
    proxy = await startProxy({ config, store, shadow });
    pool = new Pool(proxy.url, { connections: 4 });
  });

  afterAll(async () => {
    await pool?.close();
    await proxy?.close();
    await shadow?.close();
    await store?.close();
    await service?.close();
    await legacy?.close();
    tmp.cleanup();
  });

  async function get(path: string) {
    const res = await pool.request({ method: 'GET', path });
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  }

  it('answers 429 with Retry-After and STRANGLER_E_RATE_LIMITED once the service limit is used up', async () => {
    const before = service.hits();
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await get(`/svc/${i}`));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    expect(service.hits() - before).toBe(5);
    const refused = answers[5];
    const retryAfter = Number(refused.headers['retry-after']);
    // A 1-minute window opened moments ago: room again in (0, 60] seconds.
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers['x-strangler-rate-limited']).toBe('service');
    expect(refused.headers['content-type']).toContain('application/json');
    const body = JSON.parse(refused.body);
    expect(body.error).toBe('STRANGLER_E_RATE_LIMITED');
    expect(body.requestId).toBe(refused.headers['x-request-id']);
  });

  it('limits legacy on a legacy-mode route', async () => {
    const before = legacy.hits();
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(`/old/${i}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(legacy.hits() - before).toBe(3);
  });

  it('leaves routes without a rateLimit alone', async () => {
    for (let i = 0; i < 10; i++) expect((await get(`/free/${i}`)).status).toBe(200);
  });

  it('in shadow mode, copies to the service count against its limit; the client never sees it', async () => {
    const before = { service: service.hits(), legacy: legacy.hits() };
    for (let i = 0; i < 6; i++) {
      const a = await get(`/copied/${i}`);
      expect(a.status).toBe(200);
      expect(JSON.parse(a.body).served_by).toBe('legacy');
    }
    expect(legacy.hits() - before.legacy).toBe(6);
    const t0 = Date.now();
    while (service.hits() - before.service < 3 && Date.now() - t0 < 10_000)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300)); // room for copies that should not come
    expect(service.hits() - before.service).toBe(3);
    expect(await proxy.metrics()).toMatch(
      /strangler_rate_limited_total\{route="copied",target="service",action="skip-shadow"\} 3/,
    );
  });

  it('counts refusals by route, target and action', async () => {
    const text = await proxy.metrics();
    expect(text).toMatch(/strangler_rate_limited_total\{route="svc",target="service",action="reject"\} 3/);
    expect(text).toMatch(/strangler_rate_limited_total\{route="old",target="legacy",action="reject"\} 2/);
  });
});
