import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/free-port.js';
import { type Stack, startStack, startUpstream, type TestUpstream } from './helpers.js';

describe('upstream errors become gateway answers', () => {
  let legacy: TestUpstream;
  let stack: Stack;
  let deadPort: number;

  beforeAll(async () => {
    legacy = await startUpstream((req, res) => {
      if (req.url?.startsWith('/hang')) return; // never answers
      if (req.url === '/reset') {
        req.socket.destroy();
        return;
      }
      if (req.url === '/die-mid-body') {
        res.writeHead(200, { 'content-length': '1000' });
        res.write('partial');
        setTimeout(() => req.socket.destroy(), 20);
        return;
      }
      res.end('fine');
    });
    // A port nothing listens on.
    deadPort = await freePort();
    stack = await startStack({
      legacy: { url: legacy.url },
      services: {
        gone: { url: `http://127.0.0.1:${deadPort}` },
        slow: { url: legacy.url, timeoutMs: 200 },
      },
      proxy: { requestTimeoutMs: 300 },
      routes: [
        {
          id: 'gone',
          match: { path: '/gone' },
          service: 'gone',
          mode: 'service',
          failover: { enabled: false },
        },
        {
          id: 'slow',
          match: { path: '/hang-svc' },
          service: 'slow',
          mode: 'service',
          failover: { enabled: false },
        },
      ],
    });
  });

  afterAll(async () => {
    await stack?.close();
    await legacy?.close();
  });

  it('refused → 502 STRANGLER_E_UPSTREAM_REFUSED as JSON with the request id', async () => {
    const r = await stack.get('/gone', { 'x-request-id': 'req-refused' });
    expect(r.status).toBe(502);
    expect(r.headers['content-type']).toMatch(/application\/json/);
    expect(JSON.parse(r.body)).toMatchObject({
      error: 'STRANGLER_E_UPSTREAM_REFUSED',
      requestId: 'req-refused',
    });
    expect(r.headers['x-strangler-target']).toBe('service');
    expect(r.headers['x-strangler-route']).toBe('gone');
  });

  it('legacy headers timeout (config.proxy.requestTimeoutMs) → 504 STRANGLER_E_UPSTREAM_TIMEOUT', async () => {
    const r = await stack.get('/hang');
    expect(r.status).toBe(504);
    expect(JSON.parse(r.body).error).toBe('STRANGLER_E_UPSTREAM_TIMEOUT');
  });

  it("a service's own timeoutMs → 504", async () => {
    const r = await stack.get('/hang-svc');
    expect(r.status).toBe(504);
    expect(JSON.parse(r.body).error).toBe('STRANGLER_E_UPSTREAM_TIMEOUT');
  });

  it('reset before the response → 502 STRANGLER_E_UPSTREAM_RESET (after the one idempotent retry)', async () => {
    legacy.seen.length = 0;
    const r = await stack.get('/reset');
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body).error).toBe('STRANGLER_E_UPSTREAM_RESET');
    expect(legacy.seen.filter((s) => s.url === '/reset')).toHaveLength(2);
  });

  it('a non-idempotent request is not resent after a reset', async () => {
    legacy.seen.length = 0;
    const r = await request(`${stack.proxy.url}/reset`, {
      method: 'POST',
      body: 'x',
      dispatcher: stack.agent,
    });
    await r.body.text();
    expect(r.statusCode).toBe(502);
    expect(legacy.seen.filter((s) => s.url === '/reset')).toHaveLength(1);
  });

  it('an upstream dying mid-body truncates the client response instead of crashing', async () => {
    const r = await request(`${stack.proxy.url}/die-mid-body`, { dispatcher: stack.agent });
    expect(r.statusCode).toBe(200);
    await expect(r.body.text()).rejects.toThrow();
  });

  it('keeps serving after all of the above', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await stack.get('/ok');
      expect(r.status).toBe(200);
      expect(r.body).toBe('fine');
    }
    const metrics = await stack.proxy.metrics();
    expect(metrics).toMatch(/strangler_requests_total\{route="gone",target="service",outcome="error"\} 1/);
  });
});
