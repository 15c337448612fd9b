/**
 * Issue 25 case 7: stray bytes behind a complete request never replace its
 * answer. Before the fix, Node's parser refused the bytes and its default
 * clientError wrote a bare `400 Bad Request` over the pending answer (or cut
 * a streaming one short): the POST ran on the service, the client saw 400,
 * and its retry would run it twice. Now the real answer is delivered with
 * `Connection: close`, then the connection closes (as nginx does).
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack, startUpstream, type TestUpstream } from '../proxy/helpers.js';
import { sendRaw, sendRawSteps } from './raw-tcp.js';

/** How long the service takes to answer: the stray bytes arrive meanwhile. */
const ANSWER_AFTER_MS = 300;

describe('stray bytes behind a complete request', () => {
  let service: TestUpstream;
  let stack: Stack;

  beforeAll(async () => {
    service = await startUpstream((req, res: ServerResponse) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => {
        if (req.url === '/api/streamed') {
          // The head goes out at once (keep-alive), the body later.
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('part-');
          setTimeout(() => res.end(`got ${n}`), ANSWER_AFTER_MS);
          return;
        }
        setTimeout(() => res.end(`got ${n}`), ANSWER_AFTER_MS);
      });
    });
    stack = await startStack({
      legacy: { url: service.url },
      services: { block: { url: service.url } },
      routes: [{ id: 'api', match: { path: '/api/*' }, service: 'block', mode: 'service' }],
    });
  });

  afterAll(async () => {
    await stack?.close();
    await service?.close();
  });

  const post = (path: string, body: string) =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

  it('`\\r\\nX` 50 ms after a POST: the client gets the service answer, then the connection closes', async () => {
    const before = service.seen.length;
    const r = await sendRawSteps(stack.proxy.port, [post('/api/charge', 'hello'), 50, '\r\nX']);
    expect(r.statuses).toEqual([200]);
    expect(r.text.endsWith('got 5')).toBe(true);
    expect(r.headers.connection).toBe('close');
    expect(r.closed).toBe(true);
    expect(service.seen.length - before).toBe(1);
  });

  it('an upload with 13 KB more bytes than its Content-Length: the real answer, then close', async () => {
    const before = service.seen.length;
    const r = await sendRaw(stack.proxy.port, post('/api/upload', 'x'.repeat(20_000)) + 'y'.repeat(13_000));
    expect(r.statuses).toEqual([200]);
    expect(r.text.endsWith('got 20000')).toBe(true);
    expect(r.closed).toBe(true);
    expect(service.seen.length - before).toBe(1);
  });

  it('stray bytes while a keep-alive answer streams: the whole answer arrives, then close', async () => {
    const r = await sendRawSteps(stack.proxy.port, [post('/api/streamed', 'hi'), 100, '\r\nX'.repeat(100)]);
    expect(r.statuses).toEqual([200]);
    expect(r.text).toMatch(/\r\n\r\n5\r\npart-\r\n5\r\ngot 2\r\n0\r\n\r\n$/);
    expect(r.closed).toBe(true);
  });

  it('garbage with nothing in flight is still refused with 400 and closed', async () => {
    const r = await sendRaw(stack.proxy.port, 'XYZ\r\n\r\n');
    expect(r.statuses).toEqual([400]);
    expect(r.closed).toBe(true);
  });

  it('a broken chunk inside a body still in flight is refused (400), not answered as if whole', async () => {
    const r = await sendRawSteps(stack.proxy.port, [
      'POST /api/chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n',
      50,
      'zz\r\n',
    ]);
    expect(r.statuses).toEqual([400]);
    expect(r.closed).toBe(true);
  });
});
