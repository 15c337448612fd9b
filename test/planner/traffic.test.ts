/** Traffic per module read from a real SQLite store's stats windows, through the config's routes' module: names. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makePlan } from '../../planner/make-plan.js';
import { openStore } from '../../store/open.js';
import { BUCKET_COUNT } from '../../store/stats-window.js';

const GRAPH = path.resolve(import.meta.dirname, '../fixtures/planner/graphs/shop.json');
const tmp = mkdtempSync(path.join(tmpdir(), 'strangler-plan-traffic-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function writeConfig(name: string): string {
  const file = path.join(tmp, name);
  writeFileSync(
    file,
    [
      `store: sqlite:${name}.db`,
      'legacy: { url: "http://127.0.0.1:1" }',
      'services: { cart-service: { url: "http://127.0.0.1:2" } }',
      'routes:',
      '  - { id: cart, match: { path: /api/cart/* }, service: cart-service, module: shop.cart }',
      '  - { id: cart-items, match: { path: /api/items/* }, service: cart-service, module: cart }',
    ].join('\n'),
  );
  return file;
}

describe('traffic from the store', () => {
  it('says "no traffic data" when the store file does not exist, and creates none', async () => {
    const plan = await makePlan({ graph: GRAPH, config: writeConfig('empty.yaml') });
    expect(plan.notes.find((n) => n.startsWith('no traffic data'))).toMatch(/does not exist yet/);
    const cart = plan.modules.find((m) => m.name === 'shop.cart')!;
    expect(cart.routes).toEqual(['cart', 'cart-items']);
    expect(cart.traffic).toBeNull();
  });

  it('sums requests of every route naming the module', async () => {
    const config = writeConfig('busy.yaml');
    const store = await openStore(`sqlite:${path.join(tmp, 'busy.yaml.db')}`);
    const window = (route: string, requests: number) => ({
      route,
      target: 'legacy' as const,
      instance: 'test',
      start: Date.now() - 60_000,
      durationMs: 5000,
      requests,
      errors: 0,
      failovers: 0,
      buckets: new Array(BUCKET_COUNT).fill(0),
    });
    await store.stats.add([window('cart', 1200), window('cart-items', 300)]);
    await store.close();
    const plan = await makePlan({ graph: GRAPH, config });
    const cart = plan.modules.find((m) => m.name === 'shop.cart')!;
    expect(cart.traffic).toBe(1500);
    expect(cart.reasons.join('\n')).toMatch(/traffic: 1500 requests through its routes/);
    expect(cart.reasons.join('\n')).toMatch(
      /takes over routes: cart \(\/api\/cart\/\*\), cart-items \(\/api\/items\/\*\)/,
    );
    expect(plan.notes.some((n) => n.startsWith('no traffic data'))).toBe(false);
    // the capability carries it too, as a reason with its number
    const capability = plan.candidates.find((c) => c.name === 'shop.cart')!;
    expect(capability.traffic).toBe(1500);
    expect(capability.reasons).toContain('traffic: 1500 requests through its routes in the store (+2.00)');
    expect(capability.routes).toEqual(['/api/cart/*', '/api/items/*']);
  });
});
