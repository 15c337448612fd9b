/**
 * Issue 26: "the breaker stayed half-open for 10+ minutes after the service
 * recovered because shadow mode sends it no live traffic (and breaker_state
 * said 1)". Now the shadow copies the service answers are the breaker's
 * probes: it closes once they succeed (and reopens if they fail).
 *
 * A real `strangler serve` child, a real service killed and restarted on the
 * same port, the real CLI flip, and the breaker read from a real /metrics scrape.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, type Served, startServe } from '../helpers/bin.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';

const POLL = { timeout: 15_000, interval: 100 };

function serveOn(port: number, from: string): Promise<http.Server> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, from }));
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

const close = (s: http.Server) =>
  new Promise<void>((r) => {
    s.close(() => r());
    s.closeAllConnections();
  });

describe('a half-open breaker in shadow mode (issue 26)', () => {
  const tmp = tempDir('strangler-half-open-');
  let legacy: http.Server;
  let service: http.Server;
  let servicePort: number;
  let served: Served;
  let config: string;

  beforeAll(async () => {
    legacy = await serveOn(0, 'legacy');
    service = await serveOn(0, 'service');
    servicePort = (service.address() as AddressInfo).port;
    config = writeConfig(
      tmp.dir,
      `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:state.db
legacy: { url: http://127.0.0.1:${(legacy.address() as AddressInfo).port} }
services:
  pay-service: { url: http://127.0.0.1:${servicePort} }
routes:
  - id: pay
    match: { path: /api/pay/*, methods: [GET] }
    service: pay-service
    mode: service
    failover: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 400, halfOpenMaxRequests: 2 }
    shadow: { ignore: ['$.from'] }
`,
    );
    served = await startServe(config, { STRANGLER_ADMIN_TOKEN: 'half-open-token-123' });
  });
  afterAll(async () => {
    await served?.stop();
    await close(legacy);
    await close(service);
    tmp.cleanup();
  });

  const breaker = async () => {
    const text = await (await fetch(`${served.admin}/metrics`)).text();
    return Number(/^strangler_breaker_state\{route="pay"\} (\d+)/m.exec(text)?.[1]);
  };
  const get = async (p: string) => {
    const res = await fetch(`${served.proxy}${p}`);
    await res.text();
    return res.status;
  };

  it('closes once the recovered service answers the shadow copies', async () => {
    for (let i = 0; i < 3; i++) expect(await get(`/api/pay/${i}`)).toBe(200);
    await close(service); // the outage
    for (let i = 0; i < 6; i++) expect(await get(`/api/pay/down/${i}`)).toBe(200); // legacy rescues them
    expect(await breaker()).toBe(2);
    // Back to shadow (the guard may have done it already: a flip to the same mode changes nothing).
    const flip = await runBin(['flip', 'pay', 'shadow', '--config', config, '--reason', 'outage'], {
      cwd: tmp.dir,
    });
    expect(flip.code, flip.err).toBe(0);
    service = await serveOn(servicePort, 'service'); // fixed, on the same port
    await expect.poll(breaker, POLL).toBe(1); // half-open after resetTimeoutMs
    // Shadow traffic only: legacy answers, the service gets copies.
    await expect
      .poll(async () => {
        await get(`/api/pay/shadowed/${Date.now()}`);
        return breaker();
      }, POLL)
      .toBe(0);
    const routes = (await (await fetch(`${served.admin}/routes`)).json()) as {
      routes: Array<{ id: string; extra: Record<string, string> }>;
    };
    expect(routes.routes.find((r) => r.id === 'pay')!.extra.breaker).toBe('closed');
  });
});
