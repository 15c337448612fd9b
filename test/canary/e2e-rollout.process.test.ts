/**
 * End to end: a correct block-service goes legacy → shadow → canary 5% → 50%
 * → service through the gates, driven by the real CLI (`strangler flip`,
 * `strangler canary --steps`) against the real proxy with the shadow hook,
 * the guard, the Python monolith and a real SQLite store, while clients keep
 * calling. The audit log tells the whole story.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RolloutDriver, startRolloutDriver } from '../../control/canary.js';
import { type Guard, startGuard } from '../../control/guard.js';
import { parseConfig } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { type RunningApp, startBlockService, startMonolith } from '../../examples/run.js';
import { type ProxyServer, startProxy } from '../../proxy/server.js';
import { createShadowHook, type ShadowMirror } from '../../shadow/mirror.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { runCli } from '../helpers/tmp.js';

const MAX_REQUESTS = 30_000;

describe('a correct block-service rolls out through the gates', () => {
  let dir: string;
  let monolith: RunningApp;
  let service: RunningApp;
  let store: Store;
  let proxy: ProxyServer;
  let shadow: ShadowMirror;
  let guard: Guard;
  let rollouts: RolloutDriver;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'strangler-rollout-e2e-'));
    monolith = await startMonolith({ dbPath: path.join(dir, 'demo.db') });
    service = await startBlockService({ dbPath: monolith.dbPath });
    const raw = {
      store: `sqlite:${path.join(dir, 'state.db')}`,
      legacy: { url: monolith.url },
      services: { 'block-service': { url: service.url } },
      proxy: { statsFlushMs: 200, pollIntervalMs: 100 },
      routes: [
        {
          id: 'block',
          match: { path: '/api/block/*', methods: ['GET'] },
          service: 'block-service',
          mode: 'legacy',
          sticky: 'header:x-user-id',
          // generated_at differs on every answer: learn it as noise quickly.
          shadow: { noiseSampleRate: 0.5 },
          // Loopback latencies on a shared 2-core machine are noisy; the
          // ratio limit is generous so the test is about the flow, not timing.
          gate: { minCompared: 150, minMatchRate: 0.99, maxP99Ratio: 5, maxErrorRate: 0.01 },
          slo: { maxErrorRate: 0.05, maxP99Ms: 2000, window: '5s', minRequests: 20 },
        },
      ],
    };
    writeFileSync(path.join(dir, 'strangler.yaml'), JSON.stringify(raw)); // JSON is YAML
    const config = parseConfig(raw, path.join(dir, 'strangler.yaml'));
    store = await openStore(config.store);
    await store.routes.seed([{ id: 'block', mode: 'legacy', weight: 0 }], 'config');
    shadow = createShadowHook({ config, store });
    proxy = await startProxy({ config, store, shadow, listen: { host: '127.0.0.1', port: 0 } });
    guard = startGuard({ config, store, logger: createLogger('guard-e2e', 'silent') });
    // What the lease-holding `serve` runs beside the guard (control/leader.ts).
    rollouts = startRolloutDriver({ config, store, pollMs: 100 });
  });

  afterAll(async () => {
    rollouts?.stop();
    guard?.stop();
    await proxy?.close();
    await shadow?.close();
    await store?.close();
    await service?.stop();
    await monolith?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = (...argv: string[]) => runCli(dir, { STRANGLER_ACTOR: 'ops' }, argv);

  /** Clients calling until stop() (bounded by MAX_REQUESTS): 1000 users, 4 at a time. */
  function clients() {
    const statuses = new Map<number, number>();
    const served = { legacy: 0, service: 0 };
    let sent = 0;
    let stopped = false;
    const done = Promise.all(
      Array.from({ length: 4 }, async (_, c) => {
        while (!stopped && sent < MAX_REQUESTS) {
          const user = (sent++ * 13 + c) % 1000;
          const res = await fetch(`${proxy.url}/api/block/${(user % 50) + 1}`, {
            headers: { 'x-user-id': `u${user}` },
          });
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const t = res.headers.get('x-strangler-target') as 'legacy' | 'service';
          served[t]++;
        }
      }),
    );
    return {
      statuses,
      served,
      sent: () => sent,
      async stop() {
        stopped = true;
        await done;
      },
    };
  }

  it('shadow → canary 5% → 50% → service, each step through the gate, with no client errors', async () => {
    expect((await cli('flip', 'block', 'shadow', '--reason', 'collect evidence')).code).toBe(0);
    await proxy.reload();

    // Not enough evidence yet: the gate refuses, naming the count.
    const early = await cli('flip', 'block', 'canary', '--weight', '5', '--dry-run');
    expect(early.code).toBe(4);
    expect(early.out).toContain('FAIL minCompared: compared 0 shadow pairs, gate needs at least 150');

    const warmup = clients();
    for (let i = 0; i < 300 && (await store.shadow.evidence('block')).compared < 200; i++) {
      await shadow.flush();
      await new Promise((r) => setTimeout(r, 50));
    }
    await warmup.stop();
    await shadow.idle();
    await shadow.flush();

    const ready = await cli('flip', 'block', 'canary', '--weight', '5', '--dry-run');
    expect(ready.out, ready.out).toContain('gate: pass');
    expect(ready.code).toBe(0);

    const traffic = clients();
    const rollout = await cli(
      'canary',
      'block',
      '--steps',
      '5,50,100',
      '--interval',
      '1500ms',
      '--follow',
      '--poll',
      '100ms',
      '--reason',
      'roll out block',
    );
    await traffic.stop();
    console.log(
      `rollout e2e: warm-up ${warmup.sent()} requests; during the rollout ${traffic.sent()} requests, ` +
        `statuses ${JSON.stringify(Object.fromEntries(traffic.statuses))}, served ${JSON.stringify(traffic.served)}\n${rollout.out}`,
    );
    expect(rollout.code, rollout.out + rollout.err).toBe(0);
    expect(rollout.out).toContain('rollout done: service');
    expect([...warmup.statuses.keys(), ...traffic.statuses.keys()].every((s) => s === 200)).toBe(true);
    expect(traffic.served.service).toBeGreaterThan(0);
    expect(await store.routes.get('block')).toMatchObject({ mode: 'service', weight: 100 });

    const story = await store.audit.list({ route: 'block' });
    expect(
      story.map((e) => `${e.actor} ${e.action} ${e.after ? `${e.after.mode}/${e.after.weight}` : '-'}`),
    ).toEqual([
      'config seed legacy/0',
      'ops flip shadow/0',
      'ops canary.start -',
      'canary canary.step canary/5',
      'canary canary.step canary/50',
      'canary canary.step service/100',
      'canary canary.done -',
    ]);
    for (const step of story.filter((e) => e.action === 'canary.step'))
      expect(step.details).toMatchObject({ gate: { pass: true, evidence: { route: 'block' } } });
    const history = await cli('history', 'block');
    console.log(history.out);
    expect(history.code).toBe(0);
  });
});
