/**
 * Issue 25 (case 3): an idempotent point falls back to its local function
 * whenever the service did not answer, whatever the size of the call. Before
 * the fix a 20 MB argument to an idempotent read raised ServiceMayHaveActed
 * ("not resent: the body was too large to keep"): the proxy applied the HTTP
 * rule (a body it did not keep cannot be resent to legacy), but a point's
 * legacy side is the caller's own function, which needs no body from the proxy.
 * Real processes: a Python process importing the points shop, the payments
 * service (slow on huge quotes), `strangler serve`.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Served } from '../helpers/bin.js';
import { type Child, runShopPython, servePayments, startPaymentsService } from '../helpers/points-shop.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('strangler-points-large-');
let service: Child;
let serve: Served;

beforeAll(async () => {
  service = await startPaymentsService(path.join(tmp.dir, 'service-ledger'), tmp.dir, [
    '--slow-quote-over',
    '1000000',
  ]);
  serve = await servePayments(tmp.dir, service.url);
}, 30_000);

afterAll(async () => {
  await serve?.stop();
  await service?.stop();
  tmp.cleanup();
});

describe('an idempotent point falls back whenever it may (issue 25, case 3)', () => {
  it('a 20 MB argument the service does not answer in time runs the local function, not ServiceMayHaveActed', async () => {
    const { out } = await runShopPython(
      tmp.dir,
      `
import json
import strangler_client
from shop import payments
client = strangler_client.default_client()
assert client.wait_ready(5)
small = payments.quote("a", "x" * 10)
try:
    big = payments.quote("b", "x" * 20000000)["by"]
except strangler_client.PointCallError as exc:
    big = "%s: %s" % (type(exc).__name__, exc)
print(json.dumps([small["by"], big, client.stats()["pricing-quote"]]))
`,
      [],
      { STRANGLER_URL: serve.proxy },
    );
    const [small, big, stats] = JSON.parse(out) as [string, string, Record<string, number>];
    expect(small).toBe('service');
    expect(big).toBe('local');
    expect(stats).toEqual({ service: 1, 'fallback-timeout': 1 });
  }, 30_000);
});
