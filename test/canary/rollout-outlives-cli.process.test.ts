/**
 * Regression for issue 13 item 6: `strangler canary --steps` ran the rollout
 * in the terminal's process, on unref'd timers, so the real process returned
 * after step 1 and the rollout stayed "running, step 1/3" forever. Now the
 * rollout is a record in the store driven by the `serve` holding the guard
 * lease. Real processes only: `strangler serve`, then `strangler canary
 * --steps --follow` from another process, which is SIGKILLed after the first
 * step; the rollout still finishes, driven by serve.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRollout } from '../../control/canary.js';
import { openStore } from '../../store/open.js';
import { shadowBatch } from '../control/fixtures.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');
const tmp = tempDir('strangler-rollout-');
const children: ChildProcess[] = [];
let upstream: http.Server;
let configFile: string;
const storeUrl = () => `sqlite:${path.join(tmp.dir, 'state.db')}`;

beforeAll(async () => {
  upstream = http.createServer((_req, res) => res.end('{"ok":true}'));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  configFile = writeConfig(
    tmp.dir,
    `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:state.db
legacy: { url: ${url} }
services:
  block-service: { url: ${url} }
proxy: { statsFlushMs: 300, pollIntervalMs: 100 }
routes:
  - id: block
    match: { path: /api/block/* }
    service: block-service
    mode: shadow
    # Same upstream on both sides: its latency on a loaded machine is noise,
    # and this test is about who drives the rollout, not about the gate.
    gate: { maxP99Ratio: 100, maxErrorRate: 0.5 }
    slo: { minRequests: 3, window: 10s, maxP99Ms: 10000, maxErrorRate: 0.5 }
`,
  );
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
  tmp.cleanup();
});

function spawnCli(argv: string[]): { child: ChildProcess; out: () => string; err: () => string } {
  const child = spawn(process.execPath, [BIN, ...argv, '--config', configFile], {
    env: { ...process.env, STRANGLER_LOG_LEVEL: 'info', STRANGLER_ACTOR: 'tester' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (err += c));
  return { child, out: () => out, err: () => err };
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms: number,
  context = () => '',
): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a canary rollout outlives the terminal that started it', () => {
  it('SIGKILL the `canary --follow` process after step 1: serve finishes the rollout', async () => {
    const serve = spawnCli(['serve']);
    const proxyUrl = await until(
      'serve to listen',
      () => /proxy (http:\/\/\S+)/.exec(serve.out())?.[1],
      30_000,
    );
    // Shadow evidence for the gate, as a shadowing proxy would have recorded it.
    const store = await openStore(storeUrl(), { create: false });
    try {
      await store.shadow.record('block', shadowBatch({ compared: 2000 }));
      // Service traffic for the SLO between steps.
      let sending = true;
      const traffic = (async () => {
        while (sending) {
          await fetch(`${proxyUrl}/api/block/1`)
            .then((r) => r.text())
            .catch(() => {});
          await new Promise((r) => setTimeout(r, 20));
        }
      })();

      const follow = spawnCli([
        'canary',
        'block',
        '--steps',
        '50,100',
        '--interval',
        '2s',
        '--follow',
        '--poll',
        '100ms',
      ]);
      await until(
        'step 1 in the follower output',
        () => follow.out().includes('step 1/2 → canary 50%'),
        30_000,
        () => `follower: ${follow.out()}${follow.err()}\nserve: ${serve.err().slice(-3000)}`,
      );
      // Before the fix the process had already exited 0 here.
      expect(follow.child.exitCode).toBeNull();
      follow.child.kill('SIGKILL');
      const killedAt = Date.now();

      const done = await until(
        'the rollout to end',
        async () => {
          const r = await readRollout(store, 'block');
          return r.status === 'running' ? undefined : r;
        },
        60_000,
        () => `serve: ${serve.err().slice(-3000)}`,
      );
      sending = false;
      await traffic;
      console.log(
        `rollout after SIGKILL of its CLI: ${done.status} ${Date.now() - killedAt} ms later; ${done.message}\n` +
          `follower output before the kill:\n${follow.out()}`,
      );
      expect(done.status).toBe('done');
      expect(await store.routes.get('block')).toMatchObject({
        mode: 'service',
        weight: 100,
        actor: 'canary',
      });
      const actions = (await store.audit.list({ route: 'block' })).map((e) => `${e.actor}:${e.action}`);
      expect(actions.slice(-4)).toEqual([
        'tester:canary.start',
        'canary:canary.step',
        'canary:canary.step',
        'canary:canary.done',
      ]);

      // --follow on a finished rollout: exit 0 for done.
      const again = spawnCli(['canary', 'block', '--follow']);
      const [code] = await new Promise<[number | null]>((r) => again.child.once('exit', (c) => r([c])));
      expect(again.out()).toContain('rollout done');
      expect(code).toBe(0);
    } finally {
      await store.close();
      serve.child.kill('SIGTERM');
    }
  }, 120_000);
});
