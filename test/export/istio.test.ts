import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { run } from '../../cli/main.js';
import { uriMatch } from '../../control/export-istio.js';
import { loadConfig } from '../../core/config.js';
import { openStore } from '../../store/open.js';
import { captureIO, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir('strangler-export-');
const CONFIG = `store: sqlite:.strangler/state.db
legacy: { url: http://monolith.shop.svc:8000, timeoutMs: 3000 }
services:
  block-svc: { url: http://block.shop.svc:9000 }
  orders-svc: { url: http://orders.shop.svc }
routes:
  - id: block
    match: { path: /api/block/*, methods: [GET, POST] }
    service: block-svc
    mode: shadow
    shadow: { sampleRate: 0.25 }
    failover: { volumeThreshold: 10, errorThresholdPercentage: 50, resetTimeoutMs: 15000 }
  - id: orders
    match: { path: '/api/orders/:id', methods: [GET] }
    service: orders-svc
    mode: legacy
    idempotent: true
    sticky: header:x-user
    rateLimit: { service: 200/s, burst: 50, over: legacy }
  - id: health
    match: { path: /api/health }
    service: orders-svc
    mode: service
`;

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML is walked freely; each shape is asserted
type Obj = Record<string, any>;
let docs: Obj[] = [];
let text = '';

beforeAll(async () => {
  const file = writeConfig(tmp.dir, CONFIG);
  // The export must follow the store's modes, not the config's seeds: flip
  // orders to a 20% canary the config does not mention.
  const config = loadConfig(file);
  const store = await openStore(config.store);
  await store.routes.seed(
    config.routes.map((r) => ({ id: r.id, mode: r.mode, weight: r.mode === 'service' ? 100 : 0 })),
    'config',
  );
  await store.routes.flip({ route: 'orders', mode: 'canary', weight: 20, actor: 'test', reason: 'canary' });
  await store.close();

  const c = captureIO(tmp.dir);
  const code = await run(['export', 'istio', '--namespace', 'shop', '--out', 'mesh.yaml'], c.io);
  expect(c.err()).toContain('wrote');
  expect(code).toBe(0);
  text = readFileSync(path.join(tmp.dir, 'mesh.yaml'), 'utf8');
  if (process.env.SHOW) console.log(text);
  const parsed = parseAllDocuments(text);
  for (const d of parsed) expect(d.errors).toEqual([]);
  docs = parsed.map((d) => d.toJS() as Obj);
});
afterAll(() => tmp.cleanup());

describe('strangler export istio', () => {
  it('writes one VirtualService and a DestinationRule per upstream, in the namespace', () => {
    expect(docs.map((d) => d.kind)).toEqual([
      'VirtualService',
      'DestinationRule',
      'DestinationRule',
      'DestinationRule',
    ]);
    for (const d of docs) expect(d.metadata.namespace).toBe('shop');
    expect(docs[0].spec.hosts).toEqual(['monolith.shop.svc']);
    expect(docs.slice(1).map((d) => d.spec.host)).toEqual([
      'monolith.shop.svc',
      'block.shop.svc',
      'orders.shop.svc',
    ]);
  });

  it('weights a canary by the store weight, not the config mode', () => {
    const orders = docs[0].spec.http.find((h: Obj) => h.name === 'orders');
    expect(orders.route).toEqual([
      { destination: { host: 'monolith.shop.svc', port: { number: 8000 } }, weight: 80 },
      { destination: { host: 'orders.shop.svc', port: { number: 80 } }, weight: 20 },
    ]);
    expect(orders.match).toEqual([{ uri: { regex: '/api/orders/[^/]+' }, method: { exact: 'GET' } }]);
    // idempotent: resent on resets and 5xx too
    expect(orders.retries.retryOn).toBe('connect-failure,refused-stream,reset,5xx');
  });

  it('mirrors a shadow route with its sample rate as mirrorPercentage, serving from legacy', () => {
    const block = docs[0].spec.http.find((h: Obj) => h.name === 'block');
    expect(block.route).toEqual([
      { destination: { host: 'monolith.shop.svc', port: { number: 8000 } }, weight: 100 },
    ]);
    expect(block.mirror).toEqual({ host: 'block.shop.svc', port: { number: 9000 } });
    expect(block.mirrorPercentage).toEqual({ value: 25 });
    expect(block.match).toEqual([{ uri: { prefix: '/api/block/' }, method: { regex: '^(GET|POST)$' } }]);
    expect(block.timeout).toBe('3s'); // legacy serves it: legacy's timeout
    expect(block.retries.retryOn).toBe('connect-failure,refused-stream'); // not idempotent: never resent once sent
  });

  it('orders routes most specific first and ends with the legacy default', () => {
    const names = docs[0].spec.http.map((h: Obj) => h.name);
    expect(names).toEqual(['health', 'orders', 'block', 'default-legacy']);
    const health = docs[0].spec.http[0];
    expect(health.match).toEqual([{ uri: { exact: '/api/health' } }]);
    expect(health.route).toEqual([
      { destination: { host: 'orders.shop.svc', port: { number: 80 } }, weight: 100 },
    ]);
    expect(docs[0].spec.http[3].match).toBeUndefined();
  });

  it('derives outlierDetection from the failover config', () => {
    const dr = docs.find((d) => d.spec.host === 'block.shop.svc')!;
    expect(dr.spec.trafficPolicy.outlierDetection).toEqual({
      consecutive5xxErrors: 5,
      interval: '10s',
      baseEjectionTime: '15s',
      maxEjectionPercent: 100,
    });
  });

  it('lists what has no mesh equivalent as comments next to the route', () => {
    const lines = text.split('\n');
    const at = (needle: string) => lines.findIndex((l) => l.includes(needle));
    const blockNotes = lines.slice(at('route block: mode shadow'), at('name: block'));
    expect(blockNotes.join('\n')).toMatch(/# .*response diffing/);
    expect(blockNotes.join('\n')).toMatch(/# .*noise learning/);
    const ordersNotes = lines.slice(at('route orders: mode canary at 20%'), at('name: orders')).join('\n');
    expect(ordersNotes).toMatch(/# .*failover to legacy/);
    expect(ordersNotes).toMatch(/# .*sticky canary by header:x-user/);
    expect(ordersNotes).toMatch(
      /# not translated: rateLimit \(service 200\/s \+50, key route\) .*local_ratelimit/,
    );
    expect(ordersNotes).toMatch(/# no mesh equivalent: rateLimit over: legacy/);
    expect(blockNotes.join('\n')).not.toMatch(/rateLimit/);
  });
});

describe('uriMatch', () => {
  it('turns proxy path patterns into Istio string matches', () => {
    expect(uriMatch('/a/b')).toEqual({ exact: '/a/b' });
    expect(uriMatch('/a/*')).toEqual({ prefix: '/a/' });
    expect(uriMatch('/a/:id/items')).toEqual({ regex: '/a/[^/]+/items' });
    expect(uriMatch('/a/:id(^\\d+$)')).toEqual({ regex: '/a/(\\d+)' });
    expect(uriMatch('/v1.0/:id/*')).toEqual({ regex: '/v1\\.0/[^/]+/.*' });
  });
});
