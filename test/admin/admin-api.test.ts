import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedFromConfig } from '../../cli/context.js';
import { type AdminServer, startAdmin, tokenMatches } from '../../control/admin-api.js';
import { loadConfig } from '../../core/config.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir();
let store: Store;
let admin: AdminServer;
let noToken: AdminServer;
const TOKEN = 's3cret-token';

beforeAll(async () => {
  const config = loadConfig(writeConfig(tmp.dir, demoConfigYaml({ store: 'sqlite:state.db' })));
  store = await openStore(config.store);
  await seedFromConfig(store, config);
  admin = await startAdmin({
    config,
    store,
    token: TOKEN,
    host: '127.0.0.1',
    port: 0,
    metrics: async () => ({ body: 'strangler_requests_total 0\n', contentType: 'text/plain; version=0.0.4' }),
  });
  noToken = await startAdmin({ config, store, token: undefined, host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await admin?.close();
  await noToken?.close();
  await store?.close();
  tmp.cleanup();
});

const flip = (base: string, body: unknown, auth?: string) =>
  fetch(`${base}/routes/block/flip`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
    body: JSON.stringify(body),
  });

describe('admin API', () => {
  it('answers /healthz and /routes without auth, and GET changes nothing', async () => {
    const v0 = await store.routes.tableVersion();
    expect((await fetch(`${admin.url}/healthz`)).status).toBe(200);
    const res = await fetch(`${admin.url}/routes`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { routes: Array<{ id: string; mode: string }> };
    expect(body.routes).toMatchObject([{ id: 'block', mode: 'legacy' }]);
    expect(await store.routes.tableVersion()).toBe(v0);
  });

  it('refuses a flip without a token (401) and with a wrong one (401)', async () => {
    for (const auth of [undefined, 'Bearer wrong', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const res = await flip(admin.url, { mode: 'service' }, auth);
      expect(res.status, String(auth)).toBe(401);
      expect(((await res.json()) as { error: string }).error).toBe('STRANGLER_E_UNAUTHORIZED');
    }
    expect((await store.routes.get('block'))!.mode).toBe('legacy');
  });

  it('refuses every mutation when no token is configured (403)', async () => {
    const res = await flip(noToken.url, { mode: 'service' }, `Bearer ${TOKEN}`);
    expect(res.status).toBe(403);
    expect((await store.routes.get('block'))!.mode).toBe('legacy');
  });

  it('flips with the right token, audited with the admin actor', async () => {
    const res = await flip(
      admin.url,
      { mode: 'shadow', reason: 'api test', actor: 'ops', expectVersion: 1 },
      `Bearer ${TOKEN}`,
    );
    expect(res.status).toBe(201);
    const body = (await res.json()) as { after: { mode: string; version: number } };
    expect(body.after).toMatchObject({ mode: 'shadow', version: 2 });
    const last = (await store.audit.list({ route: 'block' })).at(-1)!;
    expect(last).toMatchObject({ action: 'flip', actor: 'admin:ops', reason: 'api test' });
  });

  it('answers 409 for a stale version and 400 naming the field for bad input', async () => {
    const stale = await flip(admin.url, { mode: 'legacy', expectVersion: 1 }, `Bearer ${TOKEN}`);
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { error: string }).error).toBe('STRANGLER_E_STALE_VERSION');
    const noMode = await flip(admin.url, { weight: 3 }, `Bearer ${TOKEN}`);
    expect(noMode.status).toBe(400);
    expect(((await noMode.json()) as { message: string }).message).toMatch(/^mode:/);
    const badWeight = await flip(admin.url, { mode: 'canary', weight: 'x' }, `Bearer ${TOKEN}`);
    expect(badWeight.status).toBe(400);
    expect(((await badWeight.json()) as { message: string }).message).toMatch(/^weight:/);
    const notJson = await fetch(`${admin.url}/routes/block/flip`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: '{nope',
    });
    expect(notJson.status).toBe(400);
    expect((await store.routes.get('block'))!).toMatchObject({ mode: 'shadow', version: 2 });
  });

  it('serves Prometheus text on /metrics and 404 JSON elsewhere', async () => {
    const m = await fetch(`${admin.url}/metrics`);
    expect(m.headers.get('content-type')).toContain('text/plain');
    expect(await m.text()).toContain('strangler_requests_total');
    const nf = await fetch(`${admin.url}/nope`);
    expect(nf.status).toBe(404);
  });

  it('compares tokens by value only', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abc', 'abd')).toBe(false);
    expect(tokenMatches('', 'abc')).toBe(false);
  });
});
