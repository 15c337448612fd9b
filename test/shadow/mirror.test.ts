import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import type { RouteState } from '../../core/types.js';
import { createShadowHook } from '../../shadow/mirror.js';
import type { PrimaryExchange } from '../../shadow/types.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import type { Store } from '../../store/types.js';

// Two real upstreams on loopback. "legacy" answers with a per-call counter in
// `n` (noise), the service with a different `name`; /slow never answers in time.
let legacyCalls = 0;
const seen: http.IncomingHttpHeaders[] = [];
const pendingSockets = new Set<import('node:net').Socket>();
function serve(kind: 'legacy' | 'service'): http.Server {
  return http.createServer((req, res) => {
    seen.push(req.headers);
    if (req.url === '/slow') return; // never answers: the shadow timeout must fire
    if (req.url === '/trickle') {
      // The head at once, then a byte every 50 ms, never ending: no gap is
      // long enough for a per-read timeout, so only the copy's own deadline ends it.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      const t = setInterval(() => res.write('1,'), 50);
      res.on('close', () => clearInterval(t));
      return;
    }
    if (req.url === '/big') {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({ pad: 'x'.repeat(4096) }));
    }
    const body = JSON.stringify({
      id: 12345678901234567891n.toString(),
      name: kind === 'legacy' ? 'ann' : 'Ann',
      n: kind === 'legacy' ? ++legacyCalls : 0,
    });
    res.setHeader('content-type', 'application/json');
    if (kind === 'service') {
      res.setHeader('content-encoding', 'gzip');
      return res.end(gzipSync(body));
    }
    res.end(body);
  });
}

let legacy: http.Server;
let service: http.Server;
let dir: string;
let store: Store;
const url = (s: http.Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

beforeAll(async () => {
  legacy = serve('legacy');
  service = serve('service');
  for (const s of [legacy, service]) {
    s.on('connection', (c) => {
      pendingSockets.add(c);
      c.on('close', () => pendingSockets.delete(c));
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  }
  dir = mkdtempSync(path.join(os.tmpdir(), 'strangler-shadow-'));
  store = openSqliteStore(path.join(dir, 'state.db'));
});

afterAll(async () => {
  for (const c of pendingSockets) c.destroy();
  await Promise.all([legacy, service].map((s) => new Promise((r) => s.close(r))));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(shadow: Record<string, unknown> = {}, proxy: Record<string, unknown> = {}) {
  return parseConfig({
    legacy: { url: url(legacy) },
    services: { block: { url: url(service) } },
    proxy,
    routes: [{ id: 'users', match: { path: '/api/users/:id' }, service: 'block', shadow }],
  });
}
const state = (mode: RouteState['mode']): RouteState => ({
  id: 'users',
  mode,
  weight: 0,
  version: 1,
  updatedAt: '',
  actor: 't',
  reason: '',
});

/** Call legacy for real and describe that exchange as the proxy would. */
async function primary(pathAndQuery: string, headers: Record<string, string> = {}): Promise<PrimaryExchange> {
  const t0 = performance.now();
  const res = await fetch(url(legacy) + pathAndQuery, { headers });
  const body = Buffer.from(await res.arrayBuffer());
  return {
    requestId: 'r1',
    routeId: 'users',
    pattern: '/api/users/:id',
    method: 'GET',
    url: pathAndQuery,
    requestHeaders: { host: 'proxy', ...headers },
    requestBody: null,
    target: 'legacy',
    status: res.status,
    responseHeaders: Object.fromEntries(res.headers),
    responseBody: body,
    durationMs: performance.now() - t0,
  };
}

describe('shadow hook on real upstreams', () => {
  beforeEach(() => store.shadow.reset('users'));

  it('mirrors to the service with x-strangler-shadow, diffs (gzip decoded), learns noise, stores redacted samples', async () => {
    const cfg = config({ noiseSampleRate: 1 });
    const route = cfg.routes[0];
    const hook = createShadowHook({ config: cfg, store, random: () => 0 });
    const plan = hook.plan(route, state('shadow'), { method: 'GET', headers: {} }, 'legacy');
    expect(plan).toEqual({ capture: true, maxBodyBytes: 1024 * 1024 });
    seen.length = 0;
    for (let i = 0; i < 3; i++)
      hook.afterPrimary(
        route,
        state('shadow'),
        await primary(`/api/users/${i}`, { authorization: 'Bearer secret', cookie: 'sid=1' }),
      );
    await hook.close();
    // Every copy carried the marker header; the client's credentials went to the upstreams, not the store.
    // 3 primaries sent by the test itself, then 3 service copies + 3 second legacy answers
    expect(seen.filter((h) => h['x-strangler-shadow'] === '1')).toHaveLength(6);
    expect(seen.filter((h) => h['x-strangler-shadow'] === undefined)).toHaveLength(3);
    const ev = await store.shadow.evidence('users');
    expect(ev.compared).toBe(3);
    expect(ev.matched).toBe(0);
    expect(ev.fieldDiffs).toEqual({ '$.name': 3, '$.n': 3 });
    expect(ev.fieldNoise).toEqual({ '$.n': 3 });
    expect(ev.noisePairs).toBe(3);
    expect(ev.mismatchSets).toEqual({ '$.n\n$.name': 3 });
    expect(ev.latency.legacy).toHaveLength(3);
    expect(ev.latency.service).toHaveLength(3);
    expect(ev.samples).toHaveLength(3);
    const s = ev.samples[0];
    expect(s.endpoint).toBe('GET /api/users/:id');
    expect(s.request.headers.authorization).toBe('[redacted: authorization]');
    expect(s.request.headers.cookie).toBe('[redacted: cookie]');
    expect(JSON.stringify(ev.samples)).not.toContain('secret');
    expect(s.service.body).toContain('"name":"Ann"'); // stored decoded
    expect(s.differences.map((d) => d.path).sort()).toEqual(['$.n', '$.name']);
    await store.shadow.reset('users');
  });

  /** Shadow one GET with these request headers added; the headers the service side received. */
  async function copyHeadersSeen(extra: Record<string, string>): Promise<http.IncomingHttpHeaders[]> {
    const cfg = config({ noiseSampleRate: 0 });
    const hook = createShadowHook({ config: cfg, store });
    const ex = await primary('/api/users/7');
    seen.length = 0;
    const copied = { ...ex, requestHeaders: { ...ex.requestHeaders, ...extra } };
    hook.afterPrimary(cfg.routes[0], state('shadow'), copied);
    await hook.close();
    await store.shadow.reset('users');
    return [...seen];
  }

  it("a client's own x-strangler-shadow is replaced by ours, not sent beside it", async () => {
    const sent = await copyHeadersSeen({ 'x-strangler-shadow': 'spoofed' });
    expect(sent.map((h) => h['x-strangler-shadow'])).toEqual(['1']);
  });

  it("the copy drops the fields the client's Connection names, as the primary does (RFC 9110 §7.6.1)", async () => {
    const sent = await copyHeadersSeen({
      connection: 'keep-alive, X-Hop',
      'x-hop': 'for the proxy only',
      'x-end': 'kept',
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]['x-hop']).toBeUndefined();
    expect(sent[0]['x-end']).toBe('kept');
  });

  it('counts what it skips: sampled-out, body over the cap, timeouts, primary errors, not-shadowed methods', async () => {
    const cfg = config({ sampleRate: 0.5, maxBodyBytes: 1000, timeoutMs: 200, noiseSampleRate: 0 });
    const route = cfg.routes[0];
    const draws = [0.9, 0.1, 0.1, 0.1, 0.1];
    const hook = createShadowHook({ config: cfg, store, random: () => draws.shift() ?? 0.1 });
    expect(hook.plan(route, state('shadow'), { method: 'GET', headers: {} }, 'legacy').capture).toBe(false); // 0.9 ≥ 0.5
    expect(hook.plan(route, state('shadow'), { method: 'POST', headers: {} }, 'legacy').capture).toBe(false); // not eligible, not counted
    expect(hook.plan(route, state('legacy'), { method: 'GET', headers: {} }, 'legacy').capture).toBe(false); // not in shadow mode
    hook.afterPrimary(route, state('shadow'), { ...(await primary('/api/users/1')), responseBody: null }); // proxy dropped it at the cap
    hook.afterPrimary(route, state('shadow'), { ...(await primary('/api/users/1')), error: 'ECONNRESET' });
    hook.afterPrimary(route, state('shadow'), await primary('/big')); // service body over maxBodyBytes
    hook.afterPrimary(route, state('shadow'), primaryStub('/slow')); // the service never answers
    await hook.close();
    const ev = await store.shadow.evidence('users');
    expect(ev.compared).toBe(0);
    expect(ev.skipped).toEqual({ 'sampled-out': 1, 'body-cap': 2, 'primary-error': 1, timeout: 1 });
    expect(ev.errors).toEqual({ legacy: 0, service: 1 });
    await store.shadow.reset('users');
  });

  it('one deadline covers the whole copy: a body that keeps trickling in is cut at timeoutMs', async () => {
    const cfg = config({ timeoutMs: 300, noiseSampleRate: 0 });
    const route = cfg.routes[0];
    const hook = createShadowHook({ config: cfg, store });
    hook.afterPrimary(route, state('shadow'), primaryStub('/trickle'));
    // Without the deadline this never settles (and the test times out).
    await hook.idle();
    expect(hook.load()).toEqual({ active: 0, bytes: 0 });
    await hook.close();
    const ev = await store.shadow.evidence('users');
    expect(ev.skipped).toEqual({ timeout: 1 });
    expect(ev.errors).toEqual({ legacy: 0, service: 1 });
    await store.shadow.reset('users');
  }, 10_000);

  it('over the concurrency cap the copy is skipped and counted, never queued', async () => {
    const cfg = config({ timeoutMs: 300, noiseSampleRate: 0 }, { shadowMaxConcurrent: 2 });
    const route = cfg.routes[0];
    const hook = createShadowHook({ config: cfg, store });
    const ex = primaryStub('/slow');
    for (let i = 0; i < 5; i++) hook.afterPrimary(route, state('shadow'), ex);
    expect(hook.load().active).toBe(2);
    await hook.close();
    expect(hook.load()).toEqual({ active: 0, bytes: 0 });
    const ev = await store.shadow.evidence('users');
    expect(ev.skipped).toEqual({ 'concurrency-cap': 3, timeout: 2 });
    await store.shadow.reset('users');
  });

  it('over the total byte budget: a large primary body is refused, a shadow body that would overflow is dropped', async () => {
    const cfg = config({ noiseSampleRate: 0 }, { shadowMaxTotalBytes: 1000 });
    const route = cfg.routes[0];
    const hook = createShadowHook({ config: cfg, store });
    hook.afterPrimary(route, state('shadow'), {
      ...primaryStub('/api/users/1'),
      responseBody: Buffer.alloc(1500),
    });
    hook.afterPrimary(route, state('shadow'), primaryStub('/big')); // the service answers 4 KB
    await hook.close();
    expect(hook.load()).toEqual({ active: 0, bytes: 0 });
    const ev = await store.shadow.evidence('users');
    expect(ev.skipped).toEqual({ 'bytes-cap': 2 });
    expect(ev.errors).toEqual({ legacy: 0, service: 0 }); // a cap is not the service's fault
  });

  it('reverse: in service mode the service-served request is mirrored to legacy and compared the same way round', async () => {
    const cfg = config({ reverse: true, noiseSampleRate: 0 });
    const route = cfg.routes[0];
    const hook = createShadowHook({ config: cfg, store });
    const res = await fetch(`${url(service)}/api/users/5`);
    const body = Buffer.from(await res.arrayBuffer());
    expect(hook.plan(route, state('service'), { method: 'GET', headers: {} }, 'service').capture).toBe(true);
    hook.afterPrimary(route, state('service'), {
      ...primaryStub('/api/users/5'),
      target: 'service',
      status: res.status,
      // fetch already decoded the gzip body; say so by dropping content-encoding
      responseHeaders: { 'content-type': res.headers.get('content-type')! },
      responseBody: body,
    });
    // A request planned for the service that failed over to legacy is counted, not compared.
    hook.afterPrimary(route, state('service'), { ...primaryStub('/api/users/5'), target: 'legacy' });
    await hook.close();
    const ev = await store.shadow.evidence('users');
    expect(ev.skipped).toEqual({ failover: 1 });
    expect(ev.compared).toBe(1);
    expect(ev.samples[0].primary).toBe('service');
    expect(ev.samples[0].differences.find((d) => d.path === '$.name')).toMatchObject({
      legacy: '"ann"',
      service: '"Ann"',
    });
    await store.shadow.reset('users');
  });
});

function primaryStub(p: string): PrimaryExchange {
  return {
    requestId: 'r',
    routeId: 'users',
    pattern: '/api/users/:id',
    method: 'GET',
    url: p,
    requestHeaders: {},
    requestBody: null,
    target: 'legacy',
    status: 200,
    responseHeaders: { 'content-type': 'application/json' },
    responseBody: Buffer.from('{}'),
    durationMs: 1,
  };
}
