/**
 * A careless config: an extraction point's service path lies under an HTTP
 * route to the same service (point `write` at /api/block/write, route `api`
 * on /api/block/* → block-service). The listener then forwards a public
 * `POST /api/block/write` straight to the service's function — no points
 * token, and whatever the point's own mode (legacy: the monolith runs it, and
 * the service runs it too). `serve` (the real bin) must refuse such a config,
 * naming the point's path and the route that exposes it, and start nothing.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { compileRouteTable } from '../../proxy/route-table.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');
const tmp = tempDir('strangler-point-exposed-');
let service: http.Server;
let serviceUrl: string;
const seen: string[] = [];

beforeAll(async () => {
  service = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    res.end('{"result":1}');
  });
  await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
  serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => service.close(() => r()));
  tmp.cleanup();
});

const yaml = (pointPath: string, services = `block-service: { url: ${'SERVICE'} }`) => `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:state.db
legacy: { url: http://127.0.0.1:1 }
services:
  ${services}
routes:
  - id: api
    match: { path: /api/block/* }
    service: block-service
    mode: service
  - id: write
    kind: function
    path: ${pointPath}
    service: ${services.startsWith('block-service') ? 'block-service' : 'other'}
    mode: legacy
`;

describe("a point's service path under an HTTP route to the same service", () => {
  it('serve refuses the config, naming the path and the route, and never starts', async () => {
    const file = writeConfig(tmp.dir, yaml('/api/block/write').replace('SERVICE', serviceUrl));
    const err = await promisify(execFile)(process.execPath, [BIN, 'serve', '--config', file], {
      cwd: tmp.dir,
      env: { ...process.env, STRANGLER_POINTS_TOKEN: 't', STRANGLER_LOG_LEVEL: 'warn' },
      timeout: 30_000,
    }).then(
      () => undefined,
      (e: { code?: number; stderr?: string; killed?: boolean }) => e,
    );
    expect(err?.killed, 'serve kept running').toBeFalsy();
    expect(err?.code).toBe(2);
    expect(err?.stderr).toContain('STRANGLER_E_CONFIG');
    expect(err?.stderr).toContain('routes[1].path');
    expect(err?.stderr).toContain('api');
    expect(seen).toEqual([]);
  }, 40_000);

  it('also when another service name points at the same service URL', () => {
    const config = parseConfig({
      store: 'sqlite::memory:',
      legacy: { url: 'http://127.0.0.1:1' },
      services: { 'block-service': { url: `${serviceUrl}/` }, other: { url: serviceUrl } },
      routes: [
        { id: 'api', match: { path: '/api/block/*' }, service: 'block-service', mode: 'service' },
        { id: 'write', kind: 'function', path: '/api/block/write', service: 'other', mode: 'legacy' },
      ],
    });
    expect(() => compileRouteTable(config, [])).toThrow(/routes\[1\]\.path/);
  });

  it('accepts a point whose path no HTTP route to its service covers', () => {
    const config = parseConfig({
      store: 'sqlite::memory:',
      legacy: { url: 'http://127.0.0.1:1' },
      services: { 'block-service': { url: serviceUrl }, elsewhere: { url: 'http://127.0.0.1:2' } },
      routes: [
        { id: 'api', match: { path: '/api/block/*' }, service: 'elsewhere', mode: 'service' },
        { id: 'write', kind: 'function', path: '/api/block/write', service: 'block-service', mode: 'legacy' },
        { id: 'read', kind: 'function', path: '/internal/read', service: 'block-service', mode: 'legacy' },
      ],
    });
    expect(compileRouteTable(config, []).get('write')?.config.kind).toBe('function');
  });
});
