/**
 * forward() resolves at the response head and holds whatever body arrives
 * until the pipeline has chosen the answer (failover may still discard it).
 * Bodies that arrive whole, in pieces, past the hold limit (the upstream is
 * paused, then resumed) or not at all must reach the client byte for byte;
 * a discarded body must not cost the pooled connection.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { parseConfig } from '../../core/config.js';
import { ClientSignal } from '../../proxy/client-signal.js';
import { createContext } from '../../proxy/context.js';
import { forward, pipeToClient } from '../../proxy/forward.js';
import { Upstream } from '../../proxy/upstreams.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack, startUpstream, type TestUpstream } from './helpers.js';

const BIG = randomBytes(3 * 1024 * 1024 + 17);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('response bodies held until the answer is chosen', () => {
  let service: TestUpstream;
  let legacy: TestUpstream;
  let stack: Stack;

  beforeAll(async () => {
    service = await startUpstream((req, res) => {
      if (req.url === '/big') {
        // Head and 3 MB in one go: far more than the hold limit arrives
        // before the pipeline attaches the client.
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG.length });
        res.end(BIG);
      } else if (req.url === '/chunked') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('one,');
        setTimeout(() => res.end('two'), 20);
      } else if (req.url === '/fail-big') {
        res.writeHead(500, { 'content-length': BIG.length });
        res.end(BIG);
      } else if (req.url === '/empty') {
        res.writeHead(204);
        res.end();
      } else {
        res.writeHead(200, { 'content-length': 2 });
        res.end('ok');
      }
    });
    legacy = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-length': 6 });
      res.end('legacy');
    });
    stack = await startStack({
      legacy: { url: legacy.url },
      services: { svc: { url: service.url } },
      routes: [{ id: 'r', match: { path: '/*' }, service: 'svc', mode: 'service' }],
    });
  });

  afterAll(async () => {
    await stack.close();
    await service.close();
    await legacy.close();
  });

  const fetchBytes = async (path: string, method: 'GET' | 'HEAD' = 'GET') => {
    const r = await request(`${stack.proxy.url}${path}`, { dispatcher: stack.agent, method });
    return { status: r.statusCode, headers: r.headers, body: Buffer.from(await r.body.arrayBuffer()) };
  };

  it('a body far over the hold limit, all there before the answer was chosen, arrives intact', async () => {
    const r = await fetchBytes('/big');
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(BIG.length));
    expect(r.body.length).toBe(BIG.length);
    expect(sha(r.body)).toBe(sha(BIG));
  });

  it('a chunked body still streaming after the head arrives whole', async () => {
    const r = await fetchBytes('/chunked');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('one,two');
  });

  it('HEAD and 204 answers carry no body', async () => {
    const head = await fetchBytes('/big', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(BIG.length));
    expect(head.body.length).toBe(0);
    const empty = await fetchBytes('/empty');
    expect(empty.status).toBe(204);
    expect(empty.body.length).toBe(0);
  });

  it('a discarded 5xx body (failover to legacy) is drained, and the service connection serves again', async () => {
    const r = await fetchBytes('/fail-big');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('legacy');
    expect(r.headers['x-strangler-failover']).toBe('status-5xx');
    const again = await fetchBytes('/small');
    expect(again.status).toBe(200);
    expect(again.body.toString()).toBe('ok');
    expect(again.headers['x-strangler-target']).toBe('service');
  });

  it('many concurrent big answers all arrive intact', async () => {
    const all = await Promise.all(Array.from({ length: 8 }, () => fetchBytes('/big')));
    for (const r of all) expect(sha(r.body)).toBe(sha(BIG));
  });
});

describe('a body held while the answer is being chosen', () => {
  let origin: TestUpstream;
  let upstream: Upstream;
  let front: Server;
  let url: string;

  beforeAll(async () => {
    origin = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-length': BIG.length });
      res.end(BIG);
    });
    const config = parseConfig({ store: 'sqlite::memory:', legacy: { url: origin.url } });
    upstream = new Upstream('legacy', config.legacy, config.proxy);
    // A front server that waits before attaching the client, as a slow
    // failover decision would: the upstream fills the hold limit and is paused.
    front = createServer(async (req, res) => {
      const ctx = createContext(req, res, new ClientSignal());
      const answer = await forward(ctx, upstream);
      await new Promise((r) => setTimeout(r, 150));
      if (!answer.ok) return void res.writeHead(502).end();
      pipeToClient(ctx, answer, {});
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((r) => front.close(() => r()));
    await upstream.close();
    await origin.close();
  });

  it('pauses the upstream at the hold limit and resumes it once the client is attached', async () => {
    const r = await request(`${url}/x`);
    const body = Buffer.from(await r.body.arrayBuffer());
    expect(r.statusCode).toBe(200);
    expect(body.length).toBe(BIG.length);
    expect(sha(body)).toBe(sha(BIG));
  });
});
