/**
 * Failover under load: autocannon drives a service-mode route through the
 * proxy while the service is SIGKILLed (at a third of the run) and restarted
 * on the same port (at two thirds). Prints requests, non-2xx by status,
 * failovers by reason, kill → breaker open and restart → breaker closed times,
 * p99 latency before/during/after (during and after as ratios to before, all
 * measured in this run), and the POST ledgers' double-execution count.
 *
 *   npm run build && node dist/bench/failover.js [--duration 30] [--connections 50] [--demo]
 *
 * Default upstreams are the ledger stand-ins of test/fixtures/failover (child
 * processes); --demo uses the Python monolith and the block-service instead
 * (no ledgers then: a POST run twice would answer 200 "already blocked").
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { request } from 'undici';
import { parseConfig } from '../core/config.js';
import { REPO_ROOT, type RunningApp, startBlockService, startMonolith } from '../examples/run.js';
import { type BreakerEvent, onBreakerChange } from '../proxy/breaker.js';
import { startProxy } from '../proxy/server.js';
import { openStore } from '../store/open.js';

interface Args {
  durationS: number;
  connections: number;
  demo: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { durationS: 30, connections: 50, demo: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--demo') args.demo = true;
    else if (a === '--duration' || a === '--connections') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n <= 0)
        throw new Error(`${a}: expected a positive integer, got "${argv[i]}"`);
      if (a === '--duration') args.durationS = n;
      else args.connections = n;
    } else throw new Error(`unknown argument "${a}" (expected --duration N, --connections N, --demo)`);
  }
  if (args.durationS < 6)
    throw new Error('--duration: at least 6 seconds (kill and restart need a phase each)');
  return args;
}

/** An upstream the bench can SIGKILL and start again on the same port. */
interface Killable {
  url: string;
  port: number;
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const FIXTURE = path.join(REPO_ROOT, 'test/fixtures/failover/service.mjs');

function spawnLedger(
  port: number,
  ledger: string,
  name: string,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [FIXTURE, '--port', String(port), '--ledger', ledger, '--name', name, '--delay-ms', '1'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before listening`)));
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      const m = /LISTENING (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
  });
}

const exited = (c: ChildProcess) =>
  new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

async function ledgerUpstream(ledger: string, name: string): Promise<Killable> {
  let { child, port } = await spawnLedger(0, ledger, name);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    async restart() {
      ({ child, port } = await spawnLedger(port, ledger, name));
    },
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}

async function blockServiceUpstream(dbPath: string): Promise<Killable> {
  let app: RunningApp = await startBlockService({ dbPath });
  const port = app.port;
  return {
    url: app.url,
    port,
    async kill() {
      app.process.kill('SIGKILL');
      await exited(app.process);
    },
    async restart() {
      app = await startBlockService({ dbPath, port });
    },
    stop: () => app.stop(),
  };
}

function p99(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)];
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(path.join(tmpdir(), 'strangler-bench-failover-'));
  const serviceLedger = path.join(dir, 'service.ledger');
  const legacyLedger = path.join(dir, 'legacy.ledger');
  writeFileSync(serviceLedger, '');
  writeFileSync(legacyLedger, '');
  const cleanups: Array<() => Promise<void>> = [];
  try {
    let legacyUrl: string;
    let service: Killable;
    let getPath: (n: number) => string;
    let post: (n: number) => { path: string; body: string };
    if (args.demo) {
      const monolith = await startMonolith({ dbPath: path.join(dir, 'demo.db') });
      cleanups.push(() => monolith.stop());
      legacyUrl = monolith.url;
      service = await blockServiceUpstream(monolith.dbPath);
      const free: Array<[number, number]> = [];
      for (let u = 1; u <= 50; u++) {
        const r = await request(`${monolith.url}/api/block/${u}`);
        const taken = new Set(((await r.body.json()) as { blocked: number[] }).blocked);
        for (let t = 1; t <= 50; t++) if (t !== u && !taken.has(t)) free.push([u, t]);
      }
      getPath = (n) => `/api/block/${1 + (n % 50)}`;
      // Beyond the free pairs, POSTs repeat pairs and answer 200 by design.
      post = (n) => {
        const [u, t] = free[n % free.length];
        return { path: `/api/block/${u}`, body: JSON.stringify({ target: t }) };
      };
    } else {
      const legacy = await ledgerUpstream(legacyLedger, 'legacy');
      cleanups.push(() => legacy.stop());
      legacyUrl = legacy.url;
      service = await ledgerUpstream(serviceLedger, 'service');
      getPath = (n) => `/api/blocks/${n}`;
      post = (n) => ({ path: '/api/blocks/new', body: JSON.stringify({ n }) });
    }
    cleanups.push(() => service.stop());

    const config = parseConfig({
      store: `sqlite:${path.join(dir, 'state.db')}`,
      legacy: { url: legacyUrl },
      services: { svc: { url: service.url } },
      routes: [
        {
          id: 'bench',
          match: { path: args.demo ? '/api/block/*' : '/api/blocks/*' },
          service: 'svc',
          mode: 'service',
          failover: { resetTimeoutMs: 1000, rollingCountTimeoutMs: 2000, timeoutMs: 2000 },
        },
      ],
    });
    const store = await openStore(config.store);
    await store.routes.seed([{ id: 'bench', mode: 'service', weight: 0 }], 'bench');
    const proxy = await startProxy({ config, store, listen: { host: '127.0.0.1', port: 0 } });
    cleanups.unshift(async () => {
      await proxy.close();
      await store.close();
    });

    // Warm up (JIT, pooled connections) so "before" is not the cold start.
    await autocannon({ url: `${proxy.url}${getPath(0)}`, connections: args.connections, duration: 2 });

    const events: BreakerEvent[] = [];
    const unsubscribe = onBreakerChange((e) => events.push(e));
    let n = 0;
    const start = Date.now();
    const latencies = { before: [] as number[], during: [] as number[], after: [] as number[] };
    const statuses = new Map<number, number>();
    let killedAt = Number.POSITIVE_INFINITY;
    let restartedAt = Number.POSITIVE_INFINITY;
    let closedAfterRestart = Number.POSITIVE_INFINITY;

    let finish!: (r: autocannon.Result) => void;
    let fail!: (e: unknown) => void;
    const finished = new Promise<autocannon.Result>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    const instance = autocannon(
      {
        url: proxy.url,
        connections: args.connections,
        duration: args.durationS,
        requests: [
          {
            method: 'GET',
            setupRequest: (req) => {
              const i = n++;
              return { ...req, path: getPath(i), headers: { 'x-request-id': `bench-${i}` } };
            },
          },
          {
            method: 'POST',
            setupRequest: (req) => {
              const i = n++;
              const p = post(i);
              return {
                ...req,
                path: p.path,
                body: p.body,
                headers: { 'x-request-id': `bench-${i}`, 'content-type': 'application/json' },
              };
            },
          },
        ],
      },
      (err, r) => (err ? fail(err) : finish(r)),
    );
    (instance as unknown as import('node:events').EventEmitter).on(
      'response',
      (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
        const now = Date.now();
        statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
        const phase = now < killedAt ? 'before' : now < closedAfterRestart ? 'during' : 'after';
        latencies[phase].push(responseTime);
      },
    );
    const third = (args.durationS * 1000) / 3;
    const chaos = (async () => {
      await sleep(third);
      killedAt = Date.now();
      await service.kill();
      await sleep(third - (Date.now() - killedAt));
      restartedAt = Date.now();
      await service.restart();
    })();
    const closedWatch = onBreakerChange((e) => {
      if (e.state === 'closed' && e.at >= restartedAt)
        closedAfterRestart = Math.min(closedAfterRestart, e.at);
    });
    const result = await finished;
    await chaos;
    unsubscribe();
    closedWatch();

    const metrics = await proxy.metrics();
    const failovers = [
      ...metrics.matchAll(/^strangler_failovers_total\{route="bench",reason="([^"]+)"\} (\d+)/gm),
    ].map((m) => `${m[1]} ${m[2]}`);
    const unsafe = /^strangler_unsafe_rejected_total\{route="bench"\} (\d+)/m.exec(metrics)?.[1] ?? '0';
    const opened = events.find((e) => e.state === 'open' && e.at >= killedAt);
    const closed = events.find((e) => e.state === 'closed' && e.at >= restartedAt);
    const non2xx = [...statuses].filter(([s]) => s < 200 || s >= 300).sort(([a], [b]) => a - b);
    const [b, d, a] = [p99(latencies.before), p99(latencies.during), p99(latencies.after)];
    const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : 'n/a');

    const out: string[] = [];
    out.push(
      `failover bench (${args.demo ? 'demo monolith + block-service' : 'ledger stand-ins'}): ${args.durationS} s, ${args.connections} connections, kill at ${((killedAt - start) / 1000).toFixed(1)} s, restart at ${((restartedAt - start) / 1000).toFixed(1)} s`,
    );
    out.push(
      `requests                 ${result.requests.total} (${(result.requests.total / args.durationS).toFixed(0)}/s), errors ${result.errors}, timeouts ${result.timeouts}`,
    );
    out.push(
      `non-2xx by status        ${non2xx.length ? non2xx.map(([s, c]) => `${s}: ${c}`).join(', ') : 'none'}`,
    );
    out.push(`failovers by reason      ${failovers.length ? failovers.join(', ') : 'none'}`);
    out.push(`unsafe POSTs not resent  ${unsafe}`);
    out.push(`kill → breaker open      ${opened ? `${opened.at - killedAt} ms` : 'did not open'}`);
    out.push(`restart → breaker closed ${closed ? `${closed.at - restartedAt} ms` : 'did not close'}`);
    out.push(
      `p99 latency              before ${ms(b)} | during ${ms(d)} (${(d / b).toFixed(2)}x) | after ${ms(a)} (${(a / b).toFixed(2)}x)`,
    );
    if (!args.demo) {
      const ran = [
        ...readFileSync(serviceLedger, 'utf8').split('\n'),
        ...readFileSync(legacyLedger, 'utf8').split('\n'),
      ].filter(Boolean);
      const seen = new Set<string>();
      let twice = 0;
      for (const id of ran) {
        if (seen.has(id)) twice++;
        seen.add(id);
      }
      out.push(`POSTs executed twice     ${twice} (of ${ran.length} executed)`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    for (const c of cleanups) await c().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

main().catch((err) => {
  process.stderr.write(`bench/failover: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
