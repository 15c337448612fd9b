/**
 * Regression (issue 12): the noise sampler's second legacy call went to every
 * shadowed method, so a shadowed POST ran on legacy twice. Now only safe
 * methods and routes marked `idempotent` are asked twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import type { RouteState } from '../../core/types.js';
import { createShadowHook } from '../../shadow/mirror.js';
import type { PrimaryExchange } from '../../shadow/types.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import type { Store } from '../../store/types.js';

const calls: Record<'legacy' | 'service', string[]> = { legacy: [], service: [] };
const servers: http.Server[] = [];
let dir: string;
let store: Store;

function upstream(side: 'legacy' | 'service'): Promise<string> {
  const s = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls[side].push(`${req.method} ${req.url}`);
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
  });
  servers.push(s);
  return new Promise((r) =>
    s.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)),
  );
}

let legacyUrl: string;
let serviceUrl: string;
beforeAll(async () => {
  legacyUrl = await upstream('legacy');
  serviceUrl = await upstream('service');
  dir = mkdtempSync(path.join(os.tmpdir(), 'strangler-noise-'));
  store = openSqliteStore(path.join(dir, 'state.db'));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const state: RouteState = {
  id: 'r',
  mode: 'shadow',
  weight: 0,
  version: 1,
  updatedAt: '',
  actor: 't',
  reason: '',
};

function exchange(method: string, headers: Record<string, string> = {}): PrimaryExchange {
  return {
    requestId: 'x',
    routeId: 'r',
    pattern: '/api/r',
    method,
    url: '/api/r',
    requestHeaders: { host: 'proxy', 'content-type': 'application/json', ...headers },
    requestBody: Buffer.from('{"a":1}'),
    target: 'legacy',
    status: 200,
    responseHeaders: { 'content-type': 'application/json' },
    responseBody: Buffer.from('{"ok":true}'),
    durationMs: 1,
  };
}

async function shadowOnce(method: string, idempotent: boolean, headers: Record<string, string> = {}) {
  calls.legacy.length = 0;
  calls.service.length = 0;
  const cfg = parseConfig({
    legacy: { url: legacyUrl },
    services: { svc: { url: serviceUrl } },
    routes: [
      {
        id: 'r',
        match: { path: '/api/r' },
        service: 'svc',
        idempotent,
        shadow: { methods: ['GET', 'POST', 'PUT'], noiseSampleRate: 1 },
      },
    ],
  });
  const hook = createShadowHook({ config: cfg, store, random: () => 0 });
  hook.afterPrimary(cfg.routes[0], state, exchange(method, headers));
  await hook.close();
  return { legacy: calls.legacy.length, service: calls.service.length };
}

describe('the noise sampler never repeats a write on legacy', () => {
  it('a write listed in shadow.methods on a route not marked idempotent is not copied: it would run on both sides', async () => {
    expect(await shadowOnce('POST', false)).toEqual({ legacy: 0, service: 0 });
    expect(await shadowOnce('PUT', false)).toEqual({ legacy: 0, service: 0 });
  });

  it('with an Idempotency-Key a shadowed POST is copied to the service only; legacy is not asked again', async () => {
    expect(await shadowOnce('POST', false, { 'idempotency-key': 'k-1' })).toEqual({ legacy: 0, service: 1 });
  });

  it('a GET is asked twice (noise learning still works)', async () => {
    expect(await shadowOnce('GET', false)).toEqual({ legacy: 1, service: 1 });
  });

  it('a POST on a route marked idempotent may be asked twice', async () => {
    expect(await shadowOnce('POST', true)).toEqual({ legacy: 1, service: 1 });
  });
});
