/**
 * The edge under abusive clients (issue 12). Not a test: it prints figures
 * and asserts nothing. The proxy runs in its own process so its RSS is its own.
 *
 *   npm run build && node dist/bench/edge.js parked [--clients 1600] [--settle 15]
 *   npm run build && node dist/bench/edge.js slow [--uploaders 300] [--seconds 40]
 *
 *   npm run build && node dist/bench/edge.js canonical
 *
 *   npm run build && node dist/bench/edge.js pipelined [--nginx]
 *
 * Add `--dist DIR` to run another build's proxy (e.g. the code before a
 * change, built into DIR/dist) with the same clients: only the proxy changes.
 *
 * - parked: N clients each POST a 1 MiB body to a `service` route whose
 *   service takes the request heads but never reads a body or answers (and
 *   the proxy waits for it longer than the run). Prints the proxy's RSS once
 *   every client has written (goal <= 250 MB for 1,600).
 * - slow: N clients POST `Content-Length: 10000000` to a service route and
 *   send one byte every 10 s (reconnecting when cut); meanwhile 20 loops GET
 *   the same route. Prints the share of GETs answered within 1 s (goal >= 99 %).
 *
 * - canonical: nanoseconds per canonicalTarget() call for everyday paths (the
 *   fast path) and for paths that need work, beside the proxy's whole CPU
 *   cost per request printed by bench/proxy.js.
 *
 * - pipelined (issue 25): raw sockets. A POST pipelined behind each kind of
 *   answer that closes the connection (refusals, an HTTP/1.0 answer without
 *   a length): how many ran upstream and how many were answered (goal: ran
 *   0); stray bytes 300 ms into a POST the service answers after 1 s, and an
 *   upload 13 KB longer than its Content-Length: the status the client got
 *   (goal: the service's 200). `--nginx` runs the same clients against an
 *   nginx (from PATH, own prefix in a temp dir) in front of the same service.
 *
 * Roles (the script forks itself): `--role proxy DIST CONFIG_JSON`, `--role service`.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';

const SELF = fileURLToPath(import.meta.url);
const OWN_DIST = path.resolve(path.dirname(SELF), '..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

// ---------------------------------------------------------------- roles

async function runProxy(dist: string, configJson: string): Promise<void> {
  const { parseConfig } = await import(path.join(dist, 'core/config.js'));
  const { openStore } = await import(path.join(dist, 'store/open.js'));
  const { startProxy } = await import(path.join(dist, 'proxy/server.js'));
  (await import(path.join(dist, 'proxy/heap-tuning.js'))).tuneHeapForProxy();
  const config = parseConfig(JSON.parse(configJson));
  const store = await openStore(config.store);
  await store.routes.seed(
    config.routes.map((r: { id: string; mode: string; weight: number }) => ({
      id: r.id,
      mode: r.mode,
      weight: r.weight,
    })),
    'bench',
  );
  const proxy = await startProxy({ config, store, listen: { host: '127.0.0.1', port: 0 } });
  process.send?.({ port: proxy.port });
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'memory') process.send?.({ memory: process.memoryUsage() });
  });
  process.on('disconnect', () => process.exit(0));
}

/** GET answers at once; any request with a body is parked: head taken, body never read, never answered. */
function runService(): void {
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 11 });
      res.end('{"ok":true}');
    }
    // else: parked.
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------- helpers

interface Child {
  proc: ChildProcess;
  port: number;
}

function start(args: string[]): Promise<Child> {
  return new Promise((resolve, reject) => {
    // The proxy's per-request warnings (parked requests time out) would drown the figures.
    const proc = fork(SELF, args, {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, STRANGLER_LOG_LEVEL: 'error' },
    });
    proc.once('message', (m: { port: number }) => resolve({ proc, port: m.port }));
    proc.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}`)));
  });
}

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stack(dist: string, service: number, extra: Record<string, unknown> = {}, waitMs?: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'strangler-edge-bench-'));
  const config = {
    store: `sqlite:${path.join(dir, 'state.db')}`,
    legacy: { url: `http://127.0.0.1:${service}` },
    services: { svc: { url: `http://127.0.0.1:${service}`, timeoutMs: waitMs } },
    routes: [
      {
        id: 'block',
        match: { path: '/api/block/*' },
        service: 'svc',
        mode: 'service',
        idempotent: true,
        ...(waitMs ? { failover: { timeoutMs: waitMs } } : {}),
      },
    ],
    ...extra,
  };
  const proxy = await start(['--role', 'proxy', dist, JSON.stringify(config)]);
  return { proxy, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------- scenarios

async function parked(dist: string): Promise<void> {
  const clients = Number(arg('clients', '1600'));
  const settle = Number(arg('settle', '15'));
  const service = await start(['--role', 'service']);
  // --budget N sets proxy.maxBufferedBodyBytes (this build only; an older schema refuses the key).
  const budget = arg('budget', '');
  // Parked stays parked for the whole run: with the failover stage's 2 s
  // timeout the first requests were answered 504 (and the breaker opened)
  // while the last ones still arrived, so the figure depended on the
  // machine's speed rather than on what a parked request costs.
  const { proxy, cleanup } = await stack(
    dist,
    service.port,
    budget ? { proxy: { maxBufferedBodyBytes: Number(budget) } } : {},
    600_000,
  );
  const body = Buffer.alloc(1024 * 1024, 0x61);
  const head = Buffer.from(
    `POST /api/block/1 HTTP/1.1\r\nHost: bench\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  const socks: Socket[] = [];
  const idle = rssMb(proxy.proc.pid!);
  let peak = idle;
  let resets = 0;
  for (let i = 0; i < clients; i++) {
    const s = connect(proxy.port, '127.0.0.1');
    s.on('error', () => resets++);
    // One shared buffer: the bench's own memory does not grow with the clients.
    s.write(head);
    s.write(body);
    socks.push(s);
    if (i % 100 === 99) {
      await sleep(50);
      peak = Math.max(peak, rssMb(proxy.proc.pid!));
    }
  }
  for (let t = 0; t < settle; t++) {
    await sleep(1000);
    peak = Math.max(peak, rssMb(proxy.proc.pid!));
  }
  const end = rssMb(proxy.proc.pid!);
  const memory = await new Promise<NodeJS.MemoryUsage>((resolve) => {
    proxy.proc.once('message', (m: { memory: NodeJS.MemoryUsage }) => resolve(m.memory));
    proxy.proc.send({ type: 'memory' });
  });
  const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;
  console.log(
    `  proxy memory at the end: heap used ${mb(memory.heapUsed)} of ${mb(memory.heapTotal)}, ` +
      `external ${mb(memory.external)}, array buffers ${mb(memory.arrayBuffers)}`,
  );
  const open = socks.filter((s) => !s.destroyed).length;
  console.log(
    `parked: ${clients} clients x 1 MiB bodies (${dist === OWN_DIST ? 'this build' : dist}): ` +
      `proxy RSS idle ${idle.toFixed(0)} MB, peak ${peak.toFixed(0)} MB, after ${settle} s ${end.toFixed(0)} MB; ` +
      `${open} client connections still open, ${resets} cut (goal: peak <= 250 MB)`,
  );
  for (const s of socks) s.destroy();
  proxy.proc.kill();
  service.proc.kill();
  cleanup();
}

async function slow(dist: string): Promise<void> {
  const uploaders = Number(arg('uploaders', '300'));
  const seconds = Number(arg('seconds', '40'));
  const service = await start(['--role', 'service']);
  const { proxy, cleanup } = await stack(dist, service.port);
  let stop = false;
  let cut = 0;
  const socks = new Set<Socket>();
  const uploader = () => {
    if (stop) return;
    const s = connect(proxy.port, '127.0.0.1');
    socks.add(s);
    s.on('error', () => {});
    s.write('POST /api/block/1 HTTP/1.1\r\nHost: bench\r\nContent-Length: 10000000\r\n\r\n');
    // Read what the proxy answers (a 408): a socket nobody reads never sees the FIN.
    s.resume();
    const t = setInterval(() => s.writable && s.write('x'), 10_000);
    s.on('close', () => {
      clearInterval(t);
      socks.delete(s);
      cut++;
      // A cut uploader comes back: the pressure stays at N.
      if (!stop) setTimeout(uploader, 100);
    });
  };
  for (let i = 0; i < uploaders; i++) uploader();
  await sleep(2000);
  // A GET that waits 10 s is counted as failed (and as over 1 s), not waited for forever.
  const agent = new Agent({ connections: 20, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const latencies: number[] = [];
  let errors = 0;
  const deadline = Date.now() + seconds * 1000;
  const loop = async () => {
    while (Date.now() < deadline) {
      const t0 = performance.now();
      try {
        const r = await request(`http://127.0.0.1:${proxy.port}/api/block/get`, { dispatcher: agent });
        await r.body.text();
        if (r.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
      await sleep(50);
    }
  };
  await Promise.all(Array.from({ length: 20 }, loop));
  stop = true;
  const within = latencies.filter((l) => l <= 1000).length;
  latencies.sort((a, b) => a - b);
  const p = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  console.log(
    `slow: ${uploaders} slow uploaders (1 byte / 10 s, reconnecting; ${cut} cut by the proxy) for ${seconds} s ` +
      `(${dist === OWN_DIST ? 'this build' : dist}): ${latencies.length} GETs, ` +
      `${((100 * within) / Math.max(1, latencies.length)).toFixed(2)} % within 1 s, errors ${errors}, ` +
      `p50 ${p(0.5).toFixed(1)} ms, p99 ${p(0.99).toFixed(1)} ms, max ${p(1).toFixed(0)} ms (goal >= 99 % within 1 s)`,
  );
  for (const s of socks) s.destroy();
  await agent.destroy();
  proxy.proc.kill();
  service.proc.kill();
  cleanup();
}

async function canonical(dist: string): Promise<void> {
  const { canonicalTarget } = await import(path.join(dist, 'proxy/canonical.js'));
  const opts = { mergeSlashes: true, encodedSlashes: 'reject' };
  const cases: Record<string, string[]> = {
    everyday: ['/api/block/1', '/api/notes/42?page=2', '/static/app.js', '/'],
    'needs work': ['//api/block/1', '/api/%2e%2e/admin', '/%61pi/x/./y', '/api//x?q=1'],
  };
  for (const [name, paths] of Object.entries(cases)) {
    const n = 2_000_000;
    let sink = 0;
    for (let i = 0; i < 200_000; i++) sink += canonicalTarget(paths[i & 3], opts).ok ? 1 : 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink += canonicalTarget(paths[i & 3], opts).ok ? 1 : 0;
    const ns = Number(process.hrtime.bigint() - t0) / n;
    console.log(`canonical ${name}: ${ns.toFixed(0)} ns per request target (${sink > 0 ? 'ok' : '?'})`);
  }
  // The whole edge stage (framing rules + canonical target) on a typical request head.
  const { admit } = await import(path.join(dist, 'proxy/edge-rules.js'));
  const rawHeaders = [
    'Host',
    'api.example',
    'User-Agent',
    'curl/8',
    'Accept',
    '*/*',
    'Connection',
    'keep-alive',
    'Content-Type',
    'application/json',
    'Authorization',
    'Bearer x',
    'X-Request-Id',
    'abc',
    'Cookie',
    'a=b',
  ];
  const n = 1_000_000;
  let kinds = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const req = {
      method: 'GET',
      url: '/api/block/1',
      httpVersionMajor: 1,
      httpVersionMinor: 1,
      rawHeaders,
      headers: {},
    };
    kinds += admit(req, opts).kind === 'forward' ? 1 : 0;
  }
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(
    `edge admit (framing + canonical target), 8 headers: ${ns.toFixed(0)} ns per request (${kinds === n ? 'ok' : '?'})`,
  );
}

// ---------------------------------------------------------------- pipelined (issue 25)

const PIPELINED_POST = 'POST /api/block/W HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nwrite';
const CLOSING_ANSWERS: Record<string, string> = {
  'encoded slash (400)': 'GET /api%2Fblock/1 HTTP/1.1\r\nHost: x\r\n\r\n',
  'TE: identity, chunked (501)':
    'POST /api/block/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n',
  'HTTP/1.0 keep-alive, answer without length':
    'GET /api/block/stream HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n',
  'two Host (400)': 'GET /api/block/1 HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n',
  'no Host (400)': 'GET /api/block/1 HTTP/1.1\r\n\r\n',
  'Host: a@b (400)': 'GET /api/block/1 HTTP/1.1\r\nHost: a@b\r\n\r\n',
};
const STRAY: Record<string, Array<string | number>> = {
  'stray \\r\\nX 300 ms into a 1 s POST': [
    'POST /api/block/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi',
    300,
    '\r\nX',
  ],
  'upload 13 KB over its Content-Length': [
    `POST /api/block/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(113_000)}`,
  ],
};

/** Write the steps (bytes, or ms to wait) and collect the answer until close or `quietMs` of silence. */
function rawExchange(port: number, steps: Array<string | number>, quietMs: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(text);
    };
    sock.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(done, quietMs);
    });
    sock.on('close', done);
    sock.on('error', () => {});
    sock.on('connect', async () => {
      for (const step of steps) {
        if (typeof step === 'number') await sleep(step);
        else sock.write(step);
      }
      timer = setTimeout(done, quietMs);
    });
  });
}

async function pipelinedRun(name: string, port: number, posts: () => number): Promise<void> {
  const rounds = 10;
  console.log(name);
  for (const [what, first] of Object.entries(CLOSING_ANSWERS)) {
    const before = posts();
    let answered = 0;
    for (let i = 0; i < rounds; i++) {
      const text = await rawExchange(port, [first + PIPELINED_POST], 300);
      answered += Math.max(0, (text.match(/HTTP\/1\.[01] \d{3}/g) ?? []).length - 1);
    }
    await sleep(100);
    console.log(`  behind ${what}: POST ran ${posts() - before}/${rounds}, answered ${answered}/${rounds}`);
  }
  for (const [what, steps] of Object.entries(STRAY)) {
    const got: string[] = [];
    for (let i = 0; i < 5; i++)
      got.push(/^HTTP\/1\.[01] (\d{3})/.exec(await rawExchange(port, steps, 1500))?.[1] ?? 'none');
    console.log(`  ${what}: the client got ${got.join(', ')}`);
  }
}

async function pipelined(dist: string): Promise<void> {
  let posts = 0;
  const service = createServer((req, res) => {
    if (req.method === 'POST') posts++;
    req.resume();
    req.on('end', () => {
      if (req.url === '/api/block/stream') {
        res.write('x'); // no length: to an HTTP/1.0 client the answer ends by closing
        res.end('y');
      } else if (req.url === '/api/block/slow') setTimeout(() => res.end('ok'), 1000);
      else res.end('ok');
    });
  });
  await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
  const servicePort = (service.address() as AddressInfo).port;
  const { proxy, cleanup } = await stack(dist, servicePort);
  try {
    await pipelinedRun(`strangler (${dist})`, proxy.port, () => posts);
  } finally {
    proxy.proc.kill();
    cleanup();
  }
  if (process.argv.includes('--nginx')) await againstNginx(servicePort, () => posts);
  service.close();
}

/** The same clients against nginx in front of the same service (nginx from PATH, its own temp prefix). */
async function againstNginx(servicePort: number, posts: () => number): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'strangler-edge-nginx-'));
  // Run as root, nginx's workers are `nobody`: they must reach the temp paths inside.
  chmodSync(dir, 0o755);
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `${t}_temp_path ${dir}/${t};`)
    .join(' ');
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `pid ${dir}/nginx.pid; error_log ${dir}/error.log; events {}\n` +
      `http { access_log off; ${temp} server { listen 127.0.0.1:${port}; location / { ` +
      `proxy_pass http://127.0.0.1:${servicePort}; proxy_http_version 1.1; proxy_set_header Connection ""; } } }\n`,
  );
  const nginx = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: 'inherit',
  });
  try {
    await sleep(500);
    await pipelinedRun('nginx', port, posts);
  } finally {
    nginx.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- main

const role = process.argv.indexOf('--role');
if (role > 0) {
  const which = process.argv[role + 1];
  if (which === 'proxy') await runProxy(process.argv[role + 2], process.argv[role + 3]);
  else runService();
} else {
  const dist = path.resolve(arg('dist', OWN_DIST));
  const scenario = process.argv[2];
  if (scenario === 'parked') await parked(dist);
  else if (scenario === 'slow') await slow(dist);
  else if (scenario === 'canonical') await canonical(dist);
  else if (scenario === 'pipelined') await pipelined(dist);
  else {
    console.error('usage: node dist/bench/edge.js parked|slow|canonical|pipelined [--dist DIR] [--nginx]');
    process.exitCode = 2;
  }
}
