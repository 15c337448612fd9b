/**
 * `serve --workers 2` with the SQLite store: the machine has one limit, not
 * one per worker (the primary keeps the windows; workers ask it over IPC).
 * The real bin; a fresh connection per request so the primary's round-robin
 * spreads requests over both workers. The primary's /readyz turns 200 once
 * both workers reported ready.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { type StandIn, startStandIn } from '../helpers/stand-ins.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');
const tmp = tempDir('strangler-rl-workers-');

describe('rate limit with serve --workers 2 (SQLite)', () => {
  let legacy: StandIn | undefined;
  let child: ChildProcess | undefined;

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await legacy?.close();
    tmp.cleanup();
  });

  it('holds one limit for the machine', async () => {
    legacy = await startStandIn('legacy');
    const config = writeConfig(
      tmp.dir,
      `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:state.db
legacy: { url: ${legacy.url} }
services:
  svc: { url: ${legacy.url} }
routes:
  - id: old
    match: { path: /old/* }
    service: svc
    mode: legacy
    rateLimit: { legacy: 20/m }
`,
    );
    child = spawn(process.execPath, [BIN, 'serve', '--workers', '2', '--config', config], {
      env: { ...process.env, STRANGLER_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { url, admin } = await new Promise<{ url: string; admin: string }>((resolve, reject) => {
      let out = '';
      let err = '';
      child!.stderr!.on('data', (c) => (err += c));
      child!.stdout!.on('data', (c) => {
        out += c;
        const m = /2 workers on (http:\/\/\S+)\s+admin (http:\/\/\S+)/.exec(out);
        if (m) resolve({ url: m[1], admin: m[2] });
      });
      child!.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    const t0 = Date.now();
    while ((await fetch(`${admin}/readyz`)).status !== 200 && Date.now() - t0 < 10_000)
      await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${admin}/readyz`)).status).toBe(200);

    const agent = new Agent({ pipelining: 0 });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await request(`${url}/old/${i}`, { dispatcher: agent, reset: true });
      await res.body.dump();
      statuses.push(res.statusCode);
    }
    await agent.close();
    const ok = statuses.filter((s) => s === 200).length;
    console.log(
      `--workers 2, legacy 20/m: ${ok} of 40 let through, ${statuses.filter((s) => s === 429).length} refused`,
    );
    expect(ok).toBe(20);
    expect(statuses.filter((s) => s === 429).length).toBe(20);
    expect(legacy.hits()).toBe(20 + 2); // + one readiness probe per worker
  }, 60_000);
});
