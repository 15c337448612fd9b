/**
 * End to end: the real Python monolith as legacy, the block-service as the
 * service, the real proxy and the shadow hook, a real SQLite store and the CLI
 * report. With --differ the service answers `count` one higher and adds
 * `served_by`; `generated_at` (a microsecond timestamp) differs on every call
 * on both sides. The report must name the real fields, call the timestamp
 * noise, and keep it out of the match rate.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/main.js';
import type { ShadowReportData } from '../../reports/shadow/types.js';
import { parseConfig } from '../../core/config.js';
import { type RunningApp, startBlockService, startMonolith } from '../../examples/run.js';
import { type ProxyServer, startProxy } from '../../proxy/server.js';
import { createShadowHook, type ShadowMirror } from '../../shadow/mirror.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import type { Store } from '../../store/types.js';

const REQUESTS = 30;
let dir: string;
let monolith: RunningApp;
let differ: RunningApp;
let same: RunningApp;
let store: Store;
const proxies: ProxyServer[] = [];
const hooks: ShadowMirror[] = [];
let configFile: string;

function rawConfig() {
  const route = (id: string, service: string) => ({
    id,
    match: { path: '/api/block/:user', methods: ['GET'] },
    service,
    mode: 'shadow',
    shadow: { noiseSampleRate: 1, sampleRing: 10 },
  });
  return {
    store: `sqlite:${path.join(dir, 'state.db')}`,
    legacy: { url: monolith.url },
    services: { differ: { url: differ.url }, same: { url: same.url } },
    routes: [route('block-differ', 'differ'), route('block-same', 'same')],
  };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'strangler-shadow-e2e-'));
  monolith = await startMonolith();
  [differ, same] = await Promise.all([
    startBlockService({ dbPath: monolith.dbPath, differ: true }),
    startBlockService({ dbPath: monolith.dbPath }),
  ]);
  const raw = rawConfig();
  configFile = path.join(dir, 'strangler.yaml');
  writeFileSync(configFile, JSON.stringify(raw)); // JSON is YAML
  store = openSqliteStore(path.join(dir, 'state.db'));
  await store.routes.seed(
    raw.routes.map((r) => ({ id: r.id, mode: 'shadow' as const, weight: 0 })),
    'test',
  );
  // One proxy per route: both routes match the same path, each shadows to its own service.
  for (const r of raw.routes) {
    const config = parseConfig({ ...raw, routes: [r] });
    const shadow = createShadowHook({ config, store });
    hooks.push(shadow);
    proxies.push(await startProxy({ config, store, shadow, listen: { host: '127.0.0.1', port: 0 } }));
  }
});

afterAll(async () => {
  for (const p of proxies) await p.close();
  for (const h of hooks) await h.close();
  await store?.close();
  await Promise.all([differ?.stop(), same?.stop()]);
  await monolith?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function drive(proxy: ProxyServer): Promise<void> {
  for (let i = 0; i < REQUESTS; i++) {
    const res = await fetch(`${proxy.url}/api/block/${1 + (i % 3)}`);
    expect(res.status).toBe(200);
    // The client gets legacy's answer: no served_by, the real count.
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.served_by).toBeUndefined();
  }
}

describe('shadow against the demo monolith', () => {
  it('names the real fields, classifies the timestamp as noise, and keeps noise out of the match rate', async () => {
    await drive(proxies[0]);
    await drive(proxies[1]);
    for (const h of hooks) {
      await h.idle();
      await h.flush();
    }

    const raw = await store.shadow.evidence('block-differ');
    expect(raw.compared).toBe(REQUESTS);
    expect(raw.noisePairs).toBe(REQUESTS);
    expect(raw.fieldNoise).toEqual({ '$.generated_at': REQUESTS });

    let out = '';
    const io = {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (out += s) },
      env: {},
      cwd: dir,
    };
    expect(await run(['shadow', 'report', '--format', 'json', '--config', configFile], io)).toBe(0);
    const report = JSON.parse(out) as ShadowReportData;
    const [d, s] = report.routes;

    expect(d.route).toBe('block-differ');
    expect(d.differing.map((f) => f.field).sort()).toEqual(['$.count', '$.served_by']);
    const count = d.differing.find((f) => f.field === '$.count')!;
    expect(count.diffs).toBe(REQUESTS);
    expect(count.example?.kind).toBe('changed');
    expect(Number(count.example?.service)).toBe(Number(count.example?.legacy) + 1);
    expect(d.noise.map((f) => f.field)).toEqual(['$.generated_at']);
    expect(d.matchRate).toBe(0); // every answer has the wrong count
    expect(d.latency.legacy?.n).toBe(REQUESTS);
    expect(d.latency.service?.n).toBe(REQUESTS);

    // Same logic, no deliberate difference: only the timestamp differs, and that is noise.
    expect(s.route).toBe('block-same');
    expect(s.exactMatched).toBe(0);
    expect(s.matched).toBe(REQUESTS);
    expect(s.matchRate).toBe(1);
    expect(s.differing).toEqual([]);
    expect(s.noise.map((f) => f.field)).toEqual(['$.generated_at']);

    out = '';
    expect(await run(['shadow', 'report', 'block-differ', '--config', configFile], io)).toBe(0);
    expect(out).toContain('$.count');
    expect(out).toContain('noise fields');

    // reset clears the evidence and is audited
    out = '';
    expect(
      await run(
        ['shadow', 'reset', 'block-differ', '--config', configFile, '--reason', 'service redeployed'],
        io,
      ),
    ).toBe(0);
    expect((await store.shadow.evidence('block-differ')).compared).toBe(0);
    const audit = await store.audit.list({ route: 'block-differ', action: 'shadow.reset' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ reason: 'service redeployed', details: { compared: REQUESTS } });
    expect(await run(['shadow', 'reset', 'nope', '--config', configFile], io)).toBe(2);
    expect(out).toMatch(/STRANGLER_E_UNKNOWN_ROUTE/);
  });
});
