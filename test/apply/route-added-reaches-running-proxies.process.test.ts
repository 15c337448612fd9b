/**
 * Issue 29 case 5: a route added with `strangler seed` while `serve` ran
 * reached the running proxies only after a restart, and nothing said so.
 * A route added to the store — by `strangler apply` or by `strangler seed` —
 * now reaches every running proxy (and each `--workers` worker) through the
 * same watch path as a flip.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StandIn, startStandIn } from '../helpers/stand-ins.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';
import { cli, SERVE_ENV, type Served, startServe, startWorkers, until, whoServes } from './helpers.js';

let legacy: StandIn;
let service: StandIn;
let tmp: ReturnType<typeof tempDir>;
let config: string;
let single: Served;
let workers: Served;

const route = (id: string, mode: string) => `  - id: ${id}
    match: { path: /api/${id}/* }
    service: svc
    mode: ${mode}
`;

beforeAll(async () => {
  legacy = await startStandIn('legacy');
  service = await startStandIn('svc');
  tmp = tempDir('strangler-added-');
  config = writeConfig(
    tmp.dir,
    `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:state.db
legacy: { url: ${legacy.url} }
services:
  svc: { url: ${service.url} }
proxy: { pollIntervalMs: 100 }
drain: { delay: 100ms, timeout: 1s }
routes:
${route('block', 'service')}`,
  );
  single = await startServe(config, SERVE_ENV);
  workers = await startWorkers(config, 2);
});

afterAll(async () => {
  await single?.stop();
  await workers?.stop();
  await legacy.close();
  await service.close();
  tmp.cleanup();
});

/** Every worker behind a --workers listener answers: ask enough times to reach both. */
async function allServe(proxy: string, pathname: string, route: string): Promise<boolean> {
  for (let i = 0; i < 6; i++) if ((await whoServes(proxy, pathname)).route !== route) return false;
  return true;
}

describe('a route added to the store reaches running proxies without a restart (issue 29 case 5)', () => {
  it('added by apply (in legacy: moves no live traffic)', async () => {
    expect((await whoServes(single.proxy, '/api/notes/1')).route).toBe('(unmatched)');
    appendFileSync(config, route('notes', 'legacy'));
    const applied = await cli(config, ['apply']);
    expect(applied.code).toBe(0);
    expect(applied.out).toContain('+ notes (new): added in legacy');
    // On main there is no apply, and a proxy's routes were its file's, read once at start.
    await until('notes on the single proxy', () => allServe(single.proxy, '/api/notes/1', 'notes'), 5000);
    await until('notes on every worker', () => allServe(workers.proxy, '/api/notes/1', 'notes'), 5000);
  });

  it('added by strangler seed while serve runs', async () => {
    appendFileSync(config, route('orders', 'legacy'));
    const seeded = await cli(config, ['seed']);
    expect(seeded.code).toBe(0);
    await until('orders on the single proxy', () => allServe(single.proxy, '/api/orders/1', 'orders'), 5000);
    await until('orders on every worker', () => allServe(workers.proxy, '/api/orders/1', 'orders'), 5000);
  });

  it('seed never adds a route in a live mode, nor one whose service the store does not know: apply does', async () => {
    const before = readFileSync(config, 'utf8');
    appendFileSync(config, route('seeded-live', 'canary\n    weight: 100'));
    const refused = await cli(config, ['seed']);
    expect(refused.code).toBe(4);
    expect(refused.err).toContain('route "seeded-live" would be added in canary mode');
    expect((await whoServes(single.proxy, '/api/seeded-live/1')).by).toBe('legacy');
    writeFileSync(config, before);
    appendFileSync(config, route('other-svc', 'legacy').replace('service: svc', 'service: svc2'));
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace('services:\n', 'services:\n  svc2: { url: http://127.0.0.1:9 }\n'),
    );
    const unknown = await cli(config, ['seed']);
    expect(unknown.code).toBe(4);
    expect(unknown.err).toContain('names service "svc2", which the store has no upstream for');
    writeFileSync(config, before);
  });

  it('an added route in a live mode moves traffic: refused unless forced', async () => {
    appendFileSync(config, route('live', 'service'));
    const refused = await cli(config, ['apply']);
    expect(refused.code).toBe(4);
    expect(refused.err).toContain('route "live" (service) added');
    expect((await whoServes(single.proxy, '/api/live/1')).by).toBe('legacy');
  });
});
