import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonUpstream, type Stack, startStack, startUpstream, type TestUpstream } from './helpers.js';

describe('routing by mode', () => {
  let legacy: TestUpstream;
  let service: TestUpstream;
  let stack: Stack;

  beforeAll(async () => {
    legacy = await startUpstream(jsonUpstream('legacy'));
    service = await startUpstream(jsonUpstream('service'));
    const route = (id: string, p: string, mode: string, weight = 0, methods?: string[]) => ({
      id,
      match: { path: p, ...(methods ? { methods } : {}) },
      service: 'block',
      mode,
      weight,
    });
    stack = await startStack({
      legacy: { url: legacy.url },
      services: { block: { url: service.url } },
      routes: [
        route('r-legacy', '/legacy/*', 'legacy'),
        route('r-service', '/svc/:id', 'service'),
        route('r-service-exact', '/svc/special', 'legacy'),
        route('r-shadow', '/shadow', 'shadow'),
        route('r-canary0', '/canary0', 'canary', 0),
        route('r-canary100', '/canary100', 'canary', 100),
        route('r-post-only', '/writes', 'service', 0, ['POST']),
      ],
    });
  });

  afterAll(async () => {
    await stack?.close();
    await legacy?.close();
    await service?.close();
  });

  const cases: Array<[string, string, 'legacy' | 'service', string]> = [
    ['legacy mode', '/legacy/a/b?x=1', 'legacy', 'r-legacy'],
    ['service mode', '/svc/42', 'service', 'r-service'],
    ['an exact path beats a :param', '/svc/special', 'legacy', 'r-service-exact'],
    ['shadow mode is served by legacy', '/shadow', 'legacy', 'r-shadow'],
    ['canary at weight 0', '/canary0', 'legacy', 'r-canary0'],
    ['canary at weight 100', '/canary100', 'service', 'r-canary100'],
    ['unmatched paths', '/nowhere/at/all', 'legacy', '(unmatched)'],
    ['a method the route does not list', '/writes', 'legacy', '(unmatched)'],
  ];

  for (const [name, url, target, route] of cases) {
    it(`${name}: ${url} → ${target}`, async () => {
      // Several requests: weights 0/100 must be deterministic, not lucky.
      for (let i = 0; i < 5; i++) {
        const r = await stack.get(url);
        expect(r.status).toBe(200);
        expect(JSON.parse(r.body)).toMatchObject({ from: target, url });
        expect(r.headers['x-strangler-target']).toBe(target);
        expect(r.headers['x-strangler-route']).toBe(route);
      }
    });
  }

  it('forwards a POST body to the route that lists POST', async () => {
    const { request } = await import('undici');
    const r = await request(`${stack.proxy.url}/writes`, {
      method: 'POST',
      body: 'hello',
      dispatcher: stack.agent,
    });
    expect(r.statusCode).toBe(200);
    expect(await r.body.json()).toMatchObject({ from: 'service', method: 'POST', body: 'hello' });
  });
});
