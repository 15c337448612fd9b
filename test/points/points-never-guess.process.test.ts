/**
 * Issue 25 (cases 1 and 2): an extraction point never runs a non-idempotent
 * local body on a guess. Real processes only: the points shop's Django app
 * (Debian's Python, gunicorn with 3 workers), its extracted payments service,
 * `strangler serve` with `payments-charge` (not idempotent) and
 * `pricing-quote` (idempotent) in `service` mode.
 *
 * Before the fix a fresh process ran the local body until its first mode poll
 * answered (10 of 10 fresh processes charged locally), and a gunicorn started
 * before it could reach the proxy charged every order locally.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Served } from '../helpers/bin.js';
import {
  type Child,
  ledger,
  runShopPython,
  servePayments,
  startGunicorn,
  startPaymentsService,
} from '../helpers/points-shop.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('strangler-points-guess-');
const serviceLedger = path.join(tmp.dir, 'service-ledger');
const localLedger = path.join(tmp.dir, 'local-ledger');
let service: Child;
let serve: Served;
let gunicorn: Child | undefined;

beforeAll(async () => {
  service = await startPaymentsService(serviceLedger, tmp.dir);
  serve = await servePayments(tmp.dir, service.url);
}, 30_000);

afterAll(async () => {
  await gunicorn?.stop();
  await serve?.stop();
  await service?.stop();
  tmp.cleanup();
});

const FIRST_CHARGE = `
import json, sys
from shop import payments
r = payments.charge(int(sys.argv[1]), 1230)
print(json.dumps(r["by"]))
`;

describe('a new process never guesses a mode (issue 25, case 1)', () => {
  it('10 fresh processes: the first charge() in service mode goes to the service, none runs locally', async () => {
    const before = ledger(serviceLedger).length;
    const env = { STRANGLER_URL: serve.proxy, STRANGLER_MODES_CACHE: 'off' };
    const runs = await Promise.all(
      Array.from({ length: 10 }, (_, i) => runShopPython(tmp.dir, FIRST_CHARGE, [String(100 + i)], env)),
    );
    expect(runs.map((r) => JSON.parse(r.out))).toEqual(Array(10).fill('service'));
    expect(ledger(localLedger)).toEqual([]);
    expect(ledger(serviceLedger).length - before).toBe(10);
  }, 30_000);

  it('gunicorn started before the proxy is known: orders are refused, never charged locally, then served', async () => {
    const urlFile = path.join(tmp.dir, 'strangler-url');
    gunicorn = await startGunicorn(tmp.dir, { STRANGLER_URL_FILE: urlFile, STRANGLER_MODES_WAIT: '0.5' });
    const order = async (id: number) => {
      const res = await fetch(`${gunicorn!.url}/order/${id}`);
      return { status: res.status, body: (await res.json()) as { by?: string; error?: string } };
    };
    const refused = await Promise.all(Array.from({ length: 6 }, (_, i) => order(200 + i)));
    for (const r of refused) expect(r).toMatchObject({ status: 503, body: { error: 'ModesUnknown' } });
    expect(ledger(localLedger)).toEqual([]);

    writeFileSync(urlFile, serve.proxy);
    const until = Date.now() + 10_000;
    let served = 0;
    for (let id = 300; served < 9 && Date.now() < until; id++) {
      const r = await order(id);
      if (r.status === 200) {
        expect(r.body.by).toBe('service');
        served++;
      } else expect(r.body.error).toBe('ModesUnknown');
    }
    expect(served).toBe(9);
    expect(ledger(localLedger)).toEqual([]);
  }, 30_000);
});
