/**
 * Issue 25 (case 2): arguments a Django app passes daily (`Decimal`, `date`,
 * tuples) travel in strangler's typed encoding and reach the service as
 * themselves; what has no JSON form raises `TypeError` naming the argument.
 * Before the fix a `Decimal` argument in `service` mode silently ran the
 * local function (counted `not-json-safe`, nothing raised or logged).
 * Real processes: a Python process importing the points shop (Debian's
 * Python), the extracted payments service, `strangler serve`.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Served } from '../helpers/bin.js';
import {
  type Child,
  ledger,
  runShopPython,
  servePayments,
  startPaymentsService,
} from '../helpers/points-shop.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('strangler-points-typed-');
const serviceLedger = path.join(tmp.dir, 'service-ledger');
const localLedger = path.join(tmp.dir, 'local-ledger');
let service: Child;
let serve: Served;

beforeAll(async () => {
  service = await startPaymentsService(serviceLedger, tmp.dir);
  serve = await servePayments(tmp.dir, service.url);
}, 30_000);

afterAll(async () => {
  await serve?.stop();
  await service?.stop();
  tmp.cleanup();
});

describe('arguments travel typed (issue 25, case 2)', () => {
  it('Decimal, date and a tuple reach the service as themselves; the answer comes back typed', async () => {
    const { out } = await runShopPython(
      tmp.dir,
      `
import datetime, decimal, json, uuid
import strangler_client
from shop import payments
assert strangler_client.default_client().wait_ready(5)
r = payments.charge(("order", 7), decimal.Decimal("12.30"), at=datetime.date(2026, 12, 7))
print(json.dumps([r["by"], repr(r["amount"]), repr(r["at"]), repr(r["order"])]))
`,
      [],
      { STRANGLER_URL: serve.proxy },
    );
    expect(JSON.parse(out)).toEqual([
      'service',
      "Decimal('12.30')",
      'datetime.date(2026, 12, 7)',
      "('order', 7)",
    ]);
    expect(ledger(serviceLedger).at(-1)).toBe("service ('order', 7) Decimal 12.30");
    expect(ledger(localLedger)).toEqual([]);
  }, 30_000);

  it('an argument with no JSON form raises TypeError naming it, and runs nowhere', async () => {
    const before = ledger(serviceLedger).length;
    const { out } = await runShopPython(
      tmp.dir,
      `
import json
import strangler_client
from shop import payments
assert strangler_client.default_client().wait_ready(5)
class Card(object): pass
try:
    payments.charge(8, Card())
    print(json.dumps("ran"))
except TypeError as exc:
    print(json.dumps(str(exc)))
`,
      [],
      { STRANGLER_URL: serve.proxy },
    );
    expect(JSON.parse(out)).toMatch(/payments-charge: argument 2 \(amount\): .*Card has no JSON form/);
    expect(ledger(serviceLedger).length).toBe(before);
    expect(ledger(localLedger)).toEqual([]);
  }, 30_000);
});
