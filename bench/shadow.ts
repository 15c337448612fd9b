/**
 * Shadow overhead on the primary: autocannon drives a shadow-mode route
 * through the proxy with shadow off, then with every request shadowed and
 * diffed (sampleRate 1, noise on 10%), in the same run. Prints the primary's
 * throughput and p99 for both, the on/off ratio, the proxy's peak RSS, and the
 * shadow evidence counts (compared vs skipped) that prove the copies ran.
 *
 *   npm run build && node dist/bench/shadow.js [--duration 5] [--rounds 3] [--connections 32]
 *                                              [--scenario both|synthetic|demo]
 *
 * Two scenarios. `synthetic`: trivial Node upstreams (legacy + service in one
 * child), cheaper than the proxy itself, so the ratio measures the proxy's
 * own cost of a copy request and a diff per request — the worst case. `demo`:
 * the bundled Python monolith as legacy and the TypeScript block-service as
 * the service (with --differ, so every pair differs), on one SQLite file —
 * backends doing real work per request.
 *
 * Processes are kept apart so that nothing measured shares an event loop with
 * the load generator: upstreams in their own processes, each proxy (with its
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
import { PROXY_NODE_FLAGS, tuneHeapForProxy } from '../proxy/heap-tuning.js';
import { startProxy } from '../proxy/server.js';
import { createShadowHook } from '../shadow/mirror.js';
import { openSqliteStore } from '../store/sqlite/index.js';

interface Args {
  durationS: number;
  connections: number;
  rounds: number;
  scenario: 'both' | 'synthetic' | 'demo';
}

function parseArgs(argv: string[]): Args {
  const args: Args = { durationS: 5, connections: 32, rounds: 3, scenario: 'both' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--duration' || a === '--connections' || a === '--rounds') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n <= 0)
        throw new Error(`${a}: expected a positive integer, got "${argv[i]}"`);
      if (a === '--duration') args.durationS = n;
      else if (a === '--rounds') args.rounds = n;
      else args.connections = n;
    } else if (a === '--scenario') {
      const v = argv[++i];
      if (v !== 'both' && v !== 'synthetic' && v !== 'demo')
        throw new Error(`--scenario: expected both, synthetic or demo, got "${v}"`);
      args.scenario = v;
    } else
      throw new Error(
        `unknown argument "${a}" (expected --duration N, --connections N, --rounds N, --scenario both|synthetic|demo)`,
      );
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
async function runProxy(
  legacy: string,
  service: string,
  shadowOn: boolean,
  matchPath: string,
): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'strangler-bench-shadow-'));
  const config = parseConfig({
    store: `sqlite:${path.join(dir, 'state.db')}`,
    legacy: { url: legacy },
    services: { svc: { url: service } },
    routes: [
      {
        id: 'items',
        match: { path: matchPath },
        service: 'svc',
        mode: 'shadow',
        shadow: { sampleRate: 1 },
      },
    ],
  });
  const store = openSqliteStore(path.join(dir, 'state.db'));
  await store.routes.seed([{ id: 'items', mode: 'shadow', weight: 0 }], 'bench');
  const shadow = shadowOn ? createShadowHook({ config, store }) : undefined;
  tuneHeapForProxy(); // as `strangler serve` does (cli/planes.ts)
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
  // STRANGLER_BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the children.
  const extra = process.env.STRANGLER_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const proc = spawn(process.execPath, [...extra, ...nodeArgs, process.argv[1], ...args], {
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

interface ProxyChild {
  name: string;
  proc: ChildProcess;
  lines: AsyncIterableIterator<string>;
  target: string;
  runs: Array<{ rps: number; p99: number; errors: number }>;
}

interface Scenario {
  title: string;
  legacy: string;
  service: string;
  /** The route's match pattern and the path autocannon requests. */
  matchPath: string;
  requestPath: string;
}

async function startProxyChild(name: string, sc: Scenario, on: boolean): Promise<ProxyChild> {
  // STRANGLER_BENCH_PROXY_NODE_ARGS="--cpu-prof" profiles the proxy children.
  // Plus the node flags `strangler serve` starts with (bin/strangler.js).
  const nodeArgs = [
    ...PROXY_NODE_FLAGS,
    ...(process.env.STRANGLER_BENCH_PROXY_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
  ];
  const { proc, lines } = child(
    ['--role', 'proxy', sc.legacy, sc.service, on ? 'on' : 'off', sc.matchPath],
    nodeArgs,
  );
  const url = await firstLine(lines, 'READY ');
  return { name, proc, lines, target: `${url}${sc.requestPath}`, runs: [] };
}

async function measure(p: ProxyChild, args: Args): Promise<void> {
  const r = await autocannon({ url: p.target, connections: args.connections, duration: args.durationS });
  p.runs.push({ rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function stopProxyChild(p: ProxyChild) {
  p.proc.kill('SIGTERM');
  return JSON.parse(await firstLine(p.lines, 'DONE ')) as {
    peakRss: number;
    compared: number;
    matched: number;
    skipped: Record<string, number>;
    noisePairs: number;
  };
}

/** Shadow off and on against one pair of upstreams, alternating; prints the figures. */
async function runScenario(sc: Scenario, args: Args): Promise<void> {
  const started: ProxyChild[] = [];
  try {
    const off = await startProxyChild('shadow off', sc, false);
    started.push(off);
    const on = await startProxyChild('shadow on (100%)', sc, true);
    started.push(on);
    // Warm up JIT and pools, then alternate (off,on / on,off / ...): load from
    // elsewhere on a shared machine drifts, and alternating spreads it over both.
    for (const p of [off, on])
      await autocannon({ url: p.target, connections: args.connections, duration: 2 });
    for (let i = 0; i < args.rounds; i++)
      for (const p of i % 2 ? [on, off] : [off, on]) await measure(p, args);
    const offDone = await stopProxyChild(off);
    const onDone = await stopProxyChild(on);
    started.length = 0;

    process.stdout.write(
      `\n## ${sc.title}\n${args.connections} connections, ${args.rounds} alternating rounds of ${args.durationS} s per mode\n`,
    );
    for (const [p, done] of [
      [off, offDone],
      [on, onDone],
    ] as const) {
      const runs = p.runs.map((r) => `${r.rps.toFixed(0)}/${r.p99}`).join(' ');
      process.stdout.write(
        `${p.name.padEnd(18)} median ${median(p.runs.map((r) => r.rps))
          .toFixed(0)
          .padStart(6)} req/s  ` +
          `p99 ${median(p.runs.map((r) => r.p99))} ms  errors ${p.runs.reduce((a, r) => a + r.errors, 0)}  ` +
          `peak RSS ${(done.peakRss / 1024 / 1024).toFixed(0)} MB  (runs req/s/p99: ${runs})\n`,
      );
    }
    const ratios = on.runs.map((r, i) => r.rps / off.runs[i].rps);
    process.stdout.write(
      `throughput ratio on/off: median ${median(ratios).toFixed(2)} per round [${ratios.map((r) => r.toFixed(2)).join(', ')}] (target ≥ 0.50)\n`,
    );
    process.stdout.write(
      `p99 on/off: ${(median(on.runs.map((r) => r.p99)) / Math.max(median(off.runs.map((r) => r.p99)), 1)).toFixed(2)}\n`,
    );
    // Includes the warm-up requests: the proxy's evidence covers its whole life.
    process.stdout.write(
      `shadow evidence: compared ${onDone.compared}, matched ${onDone.matched}, noise pairs ${onDone.noisePairs}, skipped ${JSON.stringify(onDone.skipped)}\n`,
    );
    process.stdout.write(
      `peak proxy RSS with shadow: ${(onDone.peakRss / 1024 / 1024).toFixed(0)} MB (target ≤ 200 MB)\n`,
    );
  } finally {
    for (const p of started) p.proc.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--role' && argv[1] === 'upstreams') return runUpstreams();
  if (argv[0] === '--role' && argv[1] === 'proxy')
    return runProxy(argv[2], argv[3], argv[4] === 'on', argv[5]);
  const args = parseArgs(argv);

  // Scenario 1: trivial Node upstreams, cheaper than the proxy, so the
  // proxy's own shadow work decides the ratio (the worst case for it).
  if (args.scenario !== 'demo') {
    const up = child(['--role', 'upstreams']);
    try {
      const urls = JSON.parse(await firstLine(up.lines)) as Record<string, string>;
      await runScenario(
        {
          title: 'Synthetic upstreams (~1.2 KB JSON; every pair differs)',
          legacy: urls.legacy,
          service: urls.service,
          matchPath: '/api/items',
          requestPath: '/api/items',
        },
        args,
      );
    } finally {
      up.proc.kill('SIGTERM');
    }
  }

  // Scenario 2: the bundled demo apps, the Python monolith as legacy and the
  // TypeScript block-service as the service, on one SQLite file: backends
  // doing real work, which shadowing doubles.
  if (args.scenario !== 'synthetic') {
    const run = await import('../examples/run.js');
    const mono = await run.startMonolith();
    try {
      // --differ: the service adds a field and answers two others differently,
      // so every pair goes through the full JSON diff, not the equal-bytes shortcut.
      const svc = await run.startBlockService({ dbPath: mono.dbPath, differ: true });
      try {
        await runScenario(
          {
            title: 'Demo apps: Python monolith (legacy) and block-service --differ, GET /api/block/1/2',
            legacy: mono.url,
            service: svc.url,
            matchPath: '/api/block/*',
            requestPath: '/api/block/1/2',
          },
          args,
        );
      } finally {
        await svc.stop();
      }
    } finally {
      await mono.stop();
    }
  }
}

main().catch((err) => {
  process.stderr.write(`bench/shadow: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
