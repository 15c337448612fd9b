/**
 * The extraction points' reserved prefix (`/.strangler/`) belongs to the
 * proxy, also on a WebSocket upgrade. Before this, the real `serve` tunnelled
 * `GET /.strangler/points/...` with `Upgrade: websocket` to legacy — the
 * points token (Authorization) included — because the upgrade path never
 * asked isPointsUrl(). Any spelling of the prefix must be refused at the edge.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeConfig } from '../helpers/tmp.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');
const tmp = tempDir('strangler-points-upgrade-');
const seen: string[] = [];
let legacy: http.Server;
let child: ChildProcess;
let proxyPort: number;

beforeAll(async () => {
  legacy = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
    req.resume();
    res.end('legacy');
  });
  legacy.on('upgrade', (req, socket) => {
    seen.push(`UPGRADE ${req.url} ${req.headers.authorization ?? '-'}`);
    socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  });
  await new Promise<void>((r) => legacy.listen(0, '127.0.0.1', r));
  const lp = (legacy.address() as AddressInfo).port;
  const file = writeConfig(
    tmp.dir,
    `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:state.db
legacy: { url: http://127.0.0.1:${lp} }
services:
  block: { url: http://127.0.0.1:1 }
routes:
  - id: check
    kind: function
    path: /internal/check
    service: block
    mode: service
`,
  );
  child = spawn(process.execPath, [BIN, 'serve', '--config', file], {
    cwd: tmp.dir,
    env: { ...process.env, STRANGLER_POINTS_TOKEN: 'SECRET', STRANGLER_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proxyPort = await new Promise<number>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (c) => (err += c));
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /proxy http:\/\/[^\s:]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}, 60_000);

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  await new Promise<void>((r) => legacy.close(() => r()));
  tmp.cleanup();
});

/** One raw request on its own connection; the answer's status line. */
function statusOf(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxyPort, '127.0.0.1');
    let data = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')));
    socket.on('data', (c) => {
      data += c;
      if (data.includes('\r\n')) {
        socket.destroy();
        resolve(data.slice(0, data.indexOf('\r\n')));
      }
    });
    socket.on('error', reject);
    socket.write(text);
  });
}

const upgradeTo = (target: string) =>
  `GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer SECRET\r\n\r\n';

describe('a WebSocket upgrade under /.strangler/', () => {
  it.each([
    '/.strangler/points/check',
    '//.strangler/points',
    '/%2estrangler/points',
    'http://x/.strangler/points/x',
  ])(
    '%s is refused and never reaches legacy',
    async (target) => {
      const status = await statusOf(upgradeTo(target));
      expect(status).toMatch(/^HTTP\/1\.1 4\d\d /);
      expect(seen).toEqual([]);
    },
    20_000,
  );

  it('an upgrade elsewhere still reaches legacy (the check is not a blanket refusal)', async () => {
    const status = await statusOf(upgradeTo('/chat'));
    expect(status).toBe('HTTP/1.1 101 Switching Protocols');
    expect(seen).toEqual(['UPGRADE /chat Bearer SECRET']);
  }, 20_000);
});
