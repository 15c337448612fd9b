/**
 * Upgrades get the same pipeline as plain requests (issue 12): canonical
 * path, hop-by-hop and Connection-named stripping, Proxy-* removal,
 * X-Forwarded-*, x-request-id, traceparent, metrics. Non-WebSocket upgrades
 * (h2c from `curl --http2`) and body-carrying requests with Upgrade are
 * served as plain HTTP/1.1 instead of being dropped.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../proxy/helpers.js';
import { header, type RawUpstream, sendRaw, startRawUpstream } from './raw-tcp.js';

const run = promisify(execFile);

const SWITCH =
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n';
const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nplain';
const answer = (r: { headers: Array<[string, string]> }) =>
  r.headers.some(([n, v]) => n === 'upgrade' && v === 'websocket') ? SWITCH : OK;

function wsRequest(target: string, extra = ''): string {
  return (
    `GET ${target} HTTP/1.1\r\nHost: proxy.test\r\nConnection: Upgrade, x-hop\r\nUpgrade: websocket\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nx-hop: secret\r\n` +
    `Proxy-Authorization: Basic Zm9vOmJhcg==\r\nx-keep: 1\r\n${extra}\r\n`
  );
}

describe('upgrades through the same pipeline', () => {
  let legacy: RawUpstream;
  let service: RawUpstream;
  let stack: Stack;

  beforeAll(async () => {
    legacy = await startRawUpstream(answer);
    service = await startRawUpstream(answer);
    stack = await startStack({
      legacy: { url: legacy.url },
      services: { svc: { url: service.url } },
      routes: [{ id: 'ws', match: { path: '/api/*' }, service: 'svc', mode: 'service' }],
    });
  });

  afterAll(async () => {
    await stack?.close();
    await legacy?.close();
    await service?.close();
  });

  it('a WebSocket upgrade on a non-canonical spelling reaches the service canonically, with clean headers', async () => {
    const s = service.seen.length;
    const r = await sendRaw(stack.proxy.port, wsRequest('//api/./ws', 'x-request-id: ws-req-1\r\n'), 500);
    expect(r.statuses).toEqual([101]);
    expect(r.headers['x-strangler-route']).toBe('ws');
    expect(r.headers['x-strangler-target']).toBe('service');
    expect(r.headers['x-request-id']).toBe('ws-req-1');
    expect(r.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const got = service.seen.slice(s);
    expect(got).toHaveLength(1);
    expect(got[0].target).toBe('/api/ws');
    expect(header(got[0], 'upgrade')).toBe('websocket');
    expect(header(got[0], 'x-keep')).toBe('1');
    expect(header(got[0], 'x-hop')).toBeUndefined();
    expect(header(got[0], 'proxy-authorization')).toBeUndefined();
    expect(header(got[0], 'x-request-id')).toBe('ws-req-1');
    expect(header(got[0], 'traceparent')).toBe(r.headers.traceparent);
    expect(header(got[0], 'x-forwarded-for')).toBe('127.0.0.1');
    expect(header(got[0], 'x-forwarded-host')).toBe('proxy.test');
  });

  it('an upgrade that leaves the migrated prefix with %2e%2e goes to legacy as /admin', async () => {
    const l = legacy.seen.length;
    const r = await sendRaw(stack.proxy.port, wsRequest('/api/%2e%2e/admin'), 500);
    expect(r.statuses).toEqual([101]);
    expect(r.headers['x-strangler-route']).toBe('(unmatched)');
    expect(legacy.seen.slice(l).map((x) => x.target)).toEqual(['/admin']);
  });

  it('an upgrade with %2F → 400, nothing forwarded', async () => {
    const n = legacy.seen.length + service.seen.length;
    const r = await sendRaw(stack.proxy.port, wsRequest('/api%2Fws'), 500);
    expect(r.statuses).toEqual([400]);
    expect(legacy.seen.length + service.seen.length).toBe(n);
  });

  it('upgrades are counted in the metrics like plain requests', async () => {
    const text = await stack.proxy.metrics();
    expect(text).toMatch(
      /strangler_requests_total\{[^}]*route="ws"[^}]*target="service"[^}]*outcome="1xx"[^}]*\} [1-9]/,
    );
  });

  it('Upgrade: h2c (curl --http2) is served as plain HTTP/1.1', async () => {
    const s = service.seen.length;
    const r = await sendRaw(
      stack.proxy.port,
      'GET /api/h2c HTTP/1.1\r\nHost: proxy.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n' +
        'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
      500,
    );
    expect(r.statuses).toEqual([200]);
    expect(r.text).toMatch(/plain$/);
    const got = service.seen.slice(s);
    expect(got.map((x) => x.target)).toEqual(['/api/h2c']);
    expect(header(got[0], 'upgrade')).toBeUndefined();
    expect(header(got[0], 'http2-settings')).toBeUndefined();
  });

  it('the real curl --http2 gets its answer over HTTP/1.1', async () => {
    const { stdout } = await run(
      'curl',
      ['-sS', '--http2', '-o', '-', '-w', ' %{http_code} %{http_version}', `${stack.proxy.url}/api/curl`],
      {
        timeout: 10_000,
      },
    );
    expect(stdout).toBe('plain 200 1.1');
  });

  it('a POST with a body and Upgrade: websocket is served as plain HTTP/1.1, body intact', async () => {
    const s = service.seen.length;
    const r = await sendRaw(
      stack.proxy.port,
      'POST /api/body HTTP/1.1\r\nHost: proxy.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 11\r\n\r\nhello world',
      500,
    );
    expect(r.statuses).toEqual([200]);
    const got = service.seen.slice(s);
    expect(got.map((x) => [x.method, x.target, x.body.toString()])).toEqual([
      ['POST', '/api/body', 'hello world'],
    ]);
    expect(header(got[0], 'upgrade')).toBeUndefined();
  });

  it('keeps serving the connection after an h2c request served as plain', async () => {
    const r = await sendRaw(
      stack.proxy.port,
      'GET /api/one HTTP/1.1\r\nHost: proxy.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n' +
        'GET /api/two HTTP/1.1\r\nHost: proxy.test\r\nConnection: close\r\n\r\n',
      1000,
    );
    expect(r.statuses).toEqual([200, 200]);
  });
});
