/**
 * Shadow overhead on the primary: autocannon drives a shadow-mode route
 * through the proxy with shadow off, then with every request shadowed and
 * diffed (sampleRate 1, noise on 10%), in the same run. Prints the primary's
 * throughput and p99 for both, the on/off ratio, the proxy's peak RSS, and the
 * shadow evidence counts (compared vs skipped) that prove the copies ran.
 *
 *   npm run build && node dist/bench/shadow.js [--duration 10] [--connections 32]
 *
 * Three processes so that nothing measured shares an event loop with the load
 * generator: upstreams (legacy + service) in one child, the proxy (and its
 * shadow hook and SQLite store) in another, autocannon here.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { parseConfig } from '../core/config.js';
import { startProxy } from '../proxy/server.js';
import { createShadowHook } from '../shadow/mirror.js';
import { openSqliteStore } from '../store/sqlite/index.js';

interface Args {
  durationS: number;
  connections: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { durationS: 10, connections: 32 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--duration' || a === '--connections') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n <= 0)
        throw new Error(`${a}: expected a positive integer, got "${argv[i]}"`);
      if (a === '--duration') args.durationS = n;
      else args.connections = n;
    } else throw new Error(`unknown argument "${a}" (expected --duration N, --connections N)`);
  }
  return args;
}

// A realistic small JSON answer (~1.5 KB): a list, a timestamp that differs per call, and `side`
// so every comparison finds a difference to record (the worst case: every request is a mismatch sample).
function answer(side: string): string {
  return JSON.stringify({
    side,
    generated_at: new Date().toISOString(),
    items: Array.from({ length: 20 }, (_, i) => ({
      id: i,
      name: `user ${i}`,
      tags: ['a', 'b'],
      score: i * 1.5,
    })),
  });
}

/** Child role: legacy and service upstreams; prints their URLs as one JSON line. */
async function runUpstreams(): Promise<void> {
  const make = (side: string) =>
    http.createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(answer(side));
    });
  const urls: Record<string, string> = {};
  for (const side of ['legacy', 'service']) {
    const s = make(side);
    s.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    urls[side] = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }
  process.stdout.write(`${JSON.stringify(urls)}\n`);
  process.on('SIGTERM', () => process.exit(0));
}

/** Child role: the proxy with or without the shadow hook; reports RSS and, on SIGTERM, evidence. */
async function runProxy(legacy: string, service: string, shadowOn: boolean): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'strangler-bench-shadow-'));
  const config = parseConfig({
    store: `sqlite:${path.join(dir, 'state.db')}`,
    legacy: { url: legacy },
    services: { svc: { url: service } },
    routes: [
      {
        id: 'items',
        match: { path: '/api/items' },
        service: 'svc',
        mode: 'shadow',
        shadow: { sampleRate: 1 },
      },
    ],
  });
  const store = openSqliteStore(path.join(dir, 'state.db'));
  await store.routes.seed([{ id: 'items', mode: 'shadow', weight: 0 }], 'bench');
  const shadow = shadowOn ? createShadowHook({ config, store }) : undefined;
  const proxy = await startProxy({ config, store, shadow, listen: { host: '127.0.0.1', port: 0 } });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  process.stdout.write(`READY ${proxy.url}\n`);
  process.on('SIGTERM', async () => {
    clearInterval(sampler);
    await proxy.close();
    await shadow?.close();
    const ev = await store.shadow.evidence('items');
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    process.stdout.write(
      `DONE ${JSON.stringify({ peakRss, compared: ev.compared, matched: ev.matched, skipped: ev.skipped, noisePairs: ev.noisePairs })}\n`,
    );
    process.exit(0);
  });
}

function child(
  args: string[],
  nodeArgs: string[] = [],
): { proc: ChildProcess; lines: AsyncIterableIterator<string> } {
  const proc = spawn(process.execPath, [...nodeArgs, process.argv[1], ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  return { proc, lines };
}

async function firstLine(lines: AsyncIterableIterator<string>, prefix = ''): Promise<string> {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error('child exited before answering');
    if (value.startsWith(prefix)) return value.slice(prefix.length);
  }
}

interface Phase {
  name: string;
  rps: number;
  p99: number;
  requests: number;
  errors: number;
  peakRssMb: number;
  shadow?: { compared: number; skipped: Record<string, number>; noisePairs: number };
}

async function phase(name: string, urls: Record<string, string>, on: boolean, args: Args): Promise<Phase> {
  // STRANGLER_BENCH_PROXY_NODE_ARGS="--cpu-prof" profiles the proxy child.
  const nodeArgs = process.env.STRANGLER_BENCH_PROXY_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const { proc, lines } = child(['--role', 'proxy', urls.legacy, urls.service, on ? 'on' : 'off'], nodeArgs);
  const url = await firstLine(lines, 'READY ');
  const target = `${url}/api/items`;
  // Warm up JIT and pools before measuring.
  await autocannon({ url: target, connections: args.connections, duration: 2 });
  const r = await autocannon({ url: target, connections: args.connections, duration: args.durationS });
  proc.kill('SIGTERM');
  const done = JSON.parse(await firstLine(lines, 'DONE ')) as {
    peakRss: number;
    compared: number;
    skipped: Record<string, number>;
    noisePairs: number;
  };
  return {
    name,
    rps: r.requests.average,
    p99: r.latency.p99,
    requests: r.requests.total,
    errors: r.errors + r.timeouts + r.non2xx,
    peakRssMb: done.peakRss / 1024 / 1024,
    ...(on
      ? { shadow: { compared: done.compared, skipped: done.skipped, noisePairs: done.noisePairs } }
      : {}),
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--role' && argv[1] === 'upstreams') return runUpstreams();
  if (argv[0] === '--role' && argv[1] === 'proxy') return runProxy(argv[2], argv[3], argv[4] === 'on');
  const args = parseArgs(argv);
  const up = child(['--role', 'upstreams']);
  try {
    const urls = JSON.parse(await firstLine(up.lines)) as Record<string, string>;
    const off = await phase('shadow off', urls, false, args);
    const on = await phase('shadow on (100%)', urls, true, args);
    const rows = [off, on].map(
      (p) =>
        `${p.name.padEnd(18)} ${p.rps.toFixed(0).padStart(8)} req/s  p99 ${String(p.p99).padStart(4)} ms  ` +
        `errors ${p.errors}  peak RSS ${p.peakRssMb.toFixed(0)} MB`,
    );
    process.stdout.write(`shadow bench: ${args.connections} connections, ${args.durationS} s per phase\n`);
    process.stdout.write(rows.join('\n') + '\n');
    const ratio = on.rps / off.rps;
    process.stdout.write(`throughput ratio on/off: ${ratio.toFixed(2)} (target ≥ 0.50)\n`);
    process.stdout.write(`p99 on/off: ${(on.p99 / Math.max(off.p99, 1)).toFixed(2)}\n`);
    const s = on.shadow!;
    // Includes the warm-up requests: the proxy's evidence covers its whole life.
    process.stdout.write(
      `shadow evidence: compared ${s.compared}, noise pairs ${s.noisePairs}, skipped ${JSON.stringify(s.skipped)}\n`,
    );
    process.stdout.write(`peak proxy RSS with shadow: ${on.peakRssMb.toFixed(0)} MB (target ≤ 200 MB)\n`);
  } finally {
    up.proc.kill('SIGTERM');
  }
}

main().catch((err) => {
  process.stderr.write(`bench/shadow: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
