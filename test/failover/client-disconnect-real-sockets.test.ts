/**
 * Regression on real sockets: clients that give up on a slow service (their
 * aborted requests surface inside the proxy as aborts / premature closes) do
 * not open the breaker, and nothing is audited.
 */
import type { ServerResponse } from 'node:http';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonUpstream, type Stack, startStack, startUpstream, type TestUpstream } from '../proxy/helpers.js';

describe('client disconnects on real sockets', () => {
  let legacy: TestUpstream;
  let service: TestUpstream;
  let stack: Stack;
  const arrived = new Map<string, () => void>();
  let closed = 0;
  let reachedCount = 0;

  beforeAll(async () => {
    legacy = await startUpstream(jsonUpstream('legacy'));
    // Answers after 300 ms; every client below leaves once the service has
    // its request (so the attempt is surely inside the breaker).
    service = await startUpstream((req, res: ServerResponse) => {
      req.resume();
      reachedCount++;
      arrived.get(String(req.headers['x-request-id']))?.();
      const t = setTimeout(() => res.end('late'), 300);
      res.on('close', () => {
        clearTimeout(t);
        closed++;
      });
    });
    stack = await startStack({
      legacy: { url: legacy.url },
      services: { svc: { url: service.url } },
      routes: [
        {
          id: 'slow',
          match: { path: '/slow' },
          service: 'svc',
          mode: 'service',
          failover: { volumeThreshold: 5, errorThresholdPercentage: 10, timeoutMs: 5000 },
        },
      ],
    });
  });

  afterAll(async () => {
    await stack?.close();
    await legacy?.close();
    await service?.close();
  });

  it('30 aborted requests (GET and POST) leave the breaker closed', async () => {
    const aborted = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const ac = new AbortController();
        const id = `abort-${i}`;
        const reached = new Promise<void>((r) => arrived.set(id, r));
        const sent = request(`${stack.proxy.url}/slow`, {
          dispatcher: stack.agent,
          method: i % 2 ? 'POST' : 'GET',
          headers: { 'x-request-id': id },
          body: i % 2 ? 'payload' : undefined,
          signal: ac.signal,
        }).then(
          () => false,
          () => true,
        );
        // A request answered without reaching the service (a breaker opened
        // by the aborts before it) settles `sent` instead: fail fast, not hang.
        await Promise.race([reached, sent]);
        ac.abort();
        return sent;
      }),
    );
    expect(aborted.every(Boolean)).toBe(true);
    expect(reachedCount).toBe(30);
    // The proxy aborted every service request (the service saw each close): the breaker has seen them all.
    while (closed < reachedCount) await new Promise((r) => setTimeout(r, 10));
    expect(stack.proxy.routeExtras().slow.breaker).toBe('closed');
    expect(
      (await stack.store.audit.list({ route: 'slow' })).filter((e) => e.action.startsWith('breaker.')),
    ).toEqual([]);
    expect(legacy.seen).toEqual([]);
    // A request that waits is still served by the service.
    const ok = await request(`${stack.proxy.url}/slow`, { dispatcher: stack.agent });
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.text()).toBe('late');
  });
});
