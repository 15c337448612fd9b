/**
 * During the SIGTERM drain every answer says `Connection: close`, and RFC 9112
 * §9.6 then forbids processing further requests received on that connection.
 * Before this, the real `serve` forwarded a second, pipelined POST to the
 * service during the drain and never answered it: the write ran, the client
 * saw only the first answer and the closed connection, and its retry would
 * write a second time. Now the service sees exactly the requests the client
 * got answers for.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeConfig } from '../helpers/tmp.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');
const tmp = tempDir('strangler-drain-pipelined-');
const written: string[] = [];
let service: http.Server;
let child: ChildProcess;
let proxyPort = 0;
let adminUrl = '';

beforeAll(async () => {
  service = http.createServer((req, res) => {
    // Readiness probes (GET) are not writes.
    if (req.method !== 'GET') written.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  service.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
  const sp = (service.address() as AddressInfo).port;
  const file = writeConfig(
    tmp.dir,
    `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:state.db
drain: { delay: 20s }
legacy: { url: http://127.0.0.1:1 }
services:
  block: { url: http://127.0.0.1:${sp} }
routes:
  - id: api
    match: { path: /api/block/*, methods: [POST] }
    service: block
    mode: service
`,
  );
  child = spawn(process.execPath, [BIN, 'serve', '--config', file], {
    cwd: tmp.dir,
    env: { ...process.env, STRANGLER_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (c) => (err += c));
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /proxy http:\/\/[^\s:]+:(\d+)\s+admin (http:\/\/\S+)/.exec(out);
      if (m) {
        proxyPort = Number(m[1]);
        adminUrl = m[2];
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}, 60_000);

afterAll(async () => {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
  await new Promise<void>((r) => {
    service.close(() => r());
    service.closeAllConnections();
  });
  tmp.cleanup();
});

/** Two POSTs pipelined on one connection; everything the proxy sent back until it closed. */
function pipelinedPosts(): Promise<string> {
  const post = (n: number) => `POST /api/block/${n} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello`;
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxyPort, '127.0.0.1');
    let data = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error(`connection not closed; got: ${data}`)));
    socket.on('data', (c) => (data += c));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
    socket.write(post(1) + post(2));
  });
}

describe('pipelined requests during the SIGTERM drain', () => {
  it('a request after an answer that said Connection: close is not forwarded', async () => {
    // serve's signal handlers are in place once it logged its start (a moment after the ready line).
    await new Promise((r) => setTimeout(r, 1000));
    child.kill('SIGTERM');
    // Draining once /readyz says so (the listener keeps serving for drain.delay).
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${adminUrl}/readyz`).catch(() => undefined);
      await res?.text();
      if (res?.status === 503) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const answer = await pipelinedPosts();
    const answers = answer.match(/HTTP\/1\.1 \d{3}/g) ?? [];
    expect(answers).toEqual(['HTTP/1.1 200']);
    expect(answer.toLowerCase()).toContain('connection: close');
    // Give a wrongly forwarded second POST time to arrive.
    await new Promise((r) => setTimeout(r, 500));
    expect(written).toEqual(['POST /api/block/1']);
  }, 60_000);
});
