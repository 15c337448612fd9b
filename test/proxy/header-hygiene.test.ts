import { connect } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack, startUpstream, type TestUpstream } from './helpers.js';

/** Send raw bytes and read the whole answer (the proxy closes after a 400). */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let out = '';
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      out += d;
    });
    sock.on('end', () => resolve(out));
    sock.on('error', reject);
    sock.write(text);
    setTimeout(() => sock.end(), 2000).unref();
  });
}

describe('header hygiene', () => {
  let legacy: TestUpstream;
  let stack: Stack;

  beforeAll(async () => {
    legacy = await startUpstream((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('x-upstream', 'yes');
        // Hop-by-hop headers an upstream might send: none may reach the client.
        res.setHeader('connection', 'keep-alive, x-secret-hop');
        res.setHeader('x-secret-hop', 'drop me');
        res.setHeader('keep-alive', 'timeout=77');
        res.setHeader('proxy-authenticate', 'Basic');
        res.end('ok');
      });
    });
    stack = await startStack({ legacy: { url: legacy.url } });
  });

  afterAll(async () => {
    await stack?.close();
    await legacy?.close();
  });

  it('strips hop-by-hop request headers, including those Connection names', async () => {
    legacy.seen.length = 0;
    const port = stack.proxy.port;
    const answer = await rawExchange(
      port,
      'GET /h HTTP/1.1\r\nHost: example.test\r\nConnection: close, x-drop-me\r\nx-drop-me: 1\r\nx-keep-me: 2\r\n' +
        'Keep-Alive: timeout=9\r\nTE: trailers\r\nTrailer: x-t\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\n' +
        'Proxy-Connection: keep-alive\r\nUpgrade: h2c\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    const h = legacy.seen[0].headers;
    expect(h['x-keep-me']).toBe('2');
    for (const name of [
      'x-drop-me',
      'keep-alive',
      'te',
      'trailer',
      'proxy-authorization',
      'proxy-connection',
      'upgrade',
    ]) {
      expect(h[name], name).toBeUndefined();
    }
    // The upstream connection is the proxy's own keep-alive one, not the client's "close".
    expect(h.connection).not.toBe('close');
  });

  it('strips hop-by-hop response headers and adds the strangler headers', async () => {
    const r = await stack.get('/resp');
    expect(r.status).toBe(200);
    expect(r.headers['x-upstream']).toBe('yes');
    expect(r.headers['x-secret-hop']).toBeUndefined();
    expect(r.headers['proxy-authenticate']).toBeUndefined();
    expect(r.headers['keep-alive']).not.toBe('timeout=77');
    expect(r.headers['x-strangler-target']).toBe('legacy');
    expect(r.headers['x-strangler-route']).toBe('(unmatched)');
  });

  it('sets X-Forwarded-Proto/Host and appends to an existing X-Forwarded-For', async () => {
    legacy.seen.length = 0;
    await stack.get('/xff', { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'gopher' });
    const h = legacy.seen[0].headers;
    expect(h['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe(`127.0.0.1:${stack.proxy.port}`);
  });

  it('creates an x-request-id and a traceparent when absent, forwards and returns both', async () => {
    legacy.seen.length = 0;
    const r = await stack.get('/ids');
    const h = legacy.seen[0].headers;
    expect(r.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(h['x-request-id']).toBe(r.headers['x-request-id']);
    expect(r.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(h.traceparent).toBe(r.headers.traceparent);
  });

  it('keeps a given x-request-id and continues a given trace with a new span', async () => {
    legacy.seen.length = 0;
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const r = await stack.get('/ids', { 'x-request-id': 'abc-123', traceparent: incoming });
    const h = legacy.seen[0].headers;
    expect(r.headers['x-request-id']).toBe('abc-123');
    expect(h['x-request-id']).toBe('abc-123');
    const tp = String(h.traceparent);
    expect(tp).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(tp).not.toBe(incoming);
    expect(r.headers.traceparent).toBe(tp);
  });

  it('starts a new trace for an invalid traceparent', async () => {
    const r = await stack.get('/ids', {
      traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    });
    expect(r.headers.traceparent).not.toContain('00000000000000000000000000000000');
  });

  it('answers 400 to a request with two Host headers, without forwarding it', async () => {
    legacy.seen.length = 0;
    const answer = await rawExchange(
      stack.proxy.port,
      'GET /two-hosts HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('STRANGLER_E_BAD_REQUEST');
    expect(legacy.seen).toHaveLength(0);
  });

  it('never sends both Transfer-Encoding and Content-Length upstream for a chunked body', async () => {
    legacy.seen.length = 0;
    const answer = await rawExchange(
      stack.proxy.port,
      'POST /chunked HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    const h = legacy.seen[0].headers;
    // undici frames the body itself: chunked, or a length when the body has
    // already fully arrived. Exactly one of the two, never both (RFC 9112 §6.3).
    expect(h['transfer-encoding'] === undefined).not.toBe(h['content-length'] === undefined);
    if (h['content-length'] !== undefined) expect(h['content-length']).toBe('5');
    else expect(h['transfer-encoding']).toBe('chunked');
  });

  it('forwards a Content-Length body with its length', async () => {
    legacy.seen.length = 0;
    const r = await request(`${stack.proxy.url}/cl`, {
      method: 'PUT',
      body: 'twelve bytes',
      dispatcher: stack.agent,
    });
    await r.body.text();
    expect(r.statusCode).toBe(200);
    expect(legacy.seen[0].headers['content-length']).toBe('12');
    expect(legacy.seen[0].headers['transfer-encoding']).toBeUndefined();
  });
});

describe('response heads built from the upstream raw head', () => {
  let legacy: TestUpstream;
  let service: TestUpstream;
  let stack: Stack;

  beforeAll(async () => {
    const cookies = (res: import('node:http').ServerResponse, who: string) => {
      res.setHeader('set-cookie', [`a=${who}`, `b=${who}`, `c=${who}`]);
      // An upstream's own x-request-id must not reach the client beside ours.
      res.setHeader('x-request-id', 'upstream-made-this-up');
    };
    legacy = await startUpstream((_req, res) => {
      cookies(res, 'legacy');
      res.end('legacy');
    });
    service = await startUpstream((req, res) => {
      cookies(res, 'service');
      res.statusCode = req.url?.startsWith('/svc/fail') ? 503 : 200;
      res.end('service');
    });
    stack = await startStack({
      legacy: { url: legacy.url },
      services: { svc: { url: service.url } },
      routes: [{ id: 'svc', match: { path: '/svc/*' }, service: 'svc', mode: 'service' }],
    });
  });

  afterAll(async () => {
    await stack?.close();
    await service?.close();
    await legacy?.close();
  });

  it('keeps repeated Set-Cookie fields separate and in order; our x-request-id replaces the upstream one', async () => {
    const r = await stack.get('/svc/ok');
    expect(r.body).toBe('service');
    expect(r.headers['set-cookie']).toEqual(['a=service', 'b=service', 'c=service']);
    expect(r.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('does the same on a failover answer, which also names its reason', async () => {
    const r = await stack.get('/svc/fail');
    expect(r.status).toBe(200);
    expect(r.body).toBe('legacy');
    expect(r.headers['x-strangler-failover']).toBe('status-5xx');
    expect(r.headers['x-strangler-target']).toBe('legacy');
    expect(r.headers['set-cookie']).toEqual(['a=legacy', 'b=legacy', 'c=legacy']);
  });
});
