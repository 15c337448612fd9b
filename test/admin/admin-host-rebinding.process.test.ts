/**
 * DNS rebinding against a real `strangler serve` whose admin listener is on
 * loopback: a page on evil.example re-points its name at 127.0.0.1 and reads
 * the admin API as "same origin" (the browser sends `Host: evil.example:PORT`).
 * Every admin endpoint — not only the console's — must refuse a foreign Host:
 * /routes and /history hand out the route table and the audit log (actors,
 * reasons), /metrics the traffic. Loopback names keep working.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');
const TOKEN = 'rebind-test-admin-token';
const tmp = tempDir('strangler-rebind-');
let child: ChildProcess;
let port: number;

beforeAll(async () => {
  const configFile = writeConfig(tmp.dir, demoConfigYaml({ store: 'sqlite:state.db' }));
  child = spawn(process.execPath, [BIN, 'serve', '--config', configFile], {
    cwd: tmp.dir,
    env: { ...process.env, STRANGLER_ADMIN_TOKEN: TOKEN, STRANGLER_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  port = await new Promise<number>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (c) => (err += c));
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /admin http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  tmp.cleanup();
});

function ask(
  method: string,
  p: string,
  host: string,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host, authorization: `Bearer ${TOKEN}` };
    if (body) headers['content-type'] = 'application/json';
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('admin listener on loopback, asked under a foreign Host', () => {
  it('refuses every endpoint, naming the host field', async () => {
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.nip.io:${port}`]) {
      for (const p of ['/routes', '/history', '/metrics', '/healthz', '/console/session']) {
        const r = await ask('GET', p, host);
        expect(r.status, `${host} ${p}`).toBe(400);
        expect(JSON.parse(r.body).details.field, `${host} ${p}`).toBe('host');
        expect(r.body).not.toContain('block-service');
      }
    }
  });

  it('refuses a flip under a foreign Host even with the token, and changes nothing', async () => {
    const r = await ask(
      'POST',
      '/routes/block/flip',
      `evil.example:${port}`,
      JSON.stringify({ mode: 'shadow' }),
    );
    expect(r.status).toBe(400);
    const routes = await ask('GET', '/routes', `127.0.0.1:${port}`);
    const block = (
      JSON.parse(routes.body) as { routes: { id: string; mode: string; version: number }[] }
    ).routes.find((x) => x.id === 'block');
    expect(block?.mode).toBe('legacy');
  });

  it('answers under its loopback names', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`]) {
      expect((await ask('GET', '/routes', host)).status, host).toBe(200);
      expect((await ask('GET', '/history', host)).status, host).toBe(200);
    }
  });
});
