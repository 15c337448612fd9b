/**
 * `npm run demo`: the whole story on the embedded default (SQLite) with the
 * bundled Python monolith. Starts the monolith, the extracted block-service and
 * the proxy; sends traffic; walks the `block` route legacy → shadow → canary →
 * service with the real CLI (recording block's shadow traffic, exporting it and
 * replaying it against block-service and a changed build), and with it the extraction point `block-check`
 * (the check feed and chat make inside the monolith, docs/extraction-points.md);
 * shows where traffic and calls went, the shadow evidence, the route table,
 * the audit log and per-target latency. On a terminal it then
 * keeps serving until Ctrl-C; otherwise it stops by itself.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Pool } from 'undici';
import { run } from '../cli/main.js';
import { nearestRank } from '../core/quantile.js';
import { runServe, type ServeInfo } from '../cli/serve.js';
import type { CliIO } from '../cli/io.js';
import { type RunningApp, startBlockService, startMonolith } from './run.js';

const out = (s = '') => process.stdout.write(`${s}\n`);
// Bold headings on a terminal only: a log file or CI output gets no escape codes.
const bold = process.stdout.isTTY && !process.env.NO_COLOR;
const heading = (s: string) => out(bold ? `\n\x1b[1m== ${s}\x1b[0m` : `\n== ${s}`);

/** POSIX shell quoting, so every command the demo prints works when pasted. */
export function shellQuote(args: string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}

interface Sample {
  target: string;
  ms: number;
  status: number;
}

/** Send `n` requests (8 at a time over keep-alive) and record which target answered each. */
async function traffic(
  pool: Pool,
  n: number,
  pick: (i: number) => { method: 'GET' | 'POST'; path: string; body?: string; user: number },
): Promise<Sample[]> {
  const samples: Sample[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const r = pick(i);
      const t0 = performance.now();
      const res = await pool.request({
        method: r.method,
        path: r.path,
        headers: { 'x-user-id': String(r.user), ...(r.body ? { 'content-type': 'application/json' } : {}) },
        body: r.body,
      });
      await res.body.text();
      samples.push({
        target: String(res.headers['x-strangler-target'] ?? '?'),
        ms: performance.now() - t0,
        status: res.statusCode,
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return samples;
}

function summarise(label: string, samples: Sample[]): void {
  const by = new Map<string, number>();
  let errors = 0;
  for (const s of samples) {
    by.set(s.target, (by.get(s.target) ?? 0) + 1);
    if (s.status >= 500) errors++;
  }
  const parts = [...by].map(([t, c]) => `${t} ${c} (${((100 * c) / samples.length).toFixed(0)}%)`);
  out(`${label}: ${samples.length} requests → ${parts.join(', ')}; 5xx: ${errors}`);
}

const blockGet = (i: number) => ({
  method: 'GET' as const,
  path: `/api/block/${1 + (i % 40)}`,
  user: 1 + (i % 40),
});

/** The config every demo command names: printed relative to where `npm run demo` runs, so it pastes as shown. */
let demoConfig = '';

const feedGet = (i: number) => ({
  method: 'GET' as const,
  path: `/api/feed/${1 + (i % 40)}`,
  user: 1 + (i % 40),
});

/** block-service's request log: how many extraction-point calls (`POST /internal/block-check`) it answered. */
function countPointCalls(service: RunningApp): () => number {
  let n = 0;
  service.process.stderr!.on('data', (c: Buffer) => {
    n += c.toString().split('POST /internal/block-check').length - 1;
  });
  return () => n;
}

async function cli(io: CliIO, ...argv: string[]): Promise<number> {
  const args = [...argv, '--config', path.relative(io.cwd, demoConfig) || demoConfig];
  out(`$ npx strangler ${shellQuote(args)}`);
  return run(args, io);
}

/**
 * Flip a route; when the gate refuses, override it with --force (the audit
 * log records the override). `explain` says so on the demo's output.
 */
async function flipOrOverride(
  io: CliIO,
  route: string,
  to: string[],
  reason: string,
  explain = false,
): Promise<void> {
  if ((await cli(io, 'flip', route, ...to, '--reason', reason)) === 0) return;
  if (explain) out('(the gate refused; the demo overrides it, and the audit log records the override)');
  await cli(io, 'flip', route, ...to, '--force', '--reason', 'demo override');
}

/**
 * Record → export → replay: block's shadow traffic, recorded while shadowing,
 * becomes a case file the service team runs in CI. Against block-service it
 * passes (only the learned noise, generated_at, differs); against a build
 * started with --differ it fails, naming the changed fields.
 */
async function replayDemo(io: CliIO, dir: string, dbPath: string, service: RunningApp): Promise<void> {
  heading("2b. replay: block's recorded shadow traffic as block-service's regression suite");
  const casesFile = path.relative(io.cwd, path.join(dir, 'block-cases.jsonl'));
  await cli(io, 'shadow', 'export', 'block', '--out', casesFile);
  const replay = async (target: string) => {
    const args = ['replay', casesFile, '--target', target];
    out(`$ npx strangler ${shellQuote(args)}`);
    return run(args, io);
  };
  out(`exit ${await replay(service.url)}: the service build answers as the monolith did`);
  const changed = await startBlockService({ dbPath, differ: true });
  try {
    out('(a block-service build started with --differ: count, blocked and served_by changed)');
    out(`exit ${await replay(changed.url)}: the replay names the fields that changed`);
  } finally {
    await changed.stop();
  }
}

async function main(): Promise<void> {
  // The proxy's logs would drown the walkthrough; warnings still show, as one
  // readable line each (no JSON, and colour only on a terminal).
  process.env.STRANGLER_LOG_LEVEL ??= 'warn';
  process.env.STRANGLER_LOG_FORMAT ??= 'pretty';
  // A token of our own: the admin API takes flips, and no "token not set" warning.
  const ownToken = !process.env.STRANGLER_ADMIN_TOKEN;
  process.env.STRANGLER_ADMIN_TOKEN ||= randomBytes(24).toString('base64url');
  const dir = path.resolve('.strangler/demo');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const dbPath = path.join(dir, 'monolith.db');
  // The monolith's extraction points read their modes from the proxy with this
  // token; the proxy's port is known only once it listens, so the monolith's
  // client reads the proxy's URL from a file written then.
  const pointsToken = randomBytes(16).toString('hex');
  process.env.STRANGLER_POINTS_TOKEN = pointsToken;
  const urlFile = path.join(dir, 'strangler-url');

  heading('starting the demo monolith (Python) and the extracted block-service (TypeScript)');
  const apps: RunningApp[] = [];
  const stopApps = async () => {
    for (const a of apps.reverse()) await a.stop();
  };
  try {
    const legacy = await startMonolith({
      dbPath,
      env: { STRANGLER_URL_FILE: urlFile, STRANGLER_POINTS_TOKEN: pointsToken },
    });
    apps.push(legacy);
    const service = await startBlockService({ dbPath, accessLog: true });
    apps.push(service);
    const pointCalls = countPointCalls(service);
    out(`monolith       ${legacy.url}  (python3 -m monolith.server, SQLite ${dbPath})`);
    out(`block-service  ${service.url}  (same SQLite data)`);

    const configFile = path.join(dir, 'strangler.yaml');
    demoConfig = configFile;
    writeFileSync(
      configFile,
      `# written by npm run demo
listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:state.db
legacy: { url: ${legacy.url} }
services:
  block-service: { url: ${service.url} }
routes:
  - id: block
    match: { path: /api/block/*, methods: [GET, POST, DELETE] }
    service: block-service
    module: monolith.block
    mode: legacy
    # record: shadowed exchanges kept (redacted) as block-service's regression suite (docs/replay.md)
    shadow: { sampleRate: 1, noiseSampleRate: 0.2, record: { enabled: true } }
    gate: { minCompared: 200, minMatchRate: 0.99, maxP99Ratio: 3, maxErrorRate: 0.01 }
    slo: { maxErrorRate: 0.05, maxP99Ms: 500, window: 10s }
  # The extraction point: block.check(user_id) inside the monolith, called by feed and chat.
  - id: block-check
    kind: function
    path: /internal/block-check
    service: block-service
    module: monolith.block
    mode: legacy
    idempotent: true
    failover: { timeoutMs: 500 }
    shadow: { sampleRate: 1, noiseSampleRate: 0.05 }
    gate: { minCompared: 200, minMatchRate: 0.99, maxP99Ratio: 1000, maxErrorRate: 0.01 }
    slo: { maxErrorRate: 0.05, maxP99Ms: 500, window: 10s }
`,
    );

    let stopServe!: (why: string) => void;
    const stop = new Promise<string>((r) => {
      stopServe = r;
    });
    let serving!: Promise<number>;
    const info = await new Promise<ServeInfo>((resolve, reject) => {
      const quiet: CliIO = {
        stdout: { write: () => true },
        stderr: process.stderr,
        env: process.env,
        cwd: dir,
      };
      serving = runServe(quiet, { config: configFile, stop, onReady: resolve });
      serving.catch(reject);
    });
    heading(`strangler proxy ${info.proxyUrl}  (admin ${info.adminUrl}, store ${info.config.store})`);
    writeFileSync(urlFile, info.proxyUrl);
    const io: CliIO = {
      stdout: process.stdout,
      stderr: process.stderr,
      env: { ...process.env, STRANGLER_ACTOR: 'demo' },
      cwd: process.cwd(),
    };
    const pool = new Pool(info.proxyUrl, { connections: 8 });
    const all: Sample[] = [];
    // The proxy polls the store every 250 ms, the monolith's client the proxy every 250 ms.
    const settle = () => new Promise((r) => setTimeout(r, 800));
    /** Feed requests (each makes one block.check call inside the monolith) and where those calls went. */
    const feedTraffic = async (label: string, n: number) => {
      const before = pointCalls();
      const f = await traffic(pool, n, feedGet);
      await new Promise((r) => setTimeout(r, 100)); // the service's log lines arrive after its answers
      summarise(label, f);
      out(`  block.check inside the monolith: ${n} calls, ${pointCalls() - before} reached block-service`);
    };
    await settle();

    heading('1. block in legacy mode: the monolith answers everything');
    let s = await traffic(pool, 120, (i) =>
      i % 3 === 0 ? { method: 'GET', path: `/api/users/${1 + (i % 40)}`, user: 1 } : blockGet(i),
    );
    all.push(...s);
    summarise('mixed users + block traffic', s);
    await feedTraffic('feed (block-check in legacy: the local function only)', 60);

    heading('1b. a route definition changes through the store: edit the config, then apply the plan');
    // Route definitions live in the store (issue 29): the edited file changes
    // nothing until `apply` writes it, audited; the running proxy follows.
    const edited = readFileSync(configFile, 'utf8').replace(
      '    mode: legacy\n    # record:',
      '    mode: legacy\n    sticky: header:x-user-id\n    # record:',
    );
    writeFileSync(configFile, edited);
    out('(strangler.yaml now gives block sticky: header:x-user-id, so a canary user stays on one side)');
    await cli(io, 'apply', '--dry-run');
    await cli(io, 'apply', '--reason', 'canary users stay on one side');

    heading('2. shadow: legacy still answers; a copy goes to block-service and the answers are diffed');
    await cli(io, 'flip', 'block', 'shadow', '--reason', 'collect evidence');
    await cli(io, 'flip', 'block-check', 'shadow', '--reason', 'collect evidence');
    await settle();
    s = await traffic(pool, 400, blockGet);
    all.push(...s);
    summarise('block GETs', s);
    await feedTraffic(
      'feed (block-check in shadow: the local result returned, a copy compared off the path)',
      250,
    );
    await new Promise((r) => setTimeout(r, 1500)); // shadow copies finish and flush after the primary
    await cli(io, 'shadow', 'report', 'block', '--format', 'text');
    await cli(io, 'shadow', 'report', 'block-check', '--format', 'text');
    await replayDemo(io, dir, dbPath, service);

    heading('3. canary 50%: sticky per x-user-id, gated by the shadow evidence');
    await flipOrOverride(io, 'block', ['canary', '--weight', '50'], 'evidence looks good', true);
    await flipOrOverride(io, 'block-check', ['canary', '--weight', '50'], 'evidence looks good');
    await settle();
    s = await traffic(pool, 300, blockGet);
    all.push(...s);
    summarise('block GETs from 40 users', s);
    await feedTraffic('feed from 40 users (block-check canary 50%, sticky by user_id)', 120);

    heading('4. service: block-service answers the whole route');
    await flipOrOverride(io, 'block', ['service'], 'canary healthy');
    await flipOrOverride(io, 'block-check', ['service'], 'canary healthy');
    await settle();
    s = await traffic(pool, 300, (i) =>
      i % 10 === 0
        ? {
            method: 'POST',
            path: `/api/block/${1 + (i % 40)}`,
            body: JSON.stringify({ target: 41 + (i % 9) }),
            user: 1,
          }
        : blockGet(i),
    );
    all.push(...s);
    summarise('block GETs + POSTs', s);
    await feedTraffic(
      'unmatched /api/feed (legacy answers; block-check in service: its calls go to block-service through the proxy)',
      60,
    );

    heading('route table');
    await cli(io, 'routes');
    heading('audit log');
    await cli(io, 'history', 'block');
    await cli(io, 'history', 'block-check');

    heading('per-target latency seen by the client, through the proxy (ms)');
    out('target    requests     p50     p95     p99');
    for (const target of ['legacy', 'service']) {
      const ms = all
        .filter((x) => x.target === target)
        .map((x) => x.ms)
        .sort((a, b) => a - b);
      out(
        `${target.padEnd(8)} ${String(ms.length).padStart(9)} ${[0.5, 0.95, 0.99].map((q) => (nearestRank(ms, q) ?? Number.NaN).toFixed(2).padStart(7)).join(' ')}`,
      );
    }
    await pool.close();

    if (process.stdin.isTTY && !process.env.CI) {
      heading('still serving — press Ctrl-C to stop');
      const config = path.relative(process.cwd(), configFile);
      out(`curl -i ${info.proxyUrl}/api/block/1`);
      out(`npx strangler ${shellQuote(['routes', '--config', config])}`);
      out(
        `npx strangler ${shellQuote(['flip', 'block', 'legacy', '--reason', 'roll back to the monolith', '--config', config])}`,
      );
      out(
        // Our own token is shown; a token the user brought stays in their environment.
        `curl -X POST -H "authorization: Bearer ${ownToken ? process.env.STRANGLER_ADMIN_TOKEN : '$STRANGLER_ADMIN_TOKEN'}" -H 'content-type: application/json' ` +
          `-d '{"mode":"shadow","reason":"via the admin API"}' ${info.adminUrl}/routes/block/flip`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      out('\nstopping…');
    }
    stopServe('demo finished');
    await serving;
  } finally {
    await stopApps();
  }
  out('demo stopped cleanly');
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
