import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { type RunningApp, startBlockService, startMonolith } from '../../examples/run.js';
import { type ProxyServer, startProxy } from '../../proxy/server.js';
import type { LoadtestResult } from '../../control/loadtest-result.js';
import { seedFromConfig } from '../../cli/context.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { runCli, demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

// The real demo: the Python monolith, the block-service on its database, and
// the strangler proxy in front, all on loopback ports chosen by the OS.
const tmp = tempDir('strangler-loadtest-');
const storeUrl = `sqlite:${path.join(tmp.dir, 'state.db')}`;
let legacy: RunningApp | undefined;
let service: RunningApp | undefined;
let proxy: ProxyServer | undefined;
let proxyStore: Store | undefined;

beforeAll(async () => {
  legacy = await startMonolith();
  service = await startBlockService({ dbPath: legacy.dbPath });
  const raw = { legacy: legacy.url, service: service.url, store: storeUrl };
  proxyStore = await openStore(storeUrl);
  const { parse } = await import('yaml');
  const config = parseConfig(parse(demoConfigYaml(raw)), path.join(tmp.dir, 'proxy.yaml'));
  await seedFromConfig(proxyStore, config); // what `serve` does first
  proxy = await startProxy({ config, store: proxyStore, listen: { host: '127.0.0.1', port: 0 } });
  writeConfig(tmp.dir, demoConfigYaml({ ...raw, listen: `127.0.0.1:${proxy.port}` }));
});

afterAll(async () => {
  await proxy?.close();
  await proxyStore?.close();
  await service?.stop();
  await legacy?.stop();
  tmp.cleanup();
});

const cli = (...argv: string[]) => runCli(tmp.dir, {}, argv);

const isFigure = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;

describe('strangler loadtest block against the real demo', () => {
  let result: LoadtestResult;

  it('drives legacy, service and the proxy in turn and prints JSON with every figure present', async () => {
    const r = await cli('loadtest', 'block', '--duration', '2s', '--connections', '10', '--format', 'json');
    expect(r.err).not.toContain('STRANGLER_E');
    expect(r.code).toBe(0);
    result = JSON.parse(r.out);
    expect(result).toMatchObject({
      route: 'block',
      method: 'GET',
      path: '/api/block/1',
      connections: 10,
      durationS: 2,
    });
    expect(result.targets.map((t) => t.target)).toEqual(['legacy', 'service', 'proxy']);
    for (const t of result.targets) {
      expect(t.requests, t.target).toBeGreaterThan(0);
      expect(t.errors, t.target).toBe(0);
      expect(t.non2xx, t.target).toBe(0);
      expect(t.non2xxByStatus).toEqual({});
      for (const k of ['rps', 'bytesPerSec', 'durationS', 'timeouts'] as const)
        expect(isFigure(t[k]), `${t.target} ${k}`).toBe(true);
      for (const k of ['mean', 'p50', 'p90', 'p99', 'max'] as const)
        expect(isFigure(t.latencyMs[k]), `${t.target} latency ${k}`).toBe(true);
      expect(t.latencyMs.p50).toBeLessThanOrEqual(t.latencyMs.p99);
      expect(t.latencyMs.p99).toBeLessThanOrEqual(t.latencyMs.max);
      expect(t.rps).toBeGreaterThan(0);
      expect(t.bytesPerSec).toBeGreaterThan(0);
    }
    expect(result.targets[0].url).toBe(`${legacy!.url}/api/block/1`);
    expect(result.targets[1].url).toBe(`${service!.url}/api/block/1`);
    expect(result.targets[2].url).toBe(`http://127.0.0.1:${proxy!.port}/api/block/1`);
    // The route is in legacy mode, so "direct" for the proxy is legacy.
    expect(result.directTarget).toBe('legacy');
    expect(result.ratios.map((x) => `${x.of}/${x.over}`)).toEqual(['service/legacy', 'proxy/legacy']);
    const legacyT = result.targets[0];
    const serviceT = result.targets[1];
    // autocannon keeps latencies in whole milliseconds: a sub-millisecond p50 reads 0, and a ratio over 0 is
    // reported as null (no figure), never as Infinity. Every other ratio is a figure.
    const over = { 'service/legacy': legacyT, 'proxy/legacy': legacyT } as const;
    for (const x of result.ratios) {
      const base = over[`${x.of}/${x.over}` as keyof typeof over];
      expect(isFigure(x.rps)).toBe(true);
      for (const k of ['p50', 'p90', 'p99'] as const) {
        if (base.latencyMs[k] === 0) expect(x[k], `${x.of}/${x.over} ${k} over 0 ms`).toBeNull();
        else expect(isFigure(x[k]), `${x.of}/${x.over} ${k}`).toBe(true);
      }
    }
    expect(result.ratios[0].rps).toBeCloseTo(serviceT.rps / legacyT.rps, 2);
    // Not a TTY here: one plain line per target start and end, no escape codes.
    expect(r.err).toMatch(/loadtest block: legacy \(1\/3\) running for 2 s/);
    expect(r.err).toMatch(/loadtest block: proxy \(3\/3\) done: \d+ responses/);
    expect(r.err).not.toContain('\u001b[');
  });

  it('saved the run in the store, and `report loadtest` prints it as the side-by-side table', async () => {
    const store = await openStore(storeUrl);
    try {
      const saved = await store.results.latest('loadtest', 'block');
      expect(saved?.value).toEqual(result);
    } finally {
      await store.close();
    }
    const r = await cli('report', 'loadtest', 'block');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\s+legacy\s+service\s+proxy\s+service\/legacy\s+proxy\/legacy$/m);
    for (const row of ['requests/s', 'p50', 'p90', 'p99', 'max', 'errors', 'non-2xx', 'bytes/s'])
      expect(r.out).toMatch(new RegExp(`^${row.replace('/', '\\/')}\\s+\\S`, 'm'));
    expect(r.out).toContain(`${result.targets[0].requests}`);
  });

  it('--targets narrows the run; --method and --body are sent as given', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(tmp.dir, 'block-3.json'), '{"target": 3}');
    const r = await cli(
      'loadtest',
      'block',
      '--targets',
      'legacy',
      '--method',
      'post',
      '--body',
      'block-3.json',
      '--duration',
      '1s',
      '--connections',
      '2',
      '--format',
      'json',
    );
    expect(r.code).toBe(0);
    const one: LoadtestResult = JSON.parse(r.out);
    expect(one.targets.map((t) => t.target)).toEqual(['legacy']);
    expect(one).toMatchObject({ method: 'POST', path: '/api/block/1', bodyBytes: 13, ratios: [] });
    // A POST without its JSON body would be a 400: every answer 2xx means the body went out.
    expect(one.targets[0].requests).toBeGreaterThan(0);
    expect(one.targets[0].non2xx).toBe(0);
    const check = await fetch(`${legacy!.url}/api/block/1/3`).then((res) => res.json());
    expect(check).toMatchObject({ blocked: true });
  });

  it('--path is sent as given; non-2xx answers are counted by status and end the run with exit 1', async () => {
    const r = await cli(
      'loadtest',
      'block',
      '--targets',
      'service',
      '--path',
      '/api/block/999999',
      '--duration',
      '1s',
      '--connections',
      '2',
      '--format',
      'json',
    );
    expect(r.code).toBe(1);
    const one: LoadtestResult = JSON.parse(r.out);
    expect(one.targets[0].url).toBe(`${service!.url}/api/block/999999`);
    expect(one.targets[0].non2xx).toBeGreaterThan(0);
    expect(one.targets[0].non2xxByStatus).toEqual({ '404': one.targets[0].non2xx });
  });
});
