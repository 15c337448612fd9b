/**
 * Distributed context on real sockets. With `tracing.otlp` pointing at an
 * OTLP/HTTP receiver on loopback: a request that fails over yields one trace
 * — the request span and two attempt spans (the service's, then `failover
 * legacy` with the reason) — continuing the caller's trace, and each upstream
 * sees its own attempt as parent; a shadowed request yields a shadow span
 * linked to the request span, whose context the copy carries. tracestate and
 * baggage reach legacy, the service and shadow copies. With tracing off the
 * traceparent still continues the caller's trace everywhere, and a shadow copy
 * carries one of its own rather than the client's.
 */
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/free-port.js';
import { seedFromConfig } from '../../cli/context.js';
import { parseConfig } from '../../core/config.js';
import { type ProxyServer, startProxy } from '../../proxy/server.js';
import { createShadowHook } from '../../shadow/mirror.js';
import type { ShadowHook } from '../../shadow/types.js';
import { openStore } from '../../store/open.js';
import { tempDir } from '../helpers/tmp.js';
import { startOtlpReceiver } from './otlp-receiver.js';

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const CALLER = {
  traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`,
  tracestate: 'vendor=abc,other=1',
  baggage: 'user.tier=gold,region=eu',
};

interface Seen {
  url: string;
  requests: Array<{ path: string; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

/** An upstream that notes every request's headers. */
async function startRecorder(name: string): Promise<Seen> {
  const requests: Seen['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ path: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ served_by: name, n: 1 }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

const parentOf = (traceparent: unknown) => String(traceparent).split('-')[2];
const traceOf = (traceparent: unknown) => String(traceparent).split('-')[1];

async function startStack(tracing: boolean) {
  const tmp = tempDir('strangler-trace-');
  const legacy = await startRecorder('legacy');
  const service = await startRecorder('service');
  const receiver = tracing ? await startOtlpReceiver() : undefined;
  const config = parseConfig({
    listen: '127.0.0.1:0',
    store: `sqlite:${tmp.dir}/state.db`,
    legacy: { url: legacy.url },
    services: { svc: { url: service.url }, gone: { url: `http://127.0.0.1:${await freePort()}` } },
    ...(receiver ? { tracing: { otlp: receiver.url, serviceName: 'strangler-test' } } : {}),
    routes: [
      { id: 'moved', match: { path: '/moved/*' }, service: 'gone', mode: 'service' },
      {
        id: 'shadowed',
        match: { path: '/shadowed/*' },
        service: 'svc',
        mode: 'shadow',
        shadow: { noiseSampleRate: 0 },
      },
    ],
  });
  const store = await openStore(config.store);
  await seedFromConfig(store, config);
  const shadow: ShadowHook = createShadowHook({ config, store });
  const proxy: ProxyServer = await startProxy({ config, store, shadow });
  const pool = new Pool(proxy.url, { connections: 2 });
  return {
    legacy,
    service,
    receiver,
    proxy,
    pool,
    async close() {
      await pool.close();
      await proxy.close();
      await shadow.close();
      await store.close();
      await receiver?.close();
      await service.close();
      await legacy.close();
      tmp.cleanup();
    },
  };
}

async function waitUntil(pred: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('tracing on: OTLP/HTTP export', () => {
  let s: Awaited<ReturnType<typeof startStack>>;
  beforeAll(async () => {
    s = await startStack(true);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('a failed-over request is one trace: the request span and two attempt spans', async () => {
    const res = await s.pool.request({ method: 'GET', path: '/moved/1', headers: CALLER });
    await res.body.dump();
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-strangler-failover']).toBe('refused');
    const spans = await s.receiver!.waitFor(
      (all) => all.filter((x) => x.traceId === CALLER_TRACE).length >= 3,
    );
    const trace = spans.filter((x) => x.traceId === CALLER_TRACE);
    if (process.env.SHOW_TRACE) console.log(JSON.stringify(s.receiver!.bodies, null, 2));
    const request = trace.find((x) => x.name === 'GET /moved/*')!;
    expect(request).toBeDefined();
    expect(request.parentSpanId).toBe(CALLER_SPAN);
    expect(request.service).toBe('strangler-test');
    expect(request.attributes).toMatchObject({
      'strangler.route': 'moved',
      'strangler.mode': 'service',
      'strangler.target': 'legacy',
      'strangler.failover.reason': 'refused',
      'http.response.status_code': 200,
    });
    expect(request.events.map((e) => e.name)).toContain('failover');
    const attempts = trace.filter((x) => x.parentSpanId === request.spanId);
    expect(attempts.map((a) => a.name)).toEqual(['attempt service', 'failover legacy']);
    const [first, second] = attempts;
    // Children lie inside the request span, one after the other.
    const ns = (v: unknown) => BigInt(String(v));
    expect(ns(first.start)).toBeGreaterThanOrEqual(ns(request.start));
    expect(ns(second.start)).toBeGreaterThanOrEqual(ns(first.end));
    expect(ns(second.end)).toBeLessThanOrEqual(ns(request.end));
    expect(first.attributes).toMatchObject({ 'strangler.target': 'service', 'strangler.outcome': 'refused' });
    expect(first.status?.code).toBe(2); // ERROR
    expect(second.attributes).toMatchObject({
      'strangler.target': 'legacy',
      'strangler.failover.reason': 'refused',
      'http.response.status_code': 200,
    });
    // Legacy saw its own attempt as parent, in the caller's trace, with the caller's tracestate and baggage.
    const seen = s.legacy.requests.at(-1)!.headers;
    expect(traceOf(seen.traceparent)).toBe(CALLER_TRACE);
    expect(parentOf(seen.traceparent)).toBe(second.spanId);
    expect(seen.tracestate).toBe(CALLER.tracestate);
    expect(seen.baggage).toBe(CALLER.baggage);
    // The client learns the request span.
    expect(parentOf(res.headers.traceparent)).toBe(request.spanId);
    expect(s.receiver!.contentTypes.every((c) => c.startsWith('application/json'))).toBe(true);
  });

  it('a shadowed request yields a shadow span linked to the request span', async () => {
    const res = await s.pool.request({ method: 'GET', path: '/shadowed/7', headers: CALLER });
    await res.body.dump();
    expect(res.statusCode).toBe(200);
    const spans = await s.receiver!.waitFor((all) => all.some((x) => x.name === 'shadow service'));
    const request = spans.find((x) => x.name === 'GET /shadowed/*')!;
    const shadow = spans.find((x) => x.name === 'shadow service')!;
    expect(request.traceId).toBe(CALLER_TRACE);
    expect(shadow.links).toEqual([{ traceId: request.traceId, spanId: request.spanId }]);
    expect(shadow.traceId).not.toBe(CALLER_TRACE); // its own trace: it runs after the client was served
    expect(shadow.attributes).toMatchObject({
      'strangler.route': 'shadowed',
      'strangler.target': 'service',
      'strangler.shadow': true,
      'http.response.status_code': 200,
    });
    await waitUntil(() => s.service.requests.some((r) => r.path === '/shadowed/7'));
    const copy = s.service.requests.find((r) => r.path === '/shadowed/7')!.headers;
    expect(traceOf(copy.traceparent)).toBe(shadow.traceId);
    expect(parentOf(copy.traceparent)).toBe(shadow.spanId);
    expect(copy.tracestate).toBe(CALLER.tracestate);
    expect(copy.baggage).toBe(CALLER.baggage);
    expect(copy['x-strangler-shadow']).toBe('1');
  });
});

describe('tracing off: context still propagates', () => {
  let s: Awaited<ReturnType<typeof startStack>>;
  beforeAll(async () => {
    s = await startStack(false);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('continues the caller trace to legacy and to the shadow copy, with tracestate and baggage', async () => {
    const res = await s.pool.request({ method: 'GET', path: '/shadowed/8', headers: CALLER });
    await res.body.dump();
    expect(res.statusCode).toBe(200);
    const primary = s.legacy.requests.find((r) => r.path === '/shadowed/8')!.headers;
    expect(traceOf(primary.traceparent)).toBe(CALLER_TRACE);
    expect(parentOf(primary.traceparent)).not.toBe(CALLER_SPAN); // the proxy's span, not the caller's
    expect(primary.tracestate).toBe(CALLER.tracestate);
    expect(primary.baggage).toBe(CALLER.baggage);
    await waitUntil(() => s.service.requests.some((r) => r.path === '/shadowed/8'));
    const copy = s.service.requests.find((r) => r.path === '/shadowed/8')!.headers;
    expect(traceOf(copy.traceparent)).toBe(CALLER_TRACE);
    expect(copy.traceparent).not.toBe(CALLER.traceparent);
    expect(parentOf(copy.traceparent)).not.toBe(parentOf(primary.traceparent));
    expect(copy.tracestate).toBe(CALLER.tracestate);
    expect(copy.baggage).toBe(CALLER.baggage);
  });

  it('continues the caller trace to the service and on failover', async () => {
    const res = await s.pool.request({ method: 'GET', path: '/moved/2', headers: CALLER });
    await res.body.dump();
    expect(res.headers['x-strangler-failover']).toBe('refused');
    const seen = s.legacy.requests.find((r) => r.path === '/moved/2')!.headers;
    expect(traceOf(seen.traceparent)).toBe(CALLER_TRACE);
    expect(seen.baggage).toBe(CALLER.baggage);
  });
});
