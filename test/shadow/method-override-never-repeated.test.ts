/**
 * Issue 25 case 8: `GET` with `X-HTTP-Method-Override: DELETE` (or
 * `?_method=DELETE`) is a delete to a monolith that honours overrides. Before
 * the fix the service received every shadow copy of such GETs, legacy got
 * each one twice (the noise re-ask), and failover resent them to legacy after
 * the service had them. And a client's `x-strangler-shadow: 1` reached the
 * upstreams on real requests, so a service would take a real request for a
 * copy. A real proxy, the real shadow hook, upstreams that count.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { createShadowHook } from '../../shadow/mirror.js';
import type { ShadowHook } from '../../shadow/types.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import type { Store } from '../../store/types.js';
import { tempDir } from '../helpers/tmp.js';
import { type Stack, startStack } from '../proxy/helpers.js';

type Seen = { url: string; headers: IncomingHttpHeaders };
const seen: Record<'legacy' | 'service', Seen[]> = { legacy: [], service: [] };
const servers: http.Server[] = [];

function upstream(side: 'legacy' | 'service'): Promise<string> {
  const s = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen[side].push({ url: req.url ?? '', headers: req.headers });
      // The service fails every request on the failover route: legacy may rescue only what may run twice.
      const status = side === 'service' && req.url?.startsWith('/api/fail') ? 500 : 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(`{"side":"${side}"}`);
    });
  });
  servers.push(s);
  return new Promise((r) =>
    s.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)),
  );
}

const count = (side: 'legacy' | 'service', prefix: string) =>
  seen[side].filter((s) => s.url.startsWith(prefix)).length;

describe('method overrides are never repeated; client x-strangler-* fields never forwarded', () => {
  const tmp = tempDir('strangler-override-');
  let stack: Stack;
  let hookStore: Store;
  let shadow: ShadowHook & { close(): Promise<void> };

  beforeAll(async () => {
    const raw = {
      legacy: { url: await upstream('legacy') },
      services: { svc: { url: await upstream('service') } },
      routes: [
        {
          id: 'shadowed',
          match: { path: '/api/items/*' },
          service: 'svc',
          mode: 'shadow',
          shadow: { sampleRate: 1, noiseSampleRate: 1 },
        },
        {
          id: 'fail',
          match: { path: '/api/fail/*' },
          service: 'svc',
          mode: 'service',
          failover: { volumeThreshold: 1000 },
        },
        { id: 'served', match: { path: '/api/served/*' }, service: 'svc', mode: 'service' },
      ],
    };
    // The hook records evidence in a store of its own; the proxy's is startStack's.
    hookStore = openSqliteStore(`${tmp.dir}/hook.db`);
    shadow = createShadowHook({ config: parseConfig(raw), store: hookStore, random: () => 0 });
    stack = await startStack(raw, { shadow });
  });

  afterAll(async () => {
    await stack?.close();
    await hookStore?.close();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    tmp.cleanup();
  });

  it('shadow: overridden GETs get no copy and no noise re-ask; plain GETs get both', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await stack.get(`/api/items/plain-${i}`, { 'x-strangler-shadow': 'forged' })).status).toBe(200);
      expect((await stack.get(`/api/items/hdr-${i}`, { 'x-http-method-override': 'DELETE' })).status).toBe(
        200,
      );
      expect((await stack.get(`/api/items/alt-${i}`, { 'X-HTTP-Method': 'DELETE' })).status).toBe(200);
      expect((await stack.get(`/api/items/mo-${i}`, { 'X-Method-Override': 'DELETE' })).status).toBe(200);
      expect((await stack.get(`/api/items/q-${i}?_method=DELETE`)).status).toBe(200);
    }
    // Waits for every shadow copy in flight.
    await shadow.close();
    // The control: the machinery copies and re-asks plain GETs.
    expect(count('service', '/api/items/plain-')).toBe(5);
    expect(count('legacy', '/api/items/plain-')).toBe(10);
    // Each copy carries the proxy's marker once, never the client's.
    for (const copy of seen.service.filter((s) => s.url.startsWith('/api/items/plain-')))
      expect(copy.headers['x-strangler-shadow']).toBe('1');
    for (const p of ['hdr-', 'alt-', 'mo-', 'q-']) {
      expect(count('service', `/api/items/${p}`)).toBe(0);
      expect(count('legacy', `/api/items/${p}`)).toBe(5);
    }
  });

  it('failover: a GET overridden to DELETE that reached the failing service is not resent to legacy', async () => {
    const plain = await stack.get('/api/fail/plain');
    expect(plain.headers['x-strangler-target']).toBe('legacy');
    expect(count('legacy', '/api/fail/plain')).toBe(1);

    const overridden = await stack.get('/api/fail/over', { 'x-http-method-override': 'DELETE' });
    expect(overridden.status).toBeGreaterThanOrEqual(500);
    expect(overridden.headers['x-strangler-target']).toBe('service');
    expect(count('service', '/api/fail/over')).toBe(1);
    expect(count('legacy', '/api/fail/over')).toBe(0);

    await stack.get('/api/fail/q?_method=DELETE');
    expect(count('legacy', '/api/fail/q')).toBe(0);
  });

  it("a client's x-strangler-* fields reach neither side; other fields do", async () => {
    await stack.get('/api/served/1', {
      'x-strangler-shadow': '1',
      'x-strangler-whatever': 'x',
      'x-other': 'kept',
    });
    await stack.get('/unrouted/1', { 'X-Strangler-Shadow': '1' });
    const toService = seen.service.find((s) => s.url === '/api/served/1')!;
    expect(toService.headers['x-strangler-shadow']).toBeUndefined();
    expect(toService.headers['x-strangler-whatever']).toBeUndefined();
    expect(toService.headers['x-other']).toBe('kept');
    const toLegacy = seen.legacy.find((s) => s.url === '/unrouted/1')!;
    expect(toLegacy.headers['x-strangler-shadow']).toBeUndefined();
  });
});
