/**
 * Issue 25 (case 3): a graceful stop of the proxy (SIGTERM) under extraction
 * point traffic leaves no order in doubt. Before the fix, 1 of 228 orders got
 * "connection reset; the service may have acted" and was in neither ledger:
 * the proxy closed a kept-alive connection as the client sent its next call
 * on it. Real processes: the points shop's Django app under gunicorn (3 sync
 * workers), the payments service, `strangler serve` stopped with SIGTERM.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Served } from '../helpers/bin.js';
import {
  type Child,
  ledger,
  servePayments,
  startGunicorn,
  startPaymentsService,
} from '../helpers/points-shop.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('strangler-points-stop-');
const serviceLedger = path.join(tmp.dir, 'service-ledger');
const localLedger = path.join(tmp.dir, 'local-ledger');
let service: Child;
let serve: Served;
let gunicorn: Child;

beforeAll(async () => {
  service = await startPaymentsService(serviceLedger, tmp.dir, ['--charge-ms', '15']);
  // A short drain delay: the race is at the close that follows it, whatever its length.
  serve = await servePayments(tmp.dir, service.url, 'drain: { delay: 300ms, timeout: 5s }\n');
  gunicorn = await startGunicorn(tmp.dir, { STRANGLER_URL: serve.proxy });
}, 30_000);

afterAll(async () => {
  await gunicorn?.stop();
  await serve?.stop();
  await service?.stop();
  tmp.cleanup();
});

interface Order {
  id: number;
  status: number;
  by?: string;
  error?: string;
  message?: string;
}

describe('a graceful proxy stop under point traffic (issue 25, case 3)', () => {
  it('every order is charged exactly once by the service, or refused with nothing run', async () => {
    const orders: Order[] = [];
    let next = 1;
    let stopped = false;
    let stoppedAt = 0;
    const client = async () => {
      while (!stopped || Date.now() - stoppedAt < 300) {
        const id = next++;
        const res = await fetch(`${gunicorn.url}/order/${id}`);
        orders.push({ id, status: res.status, ...((await res.json()) as object) });
      }
    };
    const traffic = Promise.all(Array.from({ length: 6 }, client));
    // Traffic running before the stop: the workers' connections to the proxy are warm.
    while (orders.filter((o) => o.by === 'service').length < 60) await new Promise((r) => setTimeout(r, 20));
    const code = await serve.stop();
    stopped = true;
    stoppedAt = Date.now();
    await traffic;

    expect(code).toBe(0);
    const charged = new Map<number, number>();
    for (const line of ledger(serviceLedger)) {
      const id = Number(line.split(' ')[1]);
      charged.set(id, (charged.get(id) ?? 0) + 1);
    }
    const inDoubt = orders.filter((o) => o.status !== 200 && o.error !== 'ProxyUnreachable');
    expect(inDoubt).toEqual([]);
    for (const o of orders) {
      if (o.status === 200) expect([o.id, o.by, charged.get(o.id)]).toEqual([o.id, 'service', 1]);
      else expect([o.id, charged.get(o.id)]).toEqual([o.id, undefined]);
    }
    expect(ledger(localLedger)).toEqual([]);
  }, 30_000);
});
