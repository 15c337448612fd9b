/**
 * Regression (issue 12): ~20,000 idle sockets from one client used up the
 * process's file descriptors, and proxy and admin API both went silent. The
 * real `strangler serve` runs here under `ulimit -n 256`: the data-plane cap
 * (3/4 of the fd limit by default) drops the excess at once, counts it, logs
 * one warning, and the admin API keeps answering.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';
import { type RawUpstream, startRawUpstream } from './raw-tcp.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');
const FD_LIMIT = 256;

describe('connection flood under a small fd limit', () => {
  const tmp = tempDir();
  let legacy: RawUpstream;
  let serve: ChildProcess;
  let proxyPort: number;
  let adminUrl: string;
  let stderr = '';
  const flood: Socket[] = [];

  beforeAll(async () => {
    legacy = await startRawUpstream();
    const config = writeConfig(tmp.dir, demoConfigYaml({ store: 'sqlite:state.db', legacy: legacy.url }));
    serve = spawn(
      'bash',
      ['-c', `ulimit -n ${FD_LIMIT} && exec "$0" "$@"`, process.execPath, BIN, 'serve', '--config', config],
      {
        env: {
          ...process.env,
          STRANGLER_ADMIN_TOKEN: 'conformance-admin-token',
          STRANGLER_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    serve.stderr!.on('data', (c) => {
      stderr += c;
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      serve.stdout!.on('data', (c) => {
        out += c;
        const m = /proxy http:\/\/127\.0\.0\.1:(\d+)\s+admin (http:\/\/\S+)/.exec(out);
        if (m) {
          proxyPort = Number(m[1]);
          adminUrl = m[2];
          resolve();
        }
      });
      serve.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    });
  });

  afterAll(async () => {
    for (const s of flood) s.destroy();
    if (serve && serve.exitCode === null) serve.kill('SIGKILL');
    await legacy?.close();
    tmp.cleanup();
  });

  it('drops what is over the cap, says so once, and the admin API stays reachable', async () => {
    for (let i = 0; i < FD_LIMIT + 44; i++) {
      const s = connect(proxyPort, '127.0.0.1');
      s.on('error', () => {});
      flood.push(s);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const health = await request(`${adminUrl}/healthz`, { headersTimeout: 5000, bodyTimeout: 5000 });
    await health.body.text();
    expect(health.statusCode).toBe(200);
    const metrics = await request(`${adminUrl}/metrics`, { headersTimeout: 5000, bodyTimeout: 5000 });
    const text = await metrics.body.text();
    expect(text).toMatch(/strangler_connections_max 192/);
    const dropped = Number(/strangler_connections_dropped_total (\d+)/.exec(text)?.[1]);
    expect(dropped).toBeGreaterThanOrEqual(FD_LIMIT + 44 - 192);
    expect(stderr.match(/connection cap reached/g)?.length).toBe(1);
  });
});
