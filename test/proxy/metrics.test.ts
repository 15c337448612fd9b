import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack, startUpstream, type TestUpstream } from './helpers.js';

describe('Prometheus metrics', () => {
  let legacy: TestUpstream;
  let service: TestUpstream;
  let stack: Stack;

  beforeAll(async () => {
    legacy = await startUpstream((req, res) => {
      res.statusCode = req.url === '/missing' ? 404 : 200;
      res.end();
    });
    service = await startUpstream((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    stack = await startStack({
      legacy: { url: legacy.url },
      services: { block: { url: service.url } },
      routes: [
        {
          id: 'block',
          match: { path: '/block' },
          service: 'block',
          mode: 'service',
          failover: { enabled: false },
        },
      ],
    });
  });

  afterAll(async () => {
    await stack?.close();
    await legacy?.close();
    await service?.close();
  });

  it('counts requests and observes durations by route, target and outcome', async () => {
    await stack.get('/a');
    await stack.get('/b');
    await stack.get('/missing');
    expect((await stack.get('/block')).status).toBe(503);
    // Metrics are recorded when the response closes, just after the client has it.
    await new Promise((r) => setTimeout(r, 50));
    const text = await stack.proxy.metrics();
    expect(text).toContain('strangler_requests_total{route="(unmatched)",target="legacy",outcome="2xx"} 2');
    expect(text).toContain('strangler_requests_total{route="(unmatched)",target="legacy",outcome="4xx"} 1');
    expect(text).toContain('strangler_requests_total{route="block",target="service",outcome="5xx"} 1');
    expect(text).toMatch(
      /strangler_request_duration_seconds_count\{route="block",target="service",outcome="5xx"\} 1/,
    );
    expect(text).toMatch(
      /strangler_request_duration_seconds_bucket\{le="\+Inf",route="block",target="service",outcome="5xx"\} 1/,
    );
    expect(stack.proxy.metricsContentType).toMatch(/^text\/plain/);
  });

  it('keeps a registry per proxy (two proxies in one process do not share counters)', async () => {
    const other = await startStack({ legacy: { url: legacy.url } });
    try {
      await other.get('/x');
      await new Promise((r) => setTimeout(r, 50));
      expect(await other.proxy.metrics()).toContain(
        'strangler_requests_total{route="(unmatched)",target="legacy",outcome="2xx"} 1',
      );
    } finally {
      await other.close();
    }
  });
});
