/**
 * Recording through the real shadow hook: off by default, sampled by
 * shadow.record.sampleRate, bounded by shadow.record.maxCases, and written
 * only after the comparison (the evidence counts the exchange either way).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import type { RouteState } from '../../core/types.js';
import { createShadowHook } from '../../shadow/mirror.js';
import type { StoredCase } from '../../shadow/recording-format.js';
import type { PrimaryExchange } from '../../shadow/types.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import type { Store } from '../../store/types.js';
import { tempDir } from '../helpers/tmp.js';

let server: http.Server;
let dir: { dir: string; cleanup(): void };
let store: Store;
const state: RouteState = {
  id: 'r',
  mode: 'shadow',
  weight: 0,
  version: 1,
  updatedAt: '',
  actor: 't',
  reason: '',
};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  dir = tempDir('strangler-recording-');
  store = openSqliteStore(path.join(dir.dir, 'state.db'));
});
afterAll(async () => {
  await store.close();
  await new Promise((r) => server.close(r));
  dir.cleanup();
});

async function shadowed(
  id: string,
  record: Record<string, unknown> | undefined,
  n: number,
  random?: () => number,
) {
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = parseConfig({
    legacy: { url: base },
    services: { s: { url: base } },
    routes: [
      {
        id,
        match: { path: '/x/*' },
        service: 's',
        shadow: { noiseSampleRate: 0, ...(record ? { record } : {}) },
      },
    ],
  });
  const route = config.routes[0];
  const hook = createShadowHook({ config, store, flushIntervalMs: 10, random });
  for (let i = 0; i < n; i++) {
    const ex: PrimaryExchange = {
      requestId: String(i),
      routeId: id,
      pattern: '/x/*',
      method: 'GET',
      url: `/x/${i}`,
      requestHeaders: { accept: 'application/json' },
      requestBody: null,
      target: 'legacy',
      status: 200,
      responseHeaders: { 'content-type': 'application/json' },
      responseBody: Buffer.from(JSON.stringify({ url: `/x/${i}` })),
      durationMs: 1,
    };
    hook.plan(route, { ...state, id }, { method: 'GET', headers: {} }, 'legacy');
    hook.afterPrimary(route, { ...state, id }, ex);
    await hook.idle();
  }
  await hook.close();
  return {
    evidence: await store.shadow.evidence(id),
    cases: (await store.recordings.list(id)).map((e) => e.value as StoredCase),
  };
}

describe('recording through the shadow hook', () => {
  it('is off by default: exchanges are compared, nothing is recorded', async () => {
    const { evidence, cases } = await shadowed('off', undefined, 3);
    expect(evidence.compared).toBe(3);
    expect(cases).toEqual([]);
  });

  it('keeps the newest maxCases, each a case of the compared exchange', async () => {
    const { evidence, cases } = await shadowed('capped', { enabled: true, maxCases: 2 }, 5);
    expect(evidence.compared).toBe(5);
    expect(cases.map((c) => c.request.url)).toEqual(['/x/3', '/x/4']);
    expect(cases[1]).toMatchObject({
      request: { method: 'GET', url: '/x/4', headers: { accept: 'application/json' } },
      legacy: {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: { text: '{"url":"/x/4"}' },
      },
      rules: { match: { path: '/x/*' }, idempotent: false, ignore: [] },
    });
  });

  it('a bad redaction path stops the hook at creation, naming the field (not every comparison later)', () => {
    const config = parseConfig({
      legacy: { url: 'http://127.0.0.1:1' },
      services: { s: { url: 'http://127.0.0.1:2' } },
      routes: [
        {
          id: 'bad',
          match: { path: '/x/*' },
          service: 's',
          shadow: { record: { enabled: true, redact: { json: ['$.['] } } },
        },
      ],
    });
    expect(() => createShadowHook({ config, store })).toThrow(
      /routes\[bad\]\.shadow\.record\.redact\.json\[0\]: bad JSON path/,
    );
  });

  it('samples by shadow.record.sampleRate', async () => {
    // Draws alternate: the comparison's own sampling (rate 1) always passes, the recording's (0.5) every other time.
    let k = 0;
    const { evidence, cases } = await shadowed('sampled', { enabled: true, sampleRate: 0.5 }, 4, () =>
      k++ % 2 ? 0.9 : 0.1,
    );
    expect(evidence.compared).toBe(4);
    expect(cases.length).toBeGreaterThan(0);
    expect(cases.length).toBeLessThan(4);
  });
});
