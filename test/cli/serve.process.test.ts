/**
 * `strangler serve` as a user runs it: the real bin in a child process, the
 * real Python monolith and block-service, a flip from the CLI in another
 * process, SIGTERM at the end.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startBlockService, startMonolith } from '../../examples/run.js';
import { demoConfigYaml, tempDir, writeConfig } from '../helpers/tmp.js';
import { BIN, type Served, startServe as startServeProcess } from '../helpers/bin.js';

const run = promisify(execFile);
const tmp = tempDir();
let legacy: RunningApp;
let service: RunningApp;
let serve: ChildProcess;
let proxyUrl: string;
let adminUrl: string;
let configFile: string;

function startServe(config: string): Promise<Served> {
  return startServeProcess(config, { STRANGLER_ADMIN_TOKEN: 'serve-test-admin-token' });
}

beforeAll(async () => {
  legacy = await startMonolith();
  service = await startBlockService({ dbPath: legacy.dbPath });
  configFile = writeConfig(
    tmp.dir,
    demoConfigYaml({ store: 'sqlite:state.db', legacy: legacy.url, service: service.url }),
  );
  const s = await startServe(configFile);
  serve = s.child;
  proxyUrl = s.proxy;
  adminUrl = s.admin;
});

afterAll(async () => {
  if (serve && serve.exitCode === null) serve.kill('SIGKILL');
  await service?.stop();
  await legacy?.stop();
  tmp.cleanup();
});

async function targetOf(pool: Pool, p: string): Promise<string> {
  const res = await pool.request({ method: 'GET', path: p });
  await res.body.text();
  expect(res.statusCode).toBe(200);
  return String(res.headers['x-strangler-target']);
}

describe('strangler serve', () => {
  it('routes by mode and applies a CLI flip from another process within one second', async () => {
    const pool = new Pool(proxyUrl, { connections: 4 });
    try {
      expect(await targetOf(pool, '/api/block/1')).toBe('legacy');
      expect(await targetOf(pool, '/api/users/1')).toBe('legacy');
      const { stdout } = await run(process.execPath, [
        BIN,
        'flip',
        'block',
        'service',
        '--force',
        '--reason',
        'e2e',
        '--config',
        configFile,
      ]);
      expect(stdout).toContain('-> service');
      const flippedAt = performance.now();
      let seenAfter = Number.POSITIVE_INFINITY;
      while (performance.now() - flippedAt < 3000) {
        if ((await targetOf(pool, '/api/block/1')) === 'service') {
          seenAfter = performance.now() - flippedAt;
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      console.log(`flip applied after ${seenAfter.toFixed(0)} ms`);
      expect(seenAfter).toBeLessThan(1000);
      // unmatched traffic still goes to legacy
      expect(await targetOf(pool, '/api/users/1')).toBe('legacy');
    } finally {
      await pool.close();
    }
  });

  it('exposes routes and Prometheus metrics on the admin API', async () => {
    const routes = (await (await fetch(`${adminUrl}/routes`)).json()) as {
      routes: Array<{ id: string; mode: string }>;
    };
    expect(routes.routes[0]).toMatchObject({ id: 'block', mode: 'service' });
    const metrics = await (await fetch(`${adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/strangler_requests_total\{[^}]*route="block"[^}]*target="service"/);
    expect(metrics).toContain('strangler_request_duration_seconds_bucket');
  });

  it('refuses to start on a bad config: exit 2, the field named, nothing listening', async () => {
    const bad = writeConfig(
      tmp.dir,
      demoConfigYaml({ store: 'sqlite:bad.db' }).replace('service: block-service', 'service: nope'),
      'bad.yaml',
    );
    const err = (await run(process.execPath, [BIN, 'serve', '--config', bad]).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    )) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('bad.yaml: routes[0].service: unknown service "nope"');
  });

  it('stops on SIGTERM with exit code 0', async () => {
    const exited = new Promise<number | null>((r) => serve.once('exit', (code) => r(code)));
    serve.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
