/**
 * Regression: with `serve --workers N`, GET /metrics answered 500 after 5 s
 * ("Operation timed out" in prom-client's cluster aggregation). prom-client 15
 * installs a worker's IPC answer only when an AggregatorRegistry is
 * constructed in that worker; setRegistries() alone left the primary waiting
 * for answers that never came. Dashboards (strangler export grafana) and the
 * console's traffic figures read /metrics.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');
const tmp = tempDir();
let upstream: http.Server;
let serve: ChildProcess;
let proxyUrl: string;
let adminUrl: string;

beforeAll(async () => {
  upstream = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const config = writeConfig(
    tmp.dir,
    demoConfigYaml({ store: 'sqlite:state.db', legacy: url, service: url }),
  );
  serve = spawn(process.execPath, [BIN, 'serve', '--workers', '2', '--config', config], {
    env: { ...process.env, STRANGLER_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  ({ proxyUrl, adminUrl } = await new Promise<{ proxyUrl: string; adminUrl: string }>((resolve, reject) => {
    let out = '';
    let err = '';
    serve.stderr!.on('data', (c) => (err += c));
    serve.stdout!.on('data', (c) => {
      out += c;
      const m = /workers on (http:\/\/\S+)\s+admin (http:\/\/\S+)/.exec(out);
      if (m) resolve({ proxyUrl: m[1], adminUrl: m[2] });
    });
    serve.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  }));
});

afterAll(async () => {
  if (serve && serve.exitCode === null) {
    const exited = new Promise((r) => serve.once('exit', r));
    serve.kill('SIGTERM');
    await exited;
  }
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
  tmp.cleanup();
});

describe('serve --workers: /metrics', () => {
  it("answers the workers' counters summed, not a timeout", async () => {
    for (let i = 0; i < 20; i++)
      await (await fetch(`${proxyUrl}/api/block/${i}`, { headers: { connection: 'close' } })).arrayBuffer();
    const res = await fetch(`${adminUrl}/metrics`);
    const text = await res.text();
    expect(res.status, text.slice(0, 200)).toBe(200);
    const counts = [...text.matchAll(/^strangler_requests_total\{[^}]*route="block"[^}]*\} (\d+)$/gm)].map(
      (m) => Number(m[1]),
    );
    expect(counts.reduce((a, b) => a + b, 0)).toBe(20);
  });
});
