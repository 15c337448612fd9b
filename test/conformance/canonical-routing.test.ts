/**
 * Regression for issue 12: path spellings that slipped past a migrated route.
 * `//api/block/1` reached legacy (a write into the wrong database) and
 * `/api/%2e%2e/admin` reached the service. Every case asserts the status, the
 * route the proxy chose, and what a raw-TCP upstream actually parsed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../proxy/helpers.js';
import { header, type RawUpstream, req, sendRaw, startRawUpstream } from './raw-tcp.js';

describe('one canonical request target for routing and for every upstream', () => {
  let legacy: RawUpstream;
  let service: RawUpstream;
  let stack: Stack;

  beforeAll(async () => {
    legacy = await startRawUpstream();
    service = await startRawUpstream();
    stack = await startStack({
      legacy: { url: legacy.url },
      services: { block: { url: service.url } },
      routes: [
        {
          id: 'api',
          match: { path: '/api/*' },
          service: 'block',
          mode: 'service',
          failover: { enabled: false },
        },
        { id: 'notes', match: { path: '/api/notes/:id' }, service: 'block', mode: 'legacy' },
        {
          id: 'strict',
          match: { path: '/api/strict/:id' },
          service: 'block',
          mode: 'legacy',
          trailingSlash: 'strict',
        },
      ],
    });
  });

  afterAll(async () => {
    await stack?.close();
    await legacy?.close();
    await service?.close();
  });

  /** Send one request; return status, route header, and who parsed what. */
  async function exchange(raw: string) {
    const l = legacy.seen.length;
    const s = service.seen.length;
    const r = await sendRaw(stack.proxy.port, raw);
    const toLegacy = legacy.seen.slice(l);
    const toService = service.seen.slice(s);
    return { status: r.statuses.at(-1), route: r.headers['x-strangler-route'], toLegacy, toService };
  }

  it.each([
    ['POST', '//api/block/1', '/api/block/1'],
    ['GET', '/./api/x', '/api/x'],
    ['GET', '/other/../api/x', '/api/x'],
    ['GET', '/%61pi/x', '/api/x'],
    ['GET', '/api//x?a=..//%2F', '/api/x?a=..//%2F'],
  ])('%s %s reaches the service as %s', async (method, target, seen) => {
    const r = await exchange(
      req(method, target, 'Content-Type: application/json\r\n', method === 'POST' ? '{"target": 7}' : ''),
    );
    expect(r.status).toBe(200);
    expect(r.route).toBe('api');
    expect(r.toLegacy).toHaveLength(0);
    expect(r.toService.map((x) => x.target)).toEqual([seen]);
  });

  it.each([
    ['/api/../admin', '/admin'],
    ['/api/%2e%2e/admin', '/admin'],
    ['/api/%2E%2E/admin', '/admin'],
    ['/api/.%2e/admin', '/admin'],
  ])('%s leaves the migrated prefix: legacy gets %s', async (target, seen) => {
    const r = await exchange(req('GET', target));
    expect(r.status).toBe(200);
    expect(r.route).toBe('(unmatched)');
    expect(r.toService).toHaveLength(0);
    expect(r.toLegacy.map((x) => x.target)).toEqual([seen]);
  });

  it.each(['/api%2fx', '/api%2Fblock/1', '/api/x%5Cy', '/api\\x', '/api/x%00', '/api/x%0d%0a', '/api/%zz'])(
    '%s → 400, nothing forwarded',
    async (target) => {
      const r = await exchange(req('GET', target));
      expect(r.status).toBe(400);
      expect(r.toLegacy).toHaveLength(0);
      expect(r.toService).toHaveLength(0);
    },
  );

  it('absolute-form: routed on its path, forwarded in origin-form with Host from its authority', async () => {
    const r = await exchange(
      'GET http://evil.example/api/a?q=1 HTTP/1.1\r\nHost: proxy.test\r\nConnection: close\r\n\r\n',
    );
    expect(r.status).toBe(200);
    expect(r.route).toBe('api');
    expect(r.toService).toHaveLength(1);
    const got = r.toService[0];
    expect(got.target).toBe('/api/a?q=1');
    expect(header(got, 'host')).toBe('evil.example');
    expect(got.headers.filter(([n]) => n === 'host')).toHaveLength(1);
  });

  it('trailing slash: ignore (default) matches /api/notes/3/, strict does not', async () => {
    const a = await exchange(req('GET', '/api/notes/3/'));
    expect(a.route).toBe('notes');
    expect(a.toLegacy.map((x) => x.target)).toEqual(['/api/notes/3/']);
    const b = await exchange(req('GET', '/api/notes/3'));
    expect(b.route).toBe('notes');
    const c = await exchange(req('GET', '/api/strict/3/'));
    expect(c.route).toBe('api');
    const d = await exchange(req('GET', '/api/strict/3'));
    expect(d.route).toBe('strict');
  });
});
