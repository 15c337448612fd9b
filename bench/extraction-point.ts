/**
 * What an extraction point costs the monolith's caller, per call, by mode:
 * a Python process (bench/extraction-point.py) times the same function plain
 * and decorated with strangler_client, call by call, interleaved, against a
 * real proxy (SQLite store, shadow hook) and the real block-service.
 *
 *   npm run build && node dist/bench/extraction-point.js [--calls 2000] [--rounds 10]
 *
 * legacy: the decorator reads a cached mode and calls the function — no
 * network call. shadow: the local result is returned at once; the arguments
 * and result are checked for JSON safety, serialised and queued on the
 * caller's thread, and sent by a background thread (so the caller also pays
 * for sharing the GIL with it). service: a round trip through the proxy to
 * block-service, for scale. The goal for legacy and shadow: ≤ 0.05 ms added
 * per call at p50. Printed: p50/p90/p99 per call plain vs decorated, the
 * added p50, and what the shadow copies became (compared, skipped).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseConfig } from '../core/config.js';
import { createLogger } from '../core/log.js';
import type { Mode } from '../core/types.js';
import { PYTHON, REPO_ROOT, seedDemoDb, startBlockService } from '../examples/run.js';
import { startProxy } from '../proxy/server.js';
import { createShadowHook } from '../shadow/mirror.js';
import { openStore } from '../store/open.js';

const run = promisify(execFile);
const TOKEN = 'bench-points-token';

interface Summary {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  n: number;
}
interface PyResult {
  mode: string;
  plain: Summary;
  point: Summary;
  timer: Summary;
  stats: Record<string, number>;
  error?: string;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const us = (ns: number) => (ns / 1000).toFixed(2).padStart(8);

async function main(): Promise<void> {
  const calls = arg('calls', 2000);
  const rounds = arg('rounds', 10);
  const dir = mkdtempSync(path.join(tmpdir(), 'strangler-bench-points-'));
  const dbPath = path.join(dir, 'demo.db');
  await seedDemoDb(dbPath);
  const service = await startBlockService({ dbPath });
  const config = parseConfig({
    store: `sqlite:${path.join(dir, 'state.db')}`,
    legacy: { url: 'http://127.0.0.1:9' },
    services: { 'block-service': { url: service.url } },
    proxy: { pollIntervalMs: 100 },
    routes: [
      {
        id: 'block-check',
        kind: 'function',
        path: '/internal/block-check',
        service: 'block-service',
        idempotent: true,
        shadow: { noiseSampleRate: 0 },
      },
    ],
  });
  const store = await openStore(config.store);
  await store.routes.seed([{ id: 'block-check', mode: 'legacy', weight: 0 }], 'config');
  const logger = createLogger('bench', 'silent');
  const shadow = createShadowHook({ config, store, logger });
  const proxy = await startProxy({
    config,
    store,
    logger,
    shadow,
    listen: { host: '127.0.0.1', port: 0 },
    pointsToken: TOKEN,
  });
  const results: PyResult[] = [];
  try {
    for (const mode of ['legacy', 'shadow', 'service'] as Mode[]) {
      const cur = (await store.routes.get('block-check'))!;
      if (cur.mode !== mode)
        await store.routes.flip({ route: 'block-check', mode, weight: 0, actor: 'bench', reason: 'bench' });
      await proxy.reload();
      await shadow.flush();
      await store.shadow.reset('block-check');
      const n = mode === 'service' ? Math.min(calls, 200) : calls;
      const { stdout } = await run(
        PYTHON,
        [
          path.join(REPO_ROOT, 'bench/extraction-point.py'),
          mode,
          String(n),
          String(mode === 'service' ? 2 : rounds),
        ],
        {
          env: { ...process.env, STRANGLER_URL: proxy.url, STRANGLER_POINTS_TOKEN: TOKEN },
          maxBuffer: 1 << 20,
        },
      );
      const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as PyResult;
      if (r.error) throw new Error(r.error);
      await shadow.idle();
      await shadow.flush();
      const ev = await store.shadow.evidence('block-check');
      if (mode === 'shadow')
        r.stats = { ...r.stats, compared: ev.compared, ...prefix('proxy-skipped-', ev.skipped) };
      results.push(r);
    }
  } finally {
    await proxy.close();
    await shadow.close();
    await store.close();
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  process.stdout.write(
    `extraction point per-call cost in the caller (Python ${PYTHON}), µs; ${calls} calls x ${rounds} rounds, plain and decorated interleaved\n`,
  );
  process.stdout.write(
    `(perf_counter_ns pair itself: p50 ${(results[0].timer.p50 / 1000).toFixed(2)} µs, included in both columns)\n\n`,
  );
  process.stdout.write(
    'mode      plain p50  point p50  point p90  point p99   added p50   goal (added p50 <= 50 µs)\n',
  );
  for (const r of results) {
    const added = r.point.p50 - r.plain.p50;
    const goal =
      r.mode === 'service' ? '(network round trip, for scale)' : added <= 50_000 ? 'met' : 'NOT met';
    process.stdout.write(
      `${r.mode.padEnd(8)} ${us(r.plain.p50)}   ${us(r.point.p50)}   ${us(r.point.p90)}   ${us(r.point.p99)}   ${us(added)}   ${goal}\n`,
    );
  }
  for (const r of results)
    if (Object.keys(r.stats).length) process.stdout.write(`${r.mode} counters: ${JSON.stringify(r.stats)}\n`);
}

function prefix(p: string, o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [p + k, v]));
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
