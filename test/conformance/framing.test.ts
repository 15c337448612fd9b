/**
 * Framing and header rules at the edge (issue 12), each asserting the status
 * the client got and what a raw-TCP upstream parsed. The smuggling cases at
 * the end already held before issue 12; they are kept as regression tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../proxy/helpers.js';
import { header, headerCount, type RawUpstream, req, sendRaw, startRawUpstream } from './raw-tcp.js';

describe('framing and header rules', () => {
  let legacy: RawUpstream;
  let service: RawUpstream;
  let stack: Stack;

  beforeAll(async () => {
    legacy = await startRawUpstream((r) => {
      // An upstream that sends informational answers nobody asked for.
      if (r.target === '/continue')
        return 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfinal';
      if (r.target === '/hints')
        return 'HTTP/1.1 103 Early Hints\r\nlink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfinal';
      return 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
    });
    service = await startRawUpstream((r) =>
      r.target === '/svc/continue'
        ? 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 3\r\n\r\nnew'
        : 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
    );
    stack = await startStack({
      legacy: { url: legacy.url },
      services: { svc: { url: service.url } },
      routes: [
        {
          id: 'svc',
          match: { path: '/svc/*' },
          service: 'svc',
          mode: 'service',
          failover: { volumeThreshold: 1 },
        },
        {
          id: 'traceable',
          match: { path: '/trace-ok', methods: ['GET', 'TRACE'] },
          service: 'svc',
          mode: 'legacy',
        },
      ],
    });
  });

  afterAll(async () => {
    await stack?.close();
    await legacy?.close();
    await service?.close();
  });

  async function exchange(raw: string) {
    const l = legacy.seen.length;
    const s = service.seen.length;
    const r = await sendRaw(stack.proxy.port, raw);
    return { ...r, status: r.statuses.at(-1), upstream: [...legacy.seen.slice(l), ...service.seen.slice(s)] };
  }

  const chunkedBody = '5\r\nhello\r\n0\r\n\r\n';

  it.each(['gzip, chunked', 'identity, chunked', 'CHUNKED;x=1', 'gzip'])(
    'Transfer-Encoding: %s → 501, nothing forwarded, connection closed',
    async (te) => {
      const r = await exchange(
        `POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ${te}\r\n\r\n${chunkedBody}`,
      );
      expect(r.statuses).toEqual([501]);
      expect(r.closed).toBe(true);
      expect(r.upstream).toHaveLength(0);
    },
  );

  it.each(['chunked, chunked', 'chunked\r\nTransfer-Encoding: chunked'])(
    'Transfer-Encoding: %s is refused by the parser (400)',
    async (te) => {
      const r = await exchange(
        `POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ${te}\r\n\r\n${chunkedBody}`,
      );
      expect(r.statuses).toEqual([400]);
      expect(r.upstream).toHaveLength(0);
    },
  );

  it('Transfer-Encoding: chunked is forwarded with the body intact', async () => {
    const r = await exchange(
      `POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunkedBody}`,
    );
    expect(r.status).toBe(200);
    expect(r.upstream).toHaveLength(1);
    expect(r.upstream[0].body.toString()).toBe('hello');
  });

  it('HTTP/1.0 with Transfer-Encoding → 400, nothing forwarded', async () => {
    const r = await exchange(
      `POST /t HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunkedBody}`,
    );
    expect(r.status).toBe(400);
    expect(r.upstream).toHaveLength(0);
  });

  it('Connection: Host / Content-Length never removes those fields', async () => {
    const r = await exchange(
      'POST /t HTTP/1.1\r\nHost: client.example\r\nConnection: Host, Content-Length, x-hop\r\nx-hop: 1\r\nContent-Length: 5\r\n\r\nhello',
    );
    expect(r.status).toBe(200);
    expect(r.upstream).toHaveLength(1);
    const got = r.upstream[0];
    expect(header(got, 'host')).toBe('client.example');
    expect(headerCount(got, 'host')).toBe(1);
    expect(header(got, 'content-length')).toBe('5');
    expect(header(got, 'x-hop')).toBeUndefined();
    expect(got.body.toString()).toBe('hello');
  });

  it.each([
    ['empty', 'Host: \r\n'],
    ['with a slash', 'Host: a/b\r\n'],
    ['with whitespace', 'Host: a b\r\n'],
    ['with userinfo', 'Host: u@h\r\n'],
    ['twice', 'Host: a\r\nHost: b\r\n'],
  ])('Host %s → 400, nothing forwarded', async (_what, hostLines) => {
    const r = await exchange(`GET /h HTTP/1.1\r\n${hostLines}Connection: close\r\n\r\n`);
    expect(r.status).toBe(400);
    expect(r.upstream).toHaveLength(0);
  });

  it('HTTP/2.0 on an HTTP/1 request line → 505', async () => {
    const r = await exchange('GET /v HTTP/2.0\r\nHost: x\r\n\r\n');
    expect(r.status).toBe(505);
    expect(r.upstream).toHaveLength(0);
  });

  it('TRACE → 405 unless the route lists it', async () => {
    const a = await exchange(req('TRACE', '/anything'));
    expect(a.status).toBe(405);
    expect(a.upstream).toHaveLength(0);
    const b = await exchange(req('TRACE', '/svc/x'));
    expect(b.status).toBe(405);
    expect(b.upstream).toHaveLength(0);
    const c = await exchange(req('TRACE', '/trace-ok'));
    expect(c.status).toBe(200);
    expect(c.upstream.map((x) => x.method)).toEqual(['TRACE']);
  });

  it('OPTIONS * is answered by the proxy (200, Allow), not a 502', async () => {
    const r = await exchange(req('OPTIONS', '*'));
    expect(r.status).toBe(200);
    expect(r.headers.allow).toMatch(/GET/);
    expect(r.upstream).toHaveLength(0);
  });

  it('CONNECT → 405', async () => {
    const r = await exchange('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(r.status).toBe(405);
    expect(r.upstream).toHaveLength(0);
  });

  it('an unrequested 100 Continue from legacy is skipped: the client gets the final 200', async () => {
    const r = await exchange(req('GET', '/continue'));
    expect(r.statuses).toEqual([200]);
    expect(r.text).toMatch(/final$/);
  });

  it('an unrequested 100 Continue from a service is skipped, not a failure or a failover', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await exchange(req('POST', '/svc/continue', '', '{}'));
      expect(r.statuses).toEqual([201]);
      expect(r.headers['x-strangler-target']).toBe('service');
      expect(r.headers['x-strangler-failover']).toBeUndefined();
    }
    expect(stack.proxy.routeExtras().svc.breaker ?? 'closed').toBe('closed');
  });

  it('103 Early Hints is dropped, never an error', async () => {
    const r = await exchange(req('GET', '/hints'));
    expect(r.statuses.at(-1)).toBe(200);
    expect(r.text).toMatch(/final$/);
  });

  describe('smuggling regressions (held before issue 12)', () => {
    it.each([
      [
        'CL and TE together',
        'POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
      ],
      [
        'two Content-Lengths',
        'POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc',
      ],
      ['obs-fold', 'GET /s HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n'],
      ['space before colon', 'GET /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n'],
      [
        'bad chunk size',
        'POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
      ],
      [
        'chunk size overflow',
        'POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\nhello\r\n0\r\n\r\n',
      ],
      [
        'bare LF in chunk',
        'POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n',
      ],
      ['negative Content-Length', 'POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'],
    ])('%s: refused, and no smuggled request reaches an upstream', async (_what, raw) => {
      const r = await exchange(raw);
      expect(r.statuses.length).toBeGreaterThan(0);
      expect(r.statuses.every((s) => s === 400 || s === 501)).toBe(true);
      expect(r.upstream.filter((u) => u.target === '/smuggled')).toHaveLength(0);
      expect(r.upstream.length).toBeLessThanOrEqual(1);
    });

    it('pipelined requests each arrive once, with their own bodies (answers in order)', async () => {
      const r = await exchange(
        'POST /p1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc' +
          'GET /p2 HTTP/1.1\r\nHost: x\r\n\r\n' +
          'POST /p3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nde\r\n0\r\n\r\n',
      );
      expect(r.statuses).toEqual([200, 200, 200]);
      // Node answers pipelined requests in order but may forward them concurrently.
      expect(r.upstream.map((u) => [u.target, u.body.toString()]).sort()).toEqual([
        ['/p1', 'abc'],
        ['/p2', ''],
        ['/p3', 'de'],
      ]);
    });

    it('nothing unparseable ever reached an upstream', () => {
      expect(legacy.garbage).toEqual([]);
      expect(service.garbage).toEqual([]);
    });
  });
});
