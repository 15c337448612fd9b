/**
 * Regression: a client that aborts must cancel its upstream request at once.
 * Measured before this proxy existed: http-proxy with a keep-alive agent on
 * Node 20 left 256 upstream sockets busy after aborted clients, until the pool
 * was exhausted and every later request hung.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack, startUpstream, type TestUpstream } from './helpers.js';

const CLIENTS = 400;
const POOL = 64;

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

describe('client abort cancels the upstream request', () => {
  let upstream: TestUpstream;
  let stack: Stack;

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      // /slow never answers on its own: only a cancelled request frees the socket.
      if (req.url === '/slow') return;
      res.end('prompt');
    });
    stack = await startStack({
      legacy: { url: upstream.url },
      proxy: { connectionsPerUpstream: POOL, requestTimeoutMs: 60_000 },
    });
  });

  afterAll(async () => {
    await stack?.close();
    await upstream?.close();
  });

  it(`${CLIENTS} clients abort mid-request; the pool recovers and the next request succeeds`, async () => {
    const clients: Socket[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const s = connect(stack.proxy.port, '127.0.0.1');
      s.on('error', () => {});
      s.write('GET /slow HTTP/1.1\r\nHost: t\r\n\r\n');
      clients.push(s);
    }
    // The pool is full: every upstream connection holds a /slow request.
    await waitFor(() => upstream.seen.filter((r) => r.url === '/slow').length >= POOL, 10_000);
    expect(upstream.openSockets()).toBe(POOL);

    for (const s of clients) s.destroy();

    // Cancelled requests close their upstream sockets (they cannot be reused
    // mid-request). Queued ones may be dispatched in the moment between two
    // client closes, but are cancelled as their own client's close arrives.
    await waitFor(() => upstream.openSockets() === 0, 10_000);
    expect(upstream.openSockets(), 'upstream sockets after the aborts').toBe(0);

    const r = await Promise.race([
      stack.get('/next'),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('request hung: pool exhausted')), 5_000),
      ),
    ]);
    expect(r.status).toBe(200);
    expect(r.body).toBe('prompt');
    // Nothing of the aborted requests is left holding an upstream socket:
    // at most the keep-alive one of the request above stays open.
    await waitFor(() => upstream.openSockets() <= 1, 10_000);
    expect(upstream.openSockets(), 'upstream sockets at the end').toBeLessThanOrEqual(1);

    const metrics = await stack.proxy.metrics();
    expect(metrics).toContain(
      `strangler_requests_total{route="(unmatched)",target="legacy",outcome="aborted"} ${CLIENTS}`,
    );
  });
});
