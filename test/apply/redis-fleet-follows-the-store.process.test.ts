/**
 * Issue 29 on a fleet sharing Redis: an instance started with another file
 * (a widened match) serves the store's definitions like the others, and one
 * `strangler apply` reaches every instance without a restart.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { type StandIn, startStandIn } from '../helpers/stand-ins.js';
import { tempDir } from '../helpers/tmp.js';
import { cli, SERVE_ENV, type Served, startServe, until, whoServes } from './helpers.js';

let redis: RedisServer;
let legacy: StandIn;
let service: StandIn;
let tmp: ReturnType<typeof tempDir>;
const fleet: Served[] = [];
let narrow: string;
let wide: string;

const yaml = (store: string, pattern: string) => `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: ${store}
legacy: { url: ${legacy.url} }
services:
  changes-service: { url: ${service.url} }
proxy: { pollIntervalMs: 100 }
drain: { delay: 100ms, timeout: 1s }
routes:
  - id: changes
    match: { path: ${pattern} }
    service: changes-service
    mode: service
`;

describe.skipIf(!redisAvailable())('a Redis fleet serves the store definitions (issue 29)', () => {
  beforeAll(async () => {
    redis = await startRedis();
    legacy = await startStandIn('legacy');
    service = await startStandIn('changes-service');
    tmp = tempDir('strangler-fleet-');
    narrow = path.join(tmp.dir, 'narrow.yaml');
    wide = path.join(tmp.dir, 'wide.yaml');
    writeFileSync(narrow, yaml(redis.url(0), '/api/v2/changes/*'));
    writeFileSync(wide, yaml(redis.url(0), '/api/v2/*'));
    fleet.push(await startServe(narrow, SERVE_ENV));
    fleet.push(await startServe(wide, SERVE_ENV));
  });

  afterAll(async () => {
    for (const s of fleet) await s.stop();
    await legacy?.close();
    await service?.close();
    await redis?.close();
    tmp?.cleanup();
  });

  it('an instance started with a widened match serves the narrow stored one, and reports the drift', async () => {
    // On main: the second instance sent /api/v2/builders to the service.
    for (const s of fleet) expect((await whoServes(s.proxy, '/api/v2/builders')).by).toBe('legacy');
    const health = (await (await fetch(`${fleet[1].admin}/healthz`)).json()) as { config?: string };
    expect(health.config).toContain('config differs from the store (1 route)');
  });

  it('one forced apply reaches every instance, audited once', async () => {
    expect((await cli(wide, ['apply'])).code).toBe(4);
    const applied = await cli(wide, ['apply', '--force', '--reason', 'builders moved too', '--actor', 'ops']);
    expect(applied.code, applied.err).toBe(0);
    for (const s of fleet)
      await until(
        'the wide match',
        async () => (await whoServes(s.proxy, '/api/v2/builders')).by === 'changes-service',
        5000,
      );
    const rows = JSON.parse((await cli(wide, ['history', 'changes', '--json'])).out) as {
      action: string;
      actor: string;
    }[];
    expect(rows.filter((r) => r.action === 'apply').map((r) => r.actor)).toEqual(['ops']);
  });
});
