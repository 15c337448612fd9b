/**
 * A real `strangler serve` child with real traffic, for the tests that read
 * its /metrics: a shadowed route (legacy and service disagree on one field),
 * a service route whose service fails some requests (failover to legacy,
 * breaker), and unmatched requests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { tempDir, writeConfig } from '../helpers/tmp.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');

export interface LiveProxy {
  proxyUrl: string;
  adminUrl: string;
  configFile: string;
  scrape(): Promise<string>;
  close(): Promise<void>;
}

function upstream(side: 'legacy' | 'service', servers: http.Server[]): Promise<string> {
  const server = http.createServer((req, res) => {
    if (side === 'service' && req.url?.startsWith('/api/pay/fail')) {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('down');
      return;
    }
    const body = JSON.stringify({
      path: req.url,
      tier: side === 'service' ? 'silver' : 'gold',
      at: process.hrtime.bigint().toString(),
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

export async function startLiveProxy(): Promise<LiveProxy> {
  const tmp = tempDir('strangler-metrics-');
  const servers: http.Server[] = [];
  const legacy = await upstream('legacy', servers);
  const service = await upstream('service', servers);
  const configFile = writeConfig(
    tmp.dir,
    `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:state.db
legacy: { url: ${legacy} }
services:
  block-service: { url: ${service} }
routes:
  - id: block
    match: { path: /api/block/*, methods: [GET] }
    service: block-service
    mode: shadow
    shadow: { noiseSampleRate: 0.5 }
  - id: pay
    match: { path: /api/pay/*, methods: [GET] }
    service: block-service
    mode: service
`,
  );
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--config', configFile], {
    env: { ...process.env, STRANGLER_ADMIN_TOKEN: 'metrics-test-admin-token', STRANGLER_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { proxyUrl, adminUrl } = await new Promise<{ proxyUrl: string; adminUrl: string }>(
    (resolve, reject) => {
      let out = '';
      let err = '';
      child.stderr!.on('data', (c) => (err += c));
      child.stdout!.on('data', (c) => {
        out += c;
        const m = /proxy (http:\/\/\S+)\s+admin (http:\/\/\S+)/.exec(out);
        if (m) resolve({ proxyUrl: m[1], adminUrl: m[2] });
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    },
  );
  const get = async (p: string) => (await fetch(`${proxyUrl}${p}`)).arrayBuffer();
  for (let i = 0; i < 20; i++) {
    await get(`/api/block/${i}`);
    await get(`/api/pay/ok/${i}`);
    await get(`/elsewhere/${i}`);
  }
  for (let i = 0; i < 5; i++) await get(`/api/pay/fail/${i}`);
  // Shadow copies are compared after the primary answered: wait until the store has them.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const text = await (await fetch(`${adminUrl}/metrics`)).text();
    if (/strangler_shadow_compared_total\{route="block"\} [1-9]/.test(text)) break;
    if (Date.now() > deadline) throw new Error('no shadow comparisons reached the store');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    proxyUrl,
    adminUrl,
    configFile,
    scrape: async () => {
      const res = await fetch(`${adminUrl}/metrics`);
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
      return res.text();
    },
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      for (const s of servers) s.close();
      tmp.cleanup();
    },
  };
}
