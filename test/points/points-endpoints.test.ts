/**
 * The proxy's /.strangler/points endpoints on real sockets: what a client on
 * the public listener can and cannot do (no token → nothing; a wrong token →
 * nothing, and forged shadow evidence never reaches the store), and the call
 * protocol's promise: a non-idempotent point whose service may have acted is
 * answered `x-strangler-fallback: none`, never "run it locally too".
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { type ProxyServer, startProxy } from '../../proxy/server.js';
import { createShadowHook, type ShadowMirror } from '../../shadow/mirror.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { type StandIn, startStandIn } from '../helpers/stand-ins.js';
import { tempDir } from '../helpers/tmp.js';

const TOKEN = 'points-secret';

interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A service whose behaviour per path the test sets: answer, or reset after reading the call. */
async function startService(): Promise<{
  url: string;
  seen: Seen[];
  resetOn: Set<string>;
  spoofOn: Set<string>;
  close(): Promise<void>;
}> {
  const seen: Seen[] = [];
  const resetOn = new Set<string>();
  /** Paths answered 409 with the proxy's own `x-strangler-fallback: local` word (a service that is itself behind a strangler). */
  const spoofOn = new Set<string>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers, body });
      if (resetOn.has(req.url ?? '')) {
        req.socket.destroy();
        return;
      }
      if (spoofOn.has(req.url ?? '')) {
        res.writeHead(409, { 'content-type': 'application/json', 'x-strangler-fallback': 'local' });
        res.end('{"error":"acted, then failed"}');
        return;
      }
      const call = JSON.parse(body || '{}') as { args?: number[] };
      const out = JSON.stringify({ result: { blocked: [(call.args?.[0] ?? 0) + 1], blocked_by: [] } });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    resetOn,
    spoofOn,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

const tmp = tempDir('strangler-points-');
let legacy: StandIn;
let service: Awaited<ReturnType<typeof startService>>;
let store: Store;
let shadow: ShadowMirror;
let open: ProxyServer;
let closed: ProxyServer;

function point(id: string, extra: Record<string, unknown> = {}) {
  return { id, kind: 'function', path: `/internal/${id}`, service: 'svc', mode: 'service', ...extra };
}

beforeAll(async () => {
  legacy = await startStandIn('legacy');
  service = await startService();
  const config = parseConfig({
    store: `sqlite:${path.join(tmp.dir, 'state.db')}`,
    legacy: { url: legacy.url },
    services: { svc: { url: service.url } },
    routes: [
      point('read', { idempotent: true }),
      point('write'),
      point('shadowed', { mode: 'shadow', idempotent: true }),
      point('legacy-one', { mode: 'legacy', idempotent: true }),
    ],
  });
  store = await openStore(config.store);
  await store.routes.seed(
    config.routes.map((r) => ({ id: r.id, mode: r.mode, weight: r.weight })),
    'config',
  );
  const logger = createLogger('points-test', 'silent');
  shadow = createShadowHook({ config, store, logger, flushIntervalMs: 50 });
  const listen = { host: '127.0.0.1', port: 0 };
  open = await startProxy({ config, store, logger, shadow, listen, pointsToken: TOKEN });
  closed = await startProxy({ config, store, logger, listen });
});

afterAll(async () => {
  await open?.close();
  await closed?.close();
  await shadow?.close();
  await store?.close();
  await service?.close();
  await legacy?.close();
  tmp.cleanup();
});

const auth = { authorization: `Bearer ${TOKEN}` };
const callBody = JSON.stringify({ args: [4], kwargs: {} });

async function post(base: string, p: string, body: string, headers: Record<string, string> = auth) {
  const res = await fetch(`${base}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

describe('/.strangler/points', () => {
  it('is closed without a configured token, and never reaches legacy or a service', async () => {
    const before = { legacy: legacy.hits(), service: service.seen.length };
    const list = await fetch(`${closed.url}/.strangler/points`, { headers: auth });
    // Points are in service mode here: "disabled" would tell every client to
    // run its writes locally (a probe of main did); the modes stay unknown.
    expect(list.status).toBe(503);
    expect(((await list.json()) as { error: string }).error).toBe('STRANGLER_E_POINTS_NO_TOKEN');
    expect((await post(closed.url, '/.strangler/points/read/call', callBody)).status).toBe(503);
    expect(legacy.hits()).toBe(before.legacy);
    expect(service.seen.length).toBe(before.service);
  });

  it('refuses a missing or wrong token with 401', async () => {
    expect((await fetch(`${open.url}/.strangler/points`)).status).toBe(401);
    const wrong = await post(open.url, '/.strangler/points/read/call', callBody, {
      authorization: 'Bearer nope',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer/);
    // Refused before any upstream, and says so: the client may run its function
    // (an answer without this word may come from a load balancer while the call runs on).
    expect(wrong.headers.get('x-strangler-fallback')).toBe('local');
    const unknown = await post(open.url, '/.strangler/points/nope/call', callBody);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-strangler-fallback')).toBe('local');
  });

  it('forged shadow evidence with a wrong token never reaches the store', async () => {
    const forged = JSON.stringify({
      calls: Array.from({ length: 50 }, () => ({
        call: callBody,
        result: '{"result":{"blocked":[5],"blocked_by":[]}}',
        ms: 1,
      })),
    });
    expect(
      (await post(open.url, '/.strangler/points/shadowed/shadow', forged, { authorization: 'Bearer nope' }))
        .status,
    ).toBe(401);
    await shadow.flush();
    expect((await store.shadow.evidence('shadowed')).compared).toBe(0);
  });

  it("keeps the service's internal path off the listener and the reserved prefix away from legacy", async () => {
    const before = service.seen.length;
    const direct = await fetch(`${open.url}/internal/read`, { method: 'POST', body: callBody });
    expect(direct.headers.get('x-strangler-target')).toBe('legacy');
    await direct.text();
    const legacyHits = legacy.hits();
    const unknown = await fetch(`${open.url}/.strangler/other`, { headers: auth });
    expect(unknown.status).toBe(404);
    await unknown.text();
    expect(legacy.hits()).toBe(legacyHits);
    expect(service.seen.length).toBe(before);
  });

  it('lists modes with an ETag and answers 304 while nothing changed', async () => {
    const res = await fetch(`${open.url}/.strangler/points`, { headers: auth });
    const body = (await res.json()) as { points: Record<string, { mode: string; idempotent: boolean }> };
    expect(body.points.read).toMatchObject({ mode: 'service', idempotent: true });
    expect(body.points.write).toMatchObject({ mode: 'service', idempotent: false });
    expect(body.points.shadowed.mode).toBe('shadow');
    const etag = res.headers.get('etag')!;
    const again = await fetch(`${open.url}/.strangler/points`, {
      headers: { ...auth, 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
  });

  it('holds a mode poll (?wait) until the table changes, and answers 304 when its wait runs out', async () => {
    const first = await fetch(`${open.url}/.strangler/points`, { headers: auth });
    await first.text();
    const etag = first.headers.get('etag')!;
    const idle = await fetch(`${open.url}/.strangler/points?wait=1`, {
      headers: { ...auth, 'if-none-match': etag },
    });
    expect(idle.status).toBe(304);

    const started = Date.now();
    const held = fetch(`${open.url}/.strangler/points?wait=20`, {
      headers: { ...auth, 'if-none-match': etag },
    });
    await new Promise((r) => setTimeout(r, 200));
    await store.routes.flip({
      route: 'legacy-one',
      mode: 'shadow',
      weight: 0,
      actor: 'test',
      reason: 'long poll',
    });
    await open.reload();
    const res = await held;
    const body = (await res.json()) as { points: Record<string, { mode: string }> };
    expect(res.status).toBe(200);
    expect(body.points['legacy-one'].mode).toBe('shadow');
    expect(res.headers.get('etag')).not.toBe(etag);
    // Released by the change, not by its 20 s wait.
    expect(Date.now() - started).toBeLessThan(15_000);
    await store.routes.flip({
      route: 'legacy-one',
      mode: 'legacy',
      weight: 0,
      actor: 'test',
      reason: 'back',
    });
    await open.reload();
  });

  it('passes a call to the service path without the points token or a client Idempotency-Key', async () => {
    const res = await post(open.url, '/.strangler/points/read/call', callBody, {
      ...auth,
      'idempotency-key': 'k1',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-strangler-target')).toBe('service');
    expect(JSON.parse(res.body)).toEqual({ result: { blocked: [5], blocked_by: [] } });
    const got = service.seen.at(-1)!;
    expect(got.path).toBe('/internal/read');
    expect(JSON.parse(got.body)).toEqual({ args: [4], kwargs: {} });
    expect(got.headers.authorization).toBeUndefined();
    expect(got.headers['idempotency-key']).toBeUndefined();
  });

  it('a non-idempotent point whose service may have acted: fallback none (502), called once, even with a client Idempotency-Key', async () => {
    service.resetOn.add('/internal/write');
    const before = service.seen.filter((s) => s.path === '/internal/write').length;
    const res = await post(open.url, '/.strangler/points/write/call', callBody, {
      ...auth,
      'idempotency-key': 'k2',
    });
    expect(res.status).toBe(502);
    expect(res.headers.get('x-strangler-fallback')).toBe('none');
    expect(service.seen.filter((s) => s.path === '/internal/write').length).toBe(before + 1);
  });

  it("a service's own x-strangler-fallback never reaches the client: only the proxy says 'run it locally'", async () => {
    service.resetOn.delete('/internal/write');
    service.spoofOn.add('/internal/write');
    const res = await post(open.url, '/.strangler/points/write/call', callBody);
    service.spoofOn.delete('/internal/write');
    expect(res.status).toBe(409);
    expect(res.headers.get('x-strangler-target')).toBe('service');
    // The service answered, so it may have acted: the client must not run a non-idempotent point again.
    expect(res.headers.get('x-strangler-fallback')).toBe('service');
  });

  it('an idempotent point whose service failed: fallback local (503) with the reason', async () => {
    service.resetOn.add('/internal/read');
    const res = await post(open.url, '/.strangler/points/read/call', callBody);
    service.resetOn.delete('/internal/read');
    expect(res.status).toBe(503);
    expect(res.headers.get('x-strangler-fallback')).toBe('local');
    expect(res.headers.get('x-strangler-failover')).toBe('reset');
  });

  it('a point the table has in legacy: fallback local, the service is not called', async () => {
    const before = service.seen.length;
    const res = await post(open.url, '/.strangler/points/legacy-one/call', callBody);
    expect(res.status).toBe(503);
    expect(res.headers.get('x-strangler-failover')).toBe('mode-legacy');
    expect(service.seen.length).toBe(before);
  });

  it('shadow batches are compared against the service and stored as evidence', async () => {
    const batch = JSON.stringify({
      calls: [
        { call: callBody, result: '{"result":{"blocked":[5],"blocked_by":[]}}', ms: 0.2 },
        { call: callBody, result: '{"result":{"blocked":[6],"blocked_by":[]}}', ms: 0.2 },
      ],
      skipped: { 'queue-full': 3, 'Bad Reason!': 9 },
    });
    const res = await post(open.url, '/.strangler/points/shadowed/shadow', batch);
    expect(res.status).toBe(202);
    await shadow.idle();
    await shadow.flush();
    const ev = await store.shadow.evidence('shadowed');
    expect(ev).toMatchObject({ compared: 2, matched: 1 });
    expect(ev.fieldDiffs).toEqual({ '$.result.blocked[*]': 1 });
    expect(ev.skipped).toEqual({ 'queue-full': 3 });
  });

  it('refuses a shadow batch whose durations cannot be a local call (negative, absurd), naming the field, comparing none', async () => {
    // The legacy duration is the divisor of the gate's p99 ratio: an absurd one
    // (1e300, a timestamp) drives the ratio to ~0 and would open the gate.
    const before = (await store.shadow.evidence('shadowed')).compared;
    const ok = { call: callBody, result: '{"result":{"blocked":[5],"blocked_by":[]}}', ms: 0.2 };
    for (const [bad, field] of [
      [{ ...ok, ms: -5 }, 'calls[1].ms'],
      [{ ...ok, ms: 1e300 }, 'calls[1].ms'],
      [{ ...ok, again: ok.result, againMs: -1 }, 'calls[1].againMs'],
      [{ ...ok, again: ok.result, againMs: '3' }, 'calls[1].againMs'],
    ] as const) {
      const res = await post(
        open.url,
        '/.strangler/points/shadowed/shadow',
        JSON.stringify({ calls: [ok, bad] }),
      );
      expect(res.status, field).toBe(400);
      expect(JSON.parse(res.body).message, field).toContain(field);
    }
    await shadow.idle();
    await shadow.flush();
    expect((await store.shadow.evidence('shadowed')).compared).toBe(before);
  });

  it('copies for a point not in shadow mode are counted, not compared', async () => {
    const before = service.seen.length;
    const res = await post(
      open.url,
      '/.strangler/points/read/shadow',
      JSON.stringify({ calls: [{ call: callBody, result: '{"result":1}', ms: 1 }] }),
    );
    expect(res.status).toBe(202);
    await shadow.flush();
    expect((await store.shadow.evidence('read')).skipped).toEqual({ 'not-shadow-mode': 1 });
    expect(service.seen.length).toBe(before);
  });
});
