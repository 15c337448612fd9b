/**
 * Throughput and latency of the proxy against a peer (nginx) and against no
 * proxy at all, measured in the same run. Not a test: it prints figures and
 * ratios and asserts nothing.
 *
 *   npm run build && node dist/bench/proxy.js [--seconds 10] [--rounds 2] [--warmup 3] [--scenarios 1|2|3] [--only 2] [--tracing] [--bytes 40000]
 *
 * Scenario 1: a minimal Node backend (~200-byte JSON) in its own process,
 * hit directly, through nginx (one worker, upstream keepalive; skipped when
 * /usr/sbin/nginx is absent) and through strangler (startProxy in its own
 * process, a `service`-mode route with routing, metrics and failover on).
 * autocannon, 50 connections, keep-alive, rounds alternate the targets so
 * drift on a shared machine hits all of them alike. A sequential (c=1) loop
 * with microsecond timing gives the p50 strangler adds over direct, and the
 * proxy's RSS is sampled under load.
 *
 * Scenario 2: a real Django 3.2 app (bench/django, Debian's python3-django)
 * under `manage.py runserver` and under gunicorn (gthread), sequential p50s
 * direct (a new connection per request, and one kept-alive connection) vs
 * through strangler with its default kept-alive upstream pool and with
 * `reuseConnections: false`. runserver stalls ~40 ms on every reused
 * connection (Nagle + delayed ACK, docs/config.md); the figure asked for is
 * the p50 strangler adds once configured. The same run measures two floors in
 * front of the same server: the bare stream() forwarder (what any Node
 * forwarder adds) and nginx. Also prints what strangler's own stall watch
 * found.
 *
 * Scenario 3: the same three ways as scenario 1 in front of the Python demo monolith.
 *
 * A `bare-node` target (undici Pool + http.Server, nothing else) shows the
 * floor any Node forwarder starts from. The Node peers a user would pick
 * instead (node-http-proxy, fastify + @fastify/reply-from) run in the same
 * alternating rounds. Scenario 1 ends with bytes allocated per request for
 * strangler, the floor and the peers (`--bytes N` requests each; 0 skips).
 *
 * `--tracing` adds `strangler+otel` to scenario 1: the same proxy with
 * `tracing.otlp` on, every request sampled (the worst case), exporting to an
 * OTLP sink in a process of its own; the ratios to `strangler` are the cost
 * of tracing on.
 *
 * Roles (the script forks itself): `--role backend`, `--role strangler CONFIG_JSON`, `--role bare UPSTREAM`,
 * `--role bare-stream UPSTREAM [fresh]`, `--role http-proxy UPSTREAM`, `--role fastify UPSTREAM`.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';

const SELF = fileURLToPath(import.meta.url);
const NGINX = '/usr/sbin/nginx';
/** The Django project's source (Python is not compiled: from dist/bench back to bench/django). */
const DJANGO_DIR = path.resolve(path.dirname(SELF), '../../bench/django');
const PYTHON = process.env.STRANGLER_PYTHON ?? '/usr/bin/python3';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

// ---------------------------------------------------------------- roles

async function runBackend(): Promise<void> {
  const body = JSON.stringify({
    id: 42,
    user: 'ada',
    blocked: [7, 11, 13, 17, 19, 23],
    updated_at: '2026-11-25T12:00:00.000Z',
    note: 'a small JSON answer, about two hundred bytes, like a typical API read',
    ok: true,
  });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('disconnect', () => process.exit(0));
}

/**
 * The floor for any Node forwarder: undici Pool + http.Server, no routing,
 * header hygiene, metrics or failover. Shows how much of the gap to nginx is
 * Node's HTTP stack and how much is strangler's own work.
 */
async function runBare(upstream: string): Promise<void> {
  const { Pool } = await import('undici');
  const pool = new Pool(upstream, { connections: 256 });
  const server = createServer(async (req, res) => {
    try {
      const r = await pool.request({ method: 'GET', path: req.url ?? '/', headers: req.headers, body: null });
      res.writeHead(r.statusCode, r.headers as Record<string, string>);
      r.body.pipe(res);
    } catch {
      res.writeHead(502).end();
    }
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  answerProbes();
  process.on('disconnect', () => process.exit(0));
}

/**
 * The same floor with undici's stream(): the response body is written straight
 * into the client's ServerResponse (no intermediate Readable), the engine the
 * issue measured at 0.76x nginx. Shows what a stream()-based forward() could
 * reach on this machine.
 */
async function runBareStream(upstream: string, fresh = false): Promise<void> {
  const { Pool } = await import('undici');
  const pool = new Pool(upstream, { connections: 256 });
  const server = createServer((req, res) => {
    pool.stream(
      // fresh: a new upstream connection per request (undici's `reset`), as strangler's reuseConnections: false.
      { method: 'GET', path: req.url ?? '/', headers: req.headers, body: null, opaque: res, reset: fresh },
      ({ statusCode, headers, opaque }) => {
        const out = opaque as typeof res;
        out.writeHead(statusCode, headers as Record<string, string>);
        return out;
      },
      (err) => {
        if (err && !res.headersSent) res.writeHead(502).end();
      },
    );
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  answerProbes();
  process.on('disconnect', () => process.exit(0));
}

/**
 * The Node peers a user would otherwise pick, each as its README shows it in
 * front of one upstream: node-http-proxy (the package the original design
 * named) with a keep-alive agent, and fastify with @fastify/reply-from (undici
 * underneath, as strangler). Bench dev-dependencies only.
 */
async function runHttpProxy(upstream: string): Promise<void> {
  const { default: httpProxy } = await import('http-proxy');
  const { Agent } = await import('node:http');
  const proxy = httpProxy.createProxyServer({
    target: upstream,
    agent: new Agent({ keepAlive: true, maxSockets: 256 }),
  });
  proxy.on('error', (_err, _req, res) => {
    const out = res as import('node:http').ServerResponse;
    if (!out.headersSent) out.writeHead(502);
    out.end();
  });
  const server = createServer((req, res) => proxy.web(req, res));
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  answerProbes();
  process.on('disconnect', () => process.exit(0));
}

async function runFastify(upstream: string): Promise<void> {
  const { default: Fastify } = await import('fastify');
  const { default: replyFrom } = await import('@fastify/reply-from');
  const app = Fastify({ logger: false, keepAliveTimeout: 65_000 });
  await app.register(replyFrom, { base: upstream, undici: { connections: 256, pipelining: 1 } });
  app.all('/*', (req, reply) => reply.from(req.url));
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.send?.({ port: (app.server.address() as AddressInfo).port });
  answerProbes();
  process.on('disconnect', () => process.exit(0));
}

/**
 * A forwarder child answers 'rss' and 'cpu' probes. CPU time per request is a
 * steadier figure than req/s on a shared machine: other processes stealing
 * cores lower req/s but barely change the CPU each request costs.
 */
function answerProbes(): void {
  process.on('message', (msg: { type: string; gc?: boolean }) => {
    if (msg.type !== 'probe') return;
    const u = process.cpuUsage();
    if (msg.gc) (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    process.send?.({ rss: m.rss, heapTotal: m.heapTotal, external: m.external, cpuUs: u.user + u.system });
  });
}

async function runStrangler(configJson: string): Promise<void> {
  const { parseConfig } = await import('../core/config.js');
  const { openStore } = await import('../store/open.js');
  const { startProxy } = await import('../proxy/server.js');
  // As `strangler serve` does (cli/planes.ts).
  (await import('../proxy/heap-tuning.js')).tuneHeapForProxy();
  const config = parseConfig(JSON.parse(configJson));
  const store = await openStore(config.store);
  await store.routes.seed(
    config.routes.map((r) => ({ id: r.id, mode: r.mode, weight: r.weight })),
    'bench',
  );
  const proxy = await startProxy({ config, store, listen: { host: '127.0.0.1', port: 0 } });
  process.send?.({ port: proxy.port });
  answerProbes();
  process.on('message', async (msg: { type: string }) => {
    if (msg.type === 'close') {
      await proxy.close();
      await store.close();
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------- helpers

interface Child {
  proc: ChildProcess;
  port: number;
}

async function forkRole(
  role: string,
  extra: string[] = [],
  opts: { traceGc?: boolean } = {},
): Promise<Child> {
  // The strangler child starts with the node flags `strangler serve` has (bin/strangler.js).
  const { PROXY_NODE_FLAGS } = await import('../proxy/heap-tuning.js');
  const flags = role === 'strangler' ? [...PROXY_NODE_FLAGS] : [];
  // V8's own GC accounting (see bytesPerRequest): every GC prints the bytes
  // allocated since the one before it.
  if (opts.traceGc) flags.push('--trace-gc-nvp', '--expose-gc');
  const proc = fork(SELF, ['--role', role, ...extra], {
    execArgv: flags,
    env: { ...process.env, STRANGLER_LOG_LEVEL: 'silent' },
    stdio: ['ignore', opts.traceGc ? 'pipe' : 'inherit', 'inherit', 'ipc'],
  });
  const [msg] = (await once(proc, 'message')) as [{ port: number }];
  return { proc, port: msg.port };
}

// One probe answers both figures: the RSS sampler and the CPU reading may be
// waiting at once, and whichever reply arrives first is current for both.
async function probe(child: Child): Promise<{ rss: number; cpuUs: number }> {
  child.proc.send({ type: 'probe' });
  const [msg] = (await once(child.proc, 'message')) as [{ rss: number; cpuUs: number }];
  return msg;
}

const rssOf = async (child: Child) => (await probe(child)).rss;

/**
 * Bytes allocated per request, from V8's GC accounting: the forwarder runs
 * with --trace-gc-nvp, whose every GC line says `allocated=N` since the GC
 * before. A forced GC before and after the measured requests brackets them,
 * so the sum between is what those requests allocated (plus two probes'
 * worth). Unlike CPU time on a shared machine this repeats run to run (issue
 * 27: within ~50 B at 40,000 requests), so it is the figure to drive.
 */
async function bytesPerRequest(role: string, extra: string[], urlPath: string, n: number): Promise<number> {
  const child = await forkRole(role, extra, { traceGc: true });
  let allocated = 0;
  let pending = '';
  child.proc.stdout!.setEncoding('utf8');
  child.proc.stdout!.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const m = / allocated=(\d+)/.exec(line);
      if (m) allocated += Number(m[1]);
    }
  });
  const settle = async () => {
    child.proc.send({ type: 'probe', gc: true });
    await once(child.proc, 'message');
    await new Promise((r) => setTimeout(r, 100)); // the trace line arrives on stdout after the reply
    return allocated;
  };
  try {
    const url = `http://127.0.0.1:${child.port}${urlPath}`;
    await loadAmount(url, Math.min(n, 10_000), 50); // warm-up: JIT and pools settle, not counted
    const before = await settle();
    await loadAmount(url, n, 50);
    const after = await settle();
    return (after - before) / n;
  } finally {
    child.proc.kill();
  }
}
const cpuOf = async (child: Child) => (await probe(child)).cpuUs;

async function waitForPort(port: number, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on ${port} after ${ms} ms`);
}

async function startNginx(
  backendPort: number,
  dir: string,
): Promise<{ port: number; stop(): Promise<void> } | undefined> {
  if (!existsSync(NGINX)) {
    console.log(`nginx: ${NGINX} not found (Debian package "nginx"); skipping the nginx baseline`);
    return undefined;
  }
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream backend { server 127.0.0.1:${backendPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  );
  const proc = spawn(NGINX, ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(port);
  return {
    port,
    async stop() {
      proc.kill('SIGQUIT');
      await Promise.race([once(proc, 'exit'), new Promise((r) => setTimeout(r, 3000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    },
  };
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  total: number;
  /** CPU µs the forwarder child spent per request served (when the target is one of ours). */
  cpuPerReq?: number;
}

async function load(url: string, seconds: number, connections: number): Promise<Load> {
  // Imported here, not at the top: the forked roles run this same file, and
  // autocannon loaded into the proxy child would add ~27 MB to the RSS measured.
  const { default: autocannon } = await import('autocannon');
  const r = await autocannon({ url, connections, duration: seconds, pipelining: 1 });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
    total: r.requests.total,
  };
}

/** `amount` requests at c=`connections` (for per-request figures that need a fixed count). */
async function loadAmount(url: string, amount: number, connections: number): Promise<void> {
  const { default: autocannon } = await import('autocannon');
  const r = await autocannon({ url, connections, amount, pipelining: 1 });
  if (r.non2xx + r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
}

/**
 * Sequential requests on one keep-alive connection per target, p50 in
 * microseconds. The targets take turns in short runs (order reversed each
 * round), so drift on a shared machine lands on all of them alike instead of
 * on whichever went last.
 */
async function sequentialP50s(
  origins: Map<string, string>,
  path: string,
  n: number,
  rounds = 5,
): Promise<Map<string, number>> {
  const { Client } = await import('undici');
  const clients = new Map([...origins].map(([name, origin]) => [name, new Client(origin)]));
  const times = new Map([...origins.keys()].map((name) => [name, [] as number[]]));
  try {
    for (const [, client] of clients) {
      for (let i = 0; i < 500; i++) await (await client.request({ method: 'GET', path })).body.dump();
    }
    const names = [...clients.keys()];
    for (let round = 0; round < rounds; round++) {
      for (const name of round % 2 ? [...names].reverse() : names) {
        const client = clients.get(name)!;
        const out = times.get(name)!;
        for (let i = 0; i < Math.ceil(n / rounds); i++) {
          const t0 = process.hrtime.bigint();
          const r = await client.request({ method: 'GET', path });
          await r.body.dump();
          out.push(Number(process.hrtime.bigint() - t0) / 1000);
        }
      }
    }
  } finally {
    for (const c of clients.values()) await c.close();
  }
  const p50 = new Map<string, number>();
  for (const [name, xs] of times) {
    xs.sort((a, b) => a - b);
    p50.set(name, xs[Math.floor(xs.length / 2)]);
  }
  return p50;
}

const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function scenario(
  title: string,
  targets: Array<{ name: string; url: string; child?: Child }>,
  strangler: Child,
  opts: {
    seconds: number;
    rounds: number;
    warmupSeconds: number;
    connections: number;
    seqPath: string;
    seqN: number;
  },
): Promise<void> {
  console.log(`\n## ${title}`);
  // Warm every target up first (not recorded): the Node forwarders' JIT and
  // heap settle in the first seconds, and the comparison is of steady states.
  if (opts.warmupSeconds > 0) {
    for (const t of targets) await load(t.url, opts.warmupSeconds, opts.connections);
    console.log(`  (each target warmed up for ${opts.warmupSeconds} s first, not recorded)`);
  }
  const results = new Map<string, Load[]>();
  let peakRss = 0;
  for (let round = 0; round < opts.rounds; round++) {
    // Alternate the order each round so slow drift does not favour one target.
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) {
      let sampling = t.name === 'strangler';
      const sampler = (async () => {
        while (sampling) {
          peakRss = Math.max(peakRss, await rssOf(strangler));
          await new Promise((r) => setTimeout(r, 500));
        }
      })();
      const cpu0 = t.child ? await cpuOf(t.child) : 0;
      const r = await load(t.url, opts.seconds, opts.connections);
      if (t.child && r.total > 0) r.cpuPerReq = ((await cpuOf(t.child)) - cpu0) / r.total;
      sampling = false;
      await sampler;
      results.set(t.name, [...(results.get(t.name) ?? []), r]);
      console.log(
        `  round ${round + 1} ${t.name.padEnd(9)} ${fmt(r.rps).padStart(8)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  errors ${r.errors}${r.cpuPerReq === undefined ? '' : `  cpu ${fmt(r.cpuPerReq, 1)} µs/req`}`,
      );
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const summary = new Map<string, { rps: number; p50: number; p99: number; cpu?: number }>();
  console.log(`\n  c=${opts.connections}, ${opts.rounds} rounds × ${opts.seconds} s, mean of rounds:`);
  console.log('  target       req/s     p50 ms   p99 ms   cpu µs/req');
  for (const t of targets) {
    const rs = results.get(t.name) ?? [];
    const s = {
      rps: mean(rs.map((r) => r.rps)),
      p50: mean(rs.map((r) => r.p50)),
      p99: mean(rs.map((r) => r.p99)),
      cpu: t.child ? mean(rs.map((r) => r.cpuPerReq ?? 0)) : undefined,
    };
    summary.set(t.name, s);
    console.log(
      `  ${t.name.padEnd(10)} ${fmt(s.rps).padStart(8)}   ${fmt(s.p50, 2).padStart(6)}   ${fmt(s.p99, 2).padStart(6)}` +
        (s.cpu === undefined ? '' : `   ${fmt(s.cpu, 1).padStart(6)}`),
    );
  }
  const st = summary.get('strangler')!;
  const ng = summary.get('nginx');
  const di = summary.get('direct')!;
  if (ng) console.log(`  strangler/nginx throughput:  ${fmt(st.rps / ng.rps, 2)} (target >= 0.75)`);
  console.log(`  strangler/direct throughput: ${fmt(st.rps / di.rps, 2)}`);
  const bare = summary.get('bare-node');
  if (bare) {
    console.log(`  strangler/bare-node (undici Pool + http.Server floor): ${fmt(st.rps / bare.rps, 2)}`);
    if (ng) console.log(`  bare-node/nginx throughput: ${fmt(bare.rps / ng.rps, 2)}`);
    if (st.cpu && bare.cpu)
      console.log(`  strangler/bare-node CPU per request: ${fmt(st.cpu / bare.cpu, 2)}`);
    const bs = summary.get('bare-stream');
    if (bs && ng) console.log(`  bare-stream (undici stream())/nginx throughput: ${fmt(bs.rps / ng.rps, 2)}`);
    if (bs) console.log(`  strangler/bare-stream throughput: ${fmt(st.rps / bs.rps, 2)} (target >= 0.9)`);
    if (bs?.cpu && st.cpu)
      console.log(`  strangler/bare-stream CPU per request: ${fmt(st.cpu / bs.cpu, 2)} (target <= 1.15)`);
  }
  for (const peer of ['http-proxy', 'fastify']) {
    const p = summary.get(peer);
    if (!p) continue;
    console.log(`  strangler/${peer} throughput: ${fmt(st.rps / p.rps, 2)} (target >= 1.2)`);
    if (p.cpu && st.cpu) console.log(`  strangler/${peer} CPU per request: ${fmt(st.cpu / p.cpu, 2)}`);
  }
  const otel = summary.get('strangler+otel');
  if (otel) {
    console.log(
      `  tracing on (every request sampled, OTLP export) / off throughput: ${fmt(otel.rps / st.rps, 2)}`,
    );
    if (otel.cpu && st.cpu) console.log(`  tracing on / off CPU per request: ${fmt(otel.cpu / st.cpu, 2)}`);
    console.log(`  tracing on / off p99: ${fmt(otel.p99 / st.p99, 2)}`);
  }
  console.log(`  strangler RSS under load (peak): ${fmt(peakRss / 1048576, 1)} MB (target <= 150)`);

  const seqNames = ['direct', 'strangler', 'nginx', 'bare-stream'];
  const origins = new Map(
    targets.filter((t) => seqNames.includes(t.name)).map((t) => [t.name, new URL(t.url).origin] as const),
  );
  const p50 = await sequentialP50s(origins, opts.seqPath, opts.seqN);
  const seqDirect = p50.get('direct')!;
  const seqProxy = p50.get('strangler')!;
  const seqNginx = p50.get('nginx');
  const seqFloor = p50.get('bare-stream');
  console.log(`\n  c=1 sequential, ${opts.seqN} requests per target in alternating runs, p50:`);
  console.log(
    `  direct ${fmt(seqDirect)} µs, strangler ${fmt(seqProxy)} µs${seqNginx ? `, nginx ${fmt(seqNginx)} µs` : ''}` +
      (seqFloor ? `, bare-stream ${fmt(seqFloor)} µs` : ''),
  );
  const added = (us: number) => fmt((us - seqDirect) / 1000, 3);
  console.log(
    `  added p50 by strangler: ${added(seqProxy)} ms` +
      (seqFloor ? ` (target <= bare-stream's + 0.03 = ${added(seqFloor + 30)})` : '') +
      (seqNginx ? `; by nginx: ${added(seqNginx)} ms` : '') +
      (seqFloor ? `; by bare-stream: ${added(seqFloor)} ms` : ''),
  );
}

// ---------------------------------------------------------------- Django

type DjangoServer = 'runserver' | 'gunicorn';

/** Django under runserver or gunicorn on a free port, or undefined (with the reason printed) when it cannot start. */
async function startDjango(kind: DjangoServer): Promise<{ url: string; stop(): Promise<void> } | undefined> {
  const port = await freePort();
  const args =
    kind === 'runserver'
      ? ['manage.py', 'runserver', `127.0.0.1:${port}`, '--noreload']
      : // gthread: gunicorn's worker that keeps connections alive (the sync worker closes each one).
        [
          '-m',
          'gunicorn',
          '-k',
          'gthread',
          '--threads',
          '4',
          '-w',
          '1',
          '-b',
          `127.0.0.1:${port}`,
          'benchsite.wsgi',
        ];
  const proc = spawn(PYTHON, args, {
    cwd: DJANGO_DIR,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  try {
    await Promise.race([
      waitForPort(port, 15_000),
      once(proc, 'exit').then(() => {
        throw new Error(
          `${kind} exited at start (is python3-django${kind === 'gunicorn' ? '/python3-gunicorn' : ''} installed?)`,
        );
      }),
    ]);
  } catch (err) {
    proc.kill('SIGKILL');
    console.log(`\nDjango ${kind} skipped: ${(err as Error).message}`);
    return undefined;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      proc.kill('SIGTERM');
      await Promise.race([once(proc, 'exit'), new Promise((r) => setTimeout(r, 3000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

/**
 * Django behind strangler two ways in one proxy: legacy keeps connections
 * alive (the default; a short idle time so each alternating run starts on a
 * fresh connection, which lets the stall watch compare), and /fresh/* goes to
 * the same server with `reuseConnections: false`.
 */
function djangoStranglerConfig(dir: string, name: string, django: string): string {
  return JSON.stringify({
    store: `sqlite:${path.join(dir, `${name}.db`)}`,
    legacy: { url: django, keepAliveTimeoutMs: 1000 },
    services: { fresh: { url: django, reuseConnections: false } },
    proxy: { statsFlushMs: 1000 },
    routes: [{ id: 'fresh', match: { path: '/fresh/*' }, service: 'fresh', mode: 'service' }],
  });
}

interface SeqTarget {
  name: string;
  origin: string;
  path: string;
  /** A new connection per request (`Connection: close`) instead of one kept-alive connection. */
  fresh?: boolean;
}

/** p50/p90 (µs) per target of sequential requests, the targets taking turns in short runs. */
async function sequentialPercentiles(
  targets: SeqTarget[],
  n: number,
  rounds = 5,
): Promise<Map<string, { p50: number; p90: number }>> {
  const { Client, request } = await import('undici');
  const clients = new Map(targets.map((t) => [t.name, new Client(t.origin)]));
  const times = new Map(targets.map((t) => [t.name, [] as number[]]));
  const once1 = async (t: SeqTarget) => {
    const r = t.fresh
      ? await request(`${t.origin}${t.path}`, { reset: true })
      : await clients.get(t.name)!.request({ method: 'GET', path: t.path });
    await r.body.dump();
    if (r.statusCode !== 200) throw new Error(`${t.name}: status ${r.statusCode}`);
  };
  try {
    for (const t of targets) for (let i = 0; i < 20; i++) await once1(t);
    for (let round = 0; round < rounds; round++) {
      for (const t of round % 2 ? [...targets].reverse() : targets) {
        const out = times.get(t.name)!;
        for (let i = 0; i < Math.ceil(n / rounds); i++) {
          const t0 = process.hrtime.bigint();
          await once1(t);
          out.push(Number(process.hrtime.bigint() - t0) / 1000);
        }
      }
    }
  } finally {
    for (const c of clients.values()) await c.close();
  }
  const out = new Map<string, { p50: number; p90: number }>();
  for (const [name, xs] of times) {
    xs.sort((a, b) => a - b);
    out.set(name, { p50: xs[Math.floor(xs.length * 0.5)], p90: xs[Math.floor(xs.length * 0.9)] });
  }
  return out;
}

async function djangoScenario(kind: DjangoServer, dir: string, n: number): Promise<void> {
  const django = await startDjango(kind);
  if (!django) return;
  const strangler = await forkRole('strangler', [djangoStranglerConfig(dir, `django-${kind}`, django.url)]);
  // The floors in front of the same server: the bare stream() forwarder (the
  // least any Node forwarder adds), with its upstream connection kept alive
  // and with a new one per request, and nginx (a native proxy, kept alive).
  const bare = await forkRole('bare-stream', [django.url]);
  const bareFresh = await forkRole('bare-stream', [django.url, 'fresh']);
  const nginx = await startNginx(Number(new URL(django.url).port), path.join(dir, `nginx-${kind}`));
  try {
    const p = '/api/item';
    const sp = `http://127.0.0.1:${strangler.port}`;
    const direct: SeqTarget[] = [
      { name: 'direct, new connection per request', origin: django.url, path: p, fresh: true },
      { name: 'direct, one kept-alive connection', origin: django.url, path: p },
    ];
    const bareFloors: SeqTarget[] = [
      { name: 'bare stream() forwarder (the Node floor)', origin: `http://127.0.0.1:${bare.port}`, path: p },
      {
        name: 'bare stream(), new upstream connection',
        origin: `http://127.0.0.1:${bareFresh.port}`,
        path: p,
      },
    ];
    const native: SeqTarget[] = nginx
      ? [{ name: 'nginx (native)', origin: `http://127.0.0.1:${nginx.port}`, path: p }]
      : [];
    const ours: SeqTarget[] = [
      { name: 'strangler, default (upstream kept alive)', origin: sp, path: p },
      { name: 'strangler, reuseConnections: false', origin: sp, path: `/fresh${p}` },
    ];
    const targets = [...direct, ...bareFloors, ...native, ...ours];
    const r = await sequentialPercentiles(targets, n);
    console.log(
      `\n## Django 3.2 under ${kind === 'runserver' ? 'manage.py runserver' : 'gunicorn (gthread, 1 worker, 4 threads)'}, GET ${p}`,
    );
    console.log(
      `  c=1 sequential, ${n} requests per target in alternating runs (client keeps its connection to the proxy alive):`,
    );
    console.log('  target                                      p50 ms    p90 ms');
    for (const t of targets) {
      const x = r.get(t.name)!;
      console.log(
        `  ${t.name.padEnd(42)} ${fmt(x.p50 / 1000, 2).padStart(7)}   ${fmt(x.p90 / 1000, 2).padStart(7)}`,
      );
    }
    // Added p50: the best configuration of each proxy against the best direct way.
    const best = (ts: SeqTarget[]) => Math.min(...ts.map((t) => r.get(t.name)!.p50));
    const bestDirect = best(direct);
    const added = (ts: SeqTarget[]) => fmt((best(ts) - bestDirect) / 1000, 3);
    console.log(
      `  added p50 vs best direct: strangler (best configuration) ${added(ours)} ms (target <= 0.5); ` +
        `bare stream() floor (best of two) ${added(bareFloors)} ms${native.length ? `; nginx ${added(native)} ms` : ''}`,
    );
    // What strangler's own stall watch concluded about this upstream.
    const { openStore } = await import('../store/open.js');
    const store = await openStore(`sqlite:${path.join(dir, `django-${kind}.db`)}`);
    try {
      const verdicts = (await store.results.list('finding')).map(
        (x) => x.value as { stall: boolean; freshP50Ms: number; reusedP50Ms: number },
      );
      const v = verdicts[0];
      console.log(
        v
          ? `  strangler's stall watch: ${v.stall ? 'STALL' : 'no stall'} (p50 ${v.reusedP50Ms} ms reused vs ${v.freshP50Ms} ms fresh)`
          : "  strangler's stall watch: no verdict yet (too few answers on fresh connections)",
      );
    } finally {
      await store.close();
    }
  } finally {
    strangler.proc.kill();
    bare.proc.kill();
    bareFresh.proc.kill();
    await nginx?.stop();
    await django.stop();
  }
}

function stranglerConfig(
  dir: string,
  name: string,
  upstream: string,
  pathPattern: string,
  otlp?: string,
): string {
  return JSON.stringify({
    store: `sqlite:${path.join(dir, `${name}.db`)}`,
    legacy: { url: upstream },
    services: { bench: { url: upstream } },
    proxy: { statsFlushMs: 1000 },
    ...(otlp ? { tracing: { otlp } } : {}),
    routes: [{ id: 'bench', match: { path: pathPattern }, service: 'bench', mode: 'service' }],
  });
}

/** Scenario 1: a minimal Node backend; direct, nginx, the two bare forwarders and strangler. */
async function nodeScenario(
  dir: string,
  seconds: number,
  rounds: number,
  cleanups: Array<() => Promise<void> | void>,
): Promise<void> {
  const backend = await forkRole('backend');
  cleanups.push(() => void backend.proc.kill());
  const nginx = await startNginx(backend.port, dir);
  if (nginx) cleanups.push(() => nginx.stop());
  const strangler = await forkRole('strangler', [
    stranglerConfig(dir, 'node', `http://127.0.0.1:${backend.port}`, '/api/*'),
  ]);
  cleanups.push(() => void strangler.proc.kill());
  const bare = await forkRole('bare', [`http://127.0.0.1:${backend.port}`]);
  cleanups.push(() => void bare.proc.kill());
  const bareStream = await forkRole('bare-stream', [`http://127.0.0.1:${backend.port}`]);
  cleanups.push(() => void bareStream.proc.kill());
  const httpProxy = await forkRole('http-proxy', [`http://127.0.0.1:${backend.port}`]);
  cleanups.push(() => void httpProxy.proc.kill());
  const fastify = await forkRole('fastify', [`http://127.0.0.1:${backend.port}`]);
  cleanups.push(() => void fastify.proc.kill());
  const traced = process.argv.includes('--tracing')
    ? await (async () => {
        // Any 2xx will do for the exporter: the backend role is the OTLP sink.
        const sink = await forkRole('backend');
        cleanups.push(() => void sink.proc.kill());
        const otel = await forkRole('strangler', [
          stranglerConfig(
            dir,
            'otel',
            `http://127.0.0.1:${backend.port}`,
            '/api/*',
            `http://127.0.0.1:${sink.port}`,
          ),
        ]);
        cleanups.push(() => void otel.proc.kill());
        return [{ name: 'strangler+otel', url: `http://127.0.0.1:${otel.port}/api/item`, child: otel }];
      })()
    : [];
  const targets = [
    { name: 'direct', url: `http://127.0.0.1:${backend.port}/api/item` },
    ...(nginx ? [{ name: 'nginx', url: `http://127.0.0.1:${nginx.port}/api/item` }] : []),
    { name: 'bare-node', url: `http://127.0.0.1:${bare.port}/api/item`, child: bare },
    { name: 'bare-stream', url: `http://127.0.0.1:${bareStream.port}/api/item`, child: bareStream },
    { name: 'http-proxy', url: `http://127.0.0.1:${httpProxy.port}/api/item`, child: httpProxy },
    { name: 'fastify', url: `http://127.0.0.1:${fastify.port}/api/item`, child: fastify },
    { name: 'strangler', url: `http://127.0.0.1:${strangler.port}/api/item`, child: strangler },
    ...traced,
  ];
  await scenario('Node backend, ~200-byte JSON', targets, strangler, {
    seconds,
    rounds,
    warmupSeconds: arg('warmup', 3),
    connections: 50,
    seqPath: '/api/item',
    seqN: 10_000,
  });

  // Bytes allocated per request, each forwarder in a fresh process of its own.
  const n = arg('bytes', 40_000);
  if (n <= 0) return;
  const upstream = `http://127.0.0.1:${backend.port}`;
  const bytes = new Map<string, number>();
  for (const [name, role, extra] of [
    ['bare-stream', 'bare-stream', [upstream]],
    ['http-proxy', 'http-proxy', [upstream]],
    ['fastify', 'fastify', [upstream]],
    ['strangler', 'strangler', [stranglerConfig(dir, 'bytes', upstream, '/api/*')]],
  ] as const)
    bytes.set(name, await bytesPerRequest(role, [...extra], '/api/item', n));
  console.log(
    `\n  bytes allocated per request (V8 GC accounting, ${fmt(n)} requests at c=50, after warm-up):`,
  );
  for (const [name, b] of bytes) console.log(`  ${name.padEnd(12)} ${fmt(b).padStart(7)} B`);
  const floor = bytes.get('bare-stream')!;
  console.log(
    `  strangler/bare-stream bytes per request: ${fmt(bytes.get('strangler')! / floor, 2)} (target <= 1.2)`,
  );
}

/** Which scenarios run: `--only N` runs scenario N alone, `--scenarios N` runs 1..N (default 3). */
function wanted(n: number): boolean {
  const only = arg('only', 0);
  return only ? only === n : n <= arg('scenarios', 3);
}

async function main(): Promise<void> {
  const seconds = arg('seconds', 10);
  const rounds = arg('rounds', 2);
  const dir = mkdtempSync(path.join(tmpdir(), 'strangler-bench-'));
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    console.log(`# strangler proxy benchmark (Node ${process.version})`);
    if (wanted(1)) await nodeScenario(dir, seconds, rounds, cleanups);
    for (const c of cleanups.splice(0).reverse()) await c();
    if (wanted(2)) {
      await djangoScenario('runserver', dir, arg('django-n', 300));
      await djangoScenario('gunicorn', dir, arg('django-n', 300));
    }
    if (!wanted(3)) return;

    // Scenario 3: the Python demo monolith (stdlib http.server: far slower
    // than the proxies, so this shows the proxy's share of a real request).
    let run: typeof import('../examples/run.js');
    try {
      run = await import('../examples/run.js');
    } catch (err) {
      console.log(`\nPython monolith scenario skipped: ${(err as Error).message}`);
      return;
    }
    const mono = await run.startMonolith();
    cleanups.push(() => mono.stop());
    const nginx2 = await startNginx(mono.port, dir);
    if (nginx2) cleanups.push(() => nginx2.stop());
    const strangler2 = await forkRole('strangler', [stranglerConfig(dir, 'mono', mono.url, '/api/block/*')]);
    cleanups.push(() => void strangler2.proc.kill());
    const p = '/api/block/1/2';
    await scenario(
      'Python demo monolith, GET /api/block/1/2',
      [
        { name: 'direct', url: `${mono.url}${p}` },
        ...(nginx2 ? [{ name: 'nginx', url: `http://127.0.0.1:${nginx2.port}${p}` }] : []),
        { name: 'strangler', url: `http://127.0.0.1:${strangler2.port}${p}`, child: strangler2 },
      ],
      strangler2,
      {
        seconds: Math.min(seconds, 5),
        rounds: 1,
        warmupSeconds: Math.min(arg('warmup', 3), 2),
        connections: 10,
        seqPath: p,
        seqN: 1000,
      },
    );
  } finally {
    for (const c of cleanups.reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
  }
}

const roleAt = process.argv.indexOf('--role');
const role = roleAt > 0 ? process.argv[roleAt + 1] : undefined;
if (role === 'backend') await runBackend();
else if (role === 'strangler') await runStrangler(process.argv[roleAt + 2]);
else if (role === 'bare') await runBare(process.argv[roleAt + 2]);
else if (role === 'http-proxy') await runHttpProxy(process.argv[roleAt + 2]);
else if (role === 'fastify') await runFastify(process.argv[roleAt + 2]);
else if (role === 'bare-stream')
  await runBareStream(process.argv[roleAt + 2], process.argv[roleAt + 3] === 'fresh');
else
  await main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
