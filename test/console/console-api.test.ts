/**
 * The admin endpoints behind the console, on a real listener and a real
 * SQLite store: the /ui files with their security headers and nothing else
 * of the file system; shadow evidence with an example pair per differing
 * field; the rollout controls behind the token, with a dry run that changes
 * nothing; the session answer the console's read-only mode comes from.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedFromConfig } from '../../cli/context.js';
import { type AdminServer, startAdmin } from '../../control/admin-api.js';
import { startRollout } from '../../control/canary.js';
import { loadConfig } from '../../core/config.js';
import { openStore } from '../../store/open.js';
import { type ShadowSample, type Store, emptyShadowBatch } from '../../store/types.js';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir();
let store: Store;
let admin: AdminServer;
let noToken: AdminServer;
const TOKEN = 'console-api-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const YAML = demoConfigYaml({
  store: 'sqlite:state.db',
  extraRoute: `  - id: orders
    match: { path: /api/orders/* }
    service: block-service
    mode: shadow
`,
});

function sample(id: number, tier: [string, string]): ShadowSample {
  const body = (t: string) => JSON.stringify({ id, profile: { tier: t } });
  return {
    at: new Date().toISOString(),
    endpoint: '/api/block/*',
    primary: 'legacy',
    request: { method: 'GET', url: `/api/block/${id}`, headers: {} },
    legacy: { status: 200, headers: { 'content-type': 'application/json' }, body: body(tier[0]) },
    service: { status: 200, headers: { 'content-type': 'application/json' }, body: body(tier[1]) },
    differences: [
      { path: '$.profile.tier', kind: 'changed', legacy: `"${tier[0]}"`, service: `"${tier[1]}"` },
    ],
  };
}

beforeAll(async () => {
  const config = loadConfig(writeConfig(tmp.dir, YAML));
  store = await openStore(config.store);
  await seedFromConfig(store, config);
  await store.shadow.record('block', {
    ...emptyShadowBatch(),
    compared: 10,
    matched: 8,
    fieldDiffs: { '$.profile.tier': 2 },
    mismatchSets: { '$.profile.tier': 2 },
    latency: { legacy: [1, 2, 3], service: [2, 3, 4] },
    samples: [sample(1, ['gold', 'silver']), sample(2, ['gold', 'bronze'])],
  });
  const metrics = async () => ({
    body: [
      'strangler_requests_total{route="block",target="legacy",outcome="2xx"} 30',
      'strangler_requests_total{route="(unmatched)",target="legacy",outcome="2xx"} 10',
      'strangler_failovers_total{route="block",reason="status-5xx"} 2',
      'strangler_failovers_total{route="block",reason="breaker-open"} 1',
      '',
    ].join('\n'),
    contentType: 'text/plain; version=0.0.4',
  });
  admin = await startAdmin({ config, store, token: TOKEN, host: '127.0.0.1', port: 0, metrics });
  noToken = await startAdmin({
    config,
    store,
    token: undefined,
    host: '127.0.0.1',
    port: 0,
    metrics: async () => {
      throw new Error('Operation timed out.');
    },
  });
});
afterAll(async () => {
  await admin?.close();
  await noToken?.close();
  await store?.close();
  tmp.cleanup();
});

describe('console endpoints', () => {
  it('serves the console with a strict CSP, nosniff and no framing, and only its own files', async () => {
    for (const p of ['/ui', '/ui/', '/ui/app.js', '/ui/console.css']) {
      const res = await fetch(`${admin.url}${p}`);
      expect(res.status, p).toBe(200);
      expect(res.headers.get('content-security-policy'), p).toMatch(
        /default-src 'none'.*frame-ancestors 'none'/,
      );
      expect(res.headers.get('x-content-type-options'), p).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), p).toBe('DENY');
    }
    expect((await fetch(`${admin.url}/ui/app.js`)).headers.get('content-type')).toContain('text/javascript');
    for (const p of ['/ui/..%2Fpackage.json', '/ui/%2e%2e%2fpackage.json', '/ui/nope.js', '/ui/README.md']) {
      const res = await fetch(`${admin.url}${p}`);
      expect(res.status, p).toBe(404);
      expect(await res.text(), p).not.toContain('"name"');
    }
  });

  it('refuses a foreign Host on a loopback listener (DNS rebinding) and accepts loopback names', async () => {
    const port = new URL(admin.url).port;
    const ask = (host: string) =>
      new Promise<number>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/routes/block/shadow', headers: { host } }, (res) => {
            res.resume();
            resolve(res.statusCode!);
          })
          .on('error', reject);
      });
    expect(await ask(`evil.example:${port}`)).toBe(400);
    expect(await ask('evil.example')).toBe(400);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `127.0.0.2:${port}`])
      expect(await ask(host), host).toBe(200);
  });

  it('says whether changes are possible, and why not', async () => {
    const open = (await (await fetch(`${admin.url}/console/session`)).json()) as Record<string, unknown>;
    expect(open).toMatchObject({ mutations: true, authorized: null });
    const right = (await (await fetch(`${admin.url}/console/session`, { headers: auth })).json()) as Record<
      string,
      unknown
    >;
    expect(right.authorized).toBe(true);
    const wrong = (await (
      await fetch(`${admin.url}/console/session`, { headers: { authorization: 'Bearer no' } })
    ).json()) as Record<string, unknown>;
    expect(wrong.authorized).toBe(false);
    const ro = (await (await fetch(`${noToken.url}/console/session`)).json()) as {
      mutations: boolean;
      reason: string;
    };
    expect(ro.mutations).toBe(false);
    expect(ro.reason).toContain('STRANGLER_ADMIN_TOKEN');
  });

  it('answers shadow evidence with the newest example pair of each differing field', async () => {
    const body = (await (await fetch(`${admin.url}/routes/block/shadow`)).json()) as {
      report: { matchRate: number; differing: Array<{ field: string; diffs: number }> };
      examples: Record<
        string,
        { path: string; request: { url: string }; legacy: { body: string }; service: { body: string } }
      >;
    };
    expect(body.report.matchRate).toBe(0.8);
    expect(body.report.differing).toMatchObject([{ field: '$.profile.tier', diffs: 2 }]);
    const ex = body.examples['$.profile.tier'];
    expect(ex.request.url).toBe('/api/block/2');
    expect(JSON.parse(ex.legacy.body).profile.tier).toBe('gold');
    expect(JSON.parse(ex.service.body).profile.tier).toBe('bronze');
    expect((await fetch(`${admin.url}/routes/nope/shadow`)).status).toBe(404);
  });

  it('keeps the example of a rarely differing field after the sample ring has moved on', async () => {
    const rare: ShadowSample = {
      ...sample(99, ['gold', 'gold']),
      service: {
        status: 200,
        headers: {},
        body: JSON.stringify({ id: 99, profile: { tier: 'gold' }, legacyOnly: 1 }),
      },
      differences: [{ path: '$.legacyOnly', kind: 'added', service: '1' }],
      fields: ['$.legacyOnly'],
    };
    const flood = Array.from({ length: 60 }, (_, i) => ({
      ...sample(100 + i, ['gold', 'silver']),
      fields: ['$.profile.tier'],
    }));
    await store.shadow.record('orders', {
      ...emptyShadowBatch(),
      compared: 1,
      fieldDiffs: { '$.legacyOnly': 1 },
      samples: [rare],
    });
    await store.shadow.record('orders', {
      ...emptyShadowBatch(),
      compared: 60,
      fieldDiffs: { '$.profile.tier': 60 },
      samples: flood,
    });
    const body = (await (await fetch(`${admin.url}/routes/orders/shadow`)).json()) as {
      examples: Record<string, { request: { url: string } }>;
    };
    expect(body.examples['$.legacyOnly'].request.url).toBe('/api/block/99');
    expect(body.examples['$.profile.tier'].request.url).toBe('/api/block/159');
  });

  it('answers the match rate over time and the failovers by reason and unmatched share from /metrics', async () => {
    const series = (await (await fetch(`${admin.url}/routes/block/series`)).json()) as {
      shadow: Array<{ compared: number; matchRate: number; latency: { legacy: { p99: number } } }>;
    };
    expect(series.shadow.at(-1)).toMatchObject({ compared: 10, matchRate: 0.8 });
    const traffic = (await (await fetch(`${admin.url}/console/traffic`)).json()) as {
      requests: { unmatchedShare: number };
      failovers: Record<string, Record<string, number>>;
    };
    expect(traffic.requests.unmatchedShare).toBe(0.25);
    expect(traffic.failovers.block).toEqual({ 'status-5xx': 2, 'breaker-open': 1 });
    // A failing /metrics leaves the console working and says why its figures are missing.
    const down = await fetch(`${noToken.url}/console/traffic`);
    expect(down.status).toBe(200);
    expect(((await down.json()) as { unavailable: string }).unavailable).toBe(
      'metrics unavailable: Operation timed out.',
    );
  });

  it('controls a rollout only with the token; a dry run changes nothing', async () => {
    const url = `${admin.url}/routes/block/rollout/pause`;
    expect((await fetch(url, { method: 'POST' })).status).toBe(401);
    expect(
      (await fetch(`${noToken.url}/routes/block/rollout/pause`, { method: 'POST', headers: auth })).status,
    ).toBe(403);
    const none = await fetch(url, { method: 'POST', headers: auth, body: JSON.stringify({ dryRun: true }) });
    expect(none.status).toBe(409);
    expect(((await none.json()) as { error: string }).error).toBe('STRANGLER_E_ROLLOUT_STATE');

    const config = loadConfig(writeConfig(tmp.dir, YAML));
    await startRollout(store, config, { route: 'block', steps: [5, 50], intervalMs: 60_000, actor: 'test' });
    const before = (await store.audit.list({ route: 'block' })).length;
    const dry = await fetch(url, { method: 'POST', headers: auth, body: JSON.stringify({ dryRun: true }) });
    expect(dry.status).toBe(200);
    expect(((await dry.json()) as { effect: string }).effect).toContain('pause the rollout');
    expect((await store.audit.list({ route: 'block' })).length).toBe(before);

    const done = await fetch(url, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ reason: 'looking at errors' }),
    });
    expect(done.status).toBe(200);
    expect(((await done.json()) as { rollout: { status: string } }).rollout.status).toBe('paused');
    expect((await store.audit.list({ route: 'block' })).at(-1)).toMatchObject({
      action: 'canary.pause',
      actor: 'admin',
      reason: 'looking at errors',
    });
    expect(
      (await fetch(`${admin.url}/routes/block/rollout/explode`, { method: 'POST', headers: auth })).status,
    ).toBe(404);
  });
});
