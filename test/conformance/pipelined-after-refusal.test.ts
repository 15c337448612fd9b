/**
 * Issue 25 case 6: after any answer that closes a connection, nothing behind
 * it on that connection is parsed into a forwarded request. Before the fix,
 * Node emitted the pipelined POST at once and the proxy forwarded it while
 * the refusal was being written: the POST ran upstream (10 of 10) and its
 * answer was never sent (0 of 10), so a retry would run it twice.
 *
 * Raw sockets against a real proxy; a raw upstream counts what it parsed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../proxy/helpers.js';
import { type RawUpstream, sendRaw, sendRawSteps, startRawUpstream } from './raw-tcp.js';

const POST = 'POST /api/block/W HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nwrite';
const UPGRADE =
  'GET /api/block/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
const SWITCH = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';

describe('a request pipelined behind a refusal never runs', () => {
  let upstream: RawUpstream;
  let stack: Stack;

  beforeAll(async () => {
    upstream = await startRawUpstream((r) => {
      if (r.headers.some(([n, v]) => n === 'upgrade' && v === 'websocket')) return SWITCH;
      // No length: to an HTTP/1.0 client the proxy can only end this answer by closing.
      return r.target === '/api/block/stream'
        ? 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'
        : 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
    });
    stack = await startStack({
      legacy: { url: upstream.url },
      services: { block: { url: upstream.url } },
      routes: [{ id: 'block', match: { path: '/api/block/*' }, service: 'block', mode: 'service' }],
    });
  });

  afterAll(async () => {
    await stack?.close();
    await upstream?.close();
  });

  function posts(): number {
    return upstream.seen.filter((r) => r.method === 'POST').length;
  }

  it.each([
    ['an encoded slash (400)', 'GET /api%2Fblock/1 HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    [
      'TE: identity, chunked (501)',
      'POST /api/block/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n',
      501,
    ],
    ['two Host headers (400)', 'GET /api/block/1 HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n', 400],
    ['no Host (400, answered by Node itself)', 'GET /api/block/1 HTTP/1.1\r\n\r\n', 400],
    ['Host: a@b (400)', 'GET /api/block/1 HTTP/1.1\r\nHost: a@b\r\n\r\n', 400],
    ['GET * (400)', 'GET * HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['HTTP/2.0 on an HTTP/1 line (505)', 'GET /api/block/1 HTTP/2.0\r\nHost: x\r\n\r\n', 505],
    [
      'an HTTP/1.0 keep-alive request answered with Connection: close (200)',
      'GET /api/block/stream HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n',
      200,
    ],
  ])('behind %s: the POST runs 0 times', async (_what, first, status) => {
    const before = posts();
    for (let i = 0; i < 3; i++) {
      const r = await sendRaw(stack.proxy.port, first + POST);
      expect(r.statuses).toEqual([status]);
      expect(r.closed).toBe(true);
    }
    expect(posts() - before).toBe(0);
  });

  it('a POST written after the refusal was sent (a second packet) does not run either', async () => {
    const before = posts();
    const r = await sendRawSteps(stack.proxy.port, [
      'GET /api%2Fblock/1 HTTP/1.1\r\nHost: x\r\n\r\n',
      30,
      POST,
    ]);
    expect(r.statuses).toEqual([400]);
    expect(posts() - before).toBe(0);
  });

  it('behind an answer that keeps the connection, the pipelined POST runs once and is answered', async () => {
    const before = posts();
    const r = await sendRaw(
      stack.proxy.port,
      `GET /api/block/1 HTTP/1.1\r\nHost: x\r\n\r\nTRACE /api/block/1 HTTP/1.1\r\nHost: x\r\n\r\n${POST.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')}`,
    );
    expect(r.statuses).toEqual([200, 405, 200]);
    expect(posts() - before).toBe(1);
  });

  function upgrades(): number {
    return upstream.seen.filter((r) => r.target === '/api/block/ws').length;
  }

  it.each([
    ['a refusal', 'GET /api%2Fblock/1 HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    [
      'an answer that closes once forwarded (HTTP/1.0)',
      'GET /api/block/stream HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n',
      200,
    ],
  ])('a WebSocket upgrade pipelined behind %s is never tunnelled', async (_what, first, status) => {
    const before = upgrades();
    const r = await sendRaw(stack.proxy.port, first + UPGRADE);
    expect(r.statuses).toEqual([status]);
    expect(upgrades() - before).toBe(0);
  });

  it('a WebSocket upgrade pipelined behind a kept-alive answer starts after it', async () => {
    const before = upgrades();
    const r = await sendRaw(stack.proxy.port, `GET /api/block/1 HTTP/1.1\r\nHost: x\r\n\r\n${UPGRADE}`, 300);
    expect(r.statuses).toEqual([200, 101]);
    expect(upgrades() - before).toBe(1);
  });
});
