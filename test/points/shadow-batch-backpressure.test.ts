/**
 * A shadow batch from an extraction point's client arrives all at once: it
 * waits for room under proxy.shadowMaxConcurrent rather than having every
 * call over the cap skipped (`concurrency-cap`), so a burst is compared, not
 * lost, and the client's sender is slowed instead.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { type ProxyServer, startProxy } from '../../proxy/server.js';
import { createShadowHook, type ShadowMirror } from '../../shadow/mirror.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('strangler-points-bp-');
let slow: http.Server;
let store: Store;
let shadow: ShadowMirror;
let proxy: ProxyServer;
let peak = 0;

beforeAll(async () => {
  let active = 0;
  slow = http.createServer((req, res) => {
    active++;
    peak = Math.max(peak, active);
    req.resume();
    setTimeout(() => {
      active--;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":1}');
    }, 40);
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  const config = parseConfig({
    store: `sqlite:${path.join(tmp.dir, 'state.db')}`,
    legacy: { url: 'http://127.0.0.1:9' },
    services: { svc: { url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}` } },
    proxy: { shadowMaxConcurrent: 2 },
    routes: [
      {
        id: 'p',
        kind: 'function',
        path: '/internal/p',
        service: 'svc',
        mode: 'shadow',
        idempotent: true,
        shadow: { noiseSampleRate: 0 },
      },
    ],
  });
  store = await openStore(config.store);
  await store.routes.seed([{ id: 'p', mode: 'shadow', weight: 0 }], 'config');
  const logger = createLogger('bp', 'silent');
  shadow = createShadowHook({ config, store, logger });
  proxy = await startProxy({
    config,
    store,
    logger,
    shadow,
    listen: { host: '127.0.0.1', port: 0 },
    pointsToken: 't',
  });
});

afterAll(async () => {
  await proxy?.close();
  await shadow?.close();
  await store?.close();
  slow?.closeAllConnections();
  await new Promise((r) => slow?.close(r));
  tmp.cleanup();
});

describe('shadow batch back-pressure', () => {
  it('compares a burst of 12 calls with the cap at 2: none skipped, never more than 2 copies at once', async () => {
    const calls = Array.from({ length: 12 }, () => ({
      call: '{"args":[1],"kwargs":{}}',
      result: '{"result":1}',
      ms: 0.1,
    }));
    const res = await fetch(`${proxy.url}/.strangler/points/p/shadow`, {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: JSON.stringify({ calls }),
    });
    expect(res.status).toBe(202);
    await shadow.idle();
    await shadow.flush();
    const ev = await store.shadow.evidence('p');
    expect(ev.compared).toBe(12);
    expect(ev.skipped).toEqual({});
    expect(peak).toBeLessThanOrEqual(2);
  });
});
