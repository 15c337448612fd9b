/**
 * A response is never begun by one target and completed by another: once the
 * service's head reached the client, a service dying mid-body truncates that
 * response (the client sees an error) and legacy is not asked.
 */
import type { ServerResponse } from 'node:http';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonUpstream, type Stack, startStack, startUpstream, type TestUpstream } from '../proxy/helpers.js';

describe('service dies mid-body', () => {
  let legacy: TestUpstream;
  let service: TestUpstream;
  let stack: Stack;

  beforeAll(async () => {
    legacy = await startUpstream(jsonUpstream('legacy'));
    service = await startUpstream((_req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
      res.write('x'.repeat(100));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    stack = await startStack({
      legacy: { url: legacy.url },
      services: { svc: { url: service.url } },
      routes: [
        { id: 'r', match: { path: '/r' }, service: 'svc', mode: 'service', failover: { volumeThreshold: 1 } },
      ],
    });
  });

  afterAll(async () => {
    await stack?.close();
    await legacy?.close();
    await service?.close();
  });

  it('the client gets a truncated service response, never legacy bytes after it', async () => {
    const r = await request(`${stack.proxy.url}/r`, { dispatcher: stack.agent });
    expect(r.statusCode).toBe(200);
    expect(r.headers['x-strangler-target']).toBe('service');
    expect(r.headers['x-strangler-failover']).toBeUndefined();
    const body = await r.body.text().then(
      (t) => ({ text: t, error: undefined as unknown }),
      (error: unknown) => ({ text: '', error }),
    );
    expect(body.error).toBeDefined();
    expect(body.text).not.toContain('legacy');
    expect(legacy.seen).toEqual([]);
  });
});
