/**
 * The issue-12 reproduction against the real demo apps: the Python monolith
 * (legacy, its own SQLite file) and the block-service (its own file), route
 * `block` in `service` mode. `POST //api/block/1` used to answer 201 from
 * legacy (`x-strangler-route: (unmatched)`) and write the block into the
 * legacy database — a write split across two databases.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { type RunningApp, seedDemoDb, startBlockService, startMonolith } from '../../examples/run.js';
import { type ProxyServer, startProxy } from '../../proxy/server.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { sendRaw } from './raw-tcp.js';

async function blockedBy(base: string, user: number): Promise<number[]> {
  const r = await request(`${base}/api/block/${user}`);
  return ((await r.body.json()) as { blocked: number[] }).blocked;
}

describe('demo: a migrated route owns every spelling of its path', () => {
  let dir: string;
  let monolith: RunningApp;
  let service: RunningApp;
  let store: Store;
  let proxy: ProxyServer;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'strangler-demo-edge-'));
    const legacyDb = path.join(dir, 'legacy.db');
    await seedDemoDb(legacyDb);
    // The service starts from a copy: two databases, as mid-migration.
    const serviceDb = path.join(dir, 'service.db');
    copyFileSync(legacyDb, serviceDb);
    monolith = await startMonolith({ dbPath: legacyDb });
    service = await startBlockService({ dbPath: serviceDb });
    const config = parseConfig({
      store: `sqlite:${path.join(dir, 'state.db')}`,
      legacy: { url: monolith.url },
      services: { 'block-service': { url: service.url } },
      routes: [
        {
          id: 'block',
          match: { path: '/api/block/*', methods: ['GET', 'POST', 'DELETE'] },
          service: 'block-service',
          mode: 'service',
          idempotent: true,
        },
      ],
    });
    store = await openStore(config.store);
    await store.routes.seed([{ id: 'block', mode: 'service', weight: 0 }], 'test');
    proxy = await startProxy({ config, store, listen: { host: '127.0.0.1', port: 0 } });
  });

  afterAll(async () => {
    await proxy?.close();
    await store?.close();
    await service?.stop();
    await monolith?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['//api/block/1', 1, 7],
    ['/./api/block/1', 1, 8],
    ['/other/../api/block/1', 1, 9],
    ['/api//block/%31', 1, 10],
  ])('POST %s writes to the service database only', async (target, user, blocked) => {
    const body = JSON.stringify({ target: blocked });
    const r = await sendRaw(
      proxy.port,
      `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      5000,
    );
    expect(r.statuses.at(-1)).toBe(201);
    expect(r.headers['x-strangler-route']).toBe('block');
    expect(r.headers['x-strangler-target']).toBe('service');
    expect(await blockedBy(service.url, user)).toContain(blocked);
    expect(await blockedBy(monolith.url, user)).not.toContain(blocked);
  });
});
