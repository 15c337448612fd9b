/**
 * A flip written by another store client while 1,000 keep-alive requests are
 * in flight: none of them fails, and new traffic reaches the service within
 * one second (the proxy polls the store every pollIntervalMs).
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { type Stack, startStack, startUpstream, type TestUpstream } from './helpers.js';

const IN_FLIGHT = 1000;

function slowUpstream(name: string): Promise<TestUpstream> {
  return startUpstream((req, res) => {
    req.resume();
    setTimeout(() => res.end(name), 300);
  });
}

describe('flip under load', () => {
  let legacy: TestUpstream;
  let service: TestUpstream;
  let stack: Stack;
  let writer: Store;

  beforeAll(async () => {
    legacy = await slowUpstream('legacy');
    service = await slowUpstream('service');
    stack = await startStack(
      {
        legacy: { url: legacy.url },
        services: { block: { url: service.url } },
        routes: [{ id: 'block', match: { path: '/api/block/*' }, service: 'block', mode: 'legacy' }],
      },
      { clientConnections: IN_FLIGHT },
    );
    // A second client of the same SQLite file, as the CLI in another process would be.
    writer = await openStore(`sqlite:${stack.storeFile}`);
  });

  afterAll(async () => {
    await writer?.close();
    await stack?.close();
    await legacy?.close();
    await service?.close();
  });

  async function get(): Promise<{ status: number; body: string; at: number }> {
    const r = await request(`${stack.proxy.url}/api/block/1`, { dispatcher: stack.agent });
    return { status: r.statusCode, body: await r.body.text(), at: Date.now() };
  }

  it(`${IN_FLIGHT} requests in flight across a flip: zero errors, service within 1 s`, async () => {
    const first = Array.from({ length: IN_FLIGHT }, () => get());
    await new Promise((r) => setTimeout(r, 50));
    await writer.routes.flip({
      route: 'block',
      mode: 'service',
      weight: 100,
      actor: 'test',
      reason: 'flip under load',
    });
    const flippedAt = Date.now();

    const later: Array<{ status: number; body: string; at: number }> = [];
    while (Date.now() - flippedAt < 1500) {
      later.push(...(await Promise.all(Array.from({ length: 20 }, () => get()))));
    }
    const inFlight = await Promise.all(first);

    expect(inFlight.filter((r) => r.status !== 200)).toEqual([]);
    expect(later.filter((r) => r.status !== 200)).toEqual([]);
    // In-flight requests were answered by whichever side their snapshot chose.
    for (const r of inFlight) expect(['legacy', 'service']).toContain(r.body);
    // Requests sent a second after the flip all reach the service.
    const settled = later.filter((r) => r.at - 300 >= flippedAt + 1000);
    expect(settled.length).toBeGreaterThan(0);
    expect(settled.every((r) => r.body === 'service')).toBe(true);
    expect(stack.proxy.routeTable().get('block')?.state.mode).toBe('service');
  });
});
