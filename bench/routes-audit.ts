/**
 * `GET /routes` latency against the audit log's length (issue 13 item 8:
 * 13 ms at 0 rows, 1.28 s at 20k, 3.0 s at 50k on Redis, because route
 * status was folded from audit scans). For each store (SQLite, and Redis if
 * `redis-server` is installed): the admin API over a store with 3 routes,
 * p50/p95 of GET /routes with an empty audit log, then again after filling
 * it to --rows rows (default 1,000,000: breaker, flip and canary rows spread
 * over the routes), and the ratio of the two, measured in the same run.
 *
 *   npm run build && node dist/bench/routes-audit.js [--rows 1000000] [--requests 200] [--store sqlite|redis|both]
 *
 * SQLite is filled with one INSERT transaction (the rows are what matters,
 * not how they got there); Redis through the store's own append, 500 in
 * flight, so its per-route "latest" records are kept as in production.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { freePort } from './free-port.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parseConfig } from '../core/config.js';
import { startAdmin } from '../control/admin-api.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';

const REDIS_BIN = process.env.STRANGLER_REDIS_SERVER ?? '/usr/bin/redis-server';
const ROUTES = ['block', 'orders', 'users'];

interface Args {
  rows: number;
  requests: number;
  store: 'sqlite' | 'redis' | 'both';
}

function parseArgs(argv: string[]): Args {
  const args: Args = { rows: 1_000_000, requests: 200, store: 'both' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rows' || a === '--requests') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n <= 0)
        throw new Error(`${a}: expected a positive integer, got "${argv[i]}"`);
      if (a === '--rows') args.rows = n;
      else args.requests = n;
    } else if (a === '--store') {
      const v = argv[++i];
      if (v !== 'sqlite' && v !== 'redis' && v !== 'both')
        throw new Error(`--store: expected sqlite, redis or both, got "${v}"`);
      args.store = v;
    } else throw new Error(`unknown option ${a}`);
  }
  return args;
}

function configFor(store: string) {
  return parseConfig({
    store,
    legacy: { url: 'http://127.0.0.1:1' },
    services: { svc: { url: 'http://127.0.0.1:2' } },
    routes: ROUTES.map((id) => ({ id, match: { path: `/api/${id}/*` }, service: 'svc', mode: 'shadow' })),
  });
}

/** The i-th filler row: mostly breaker flapping, some flips and canary rows, spread over the routes. */
function row(i: number) {
  const route = ROUTES[i % ROUTES.length];
  const action =
    i % 10 === 0 ? 'flip' : i % 17 === 0 ? 'canary.pause' : i % 2 ? 'breaker.open' : 'breaker.close';
  return { actor: 'bench', route, action, before: null, after: null, reason: `filler ${i}` };
}

async function measure(adminUrl: string, n: number): Promise<{ p50: number; p95: number }> {
  const ms: number[] = [];
  for (let i = 0; i < 5; i++) await (await fetch(`${adminUrl}/routes`)).arrayBuffer(); // warm-up
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(`${adminUrl}/routes`);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET /routes answered ${res.status}`);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(n * 0.5)], p95: ms[Math.floor(n * 0.95)] };
}

async function fillSqlite(file: string, rows: number): Promise<void> {
  const db = new Database(file);
  db.pragma('busy_timeout = 5000');
  const ins = db.prepare(
    'INSERT INTO audit (at, actor, route, action, before, after, reason, details) VALUES (?, ?, ?, ?, NULL, NULL, ?, NULL)',
  );
  const at = new Date().toISOString();
  db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const r = row(i);
      ins.run(at, r.actor, r.route, r.action, r.reason);
    }
  }).immediate();
  db.close();
}

async function fillRedis(store: Store, rows: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 500 }, async () => {
      while (next < rows) await store.audit.append(row(next++));
    }),
  );
}

async function run(kind: 'sqlite' | 'redis', url: string, args: Args, fill: (store: Store) => Promise<void>) {
  const config = configFor(url);
  let store = await openStore(url, { create: true });
  await store.routes.seed(
    ROUTES.map((id) => ({ id, mode: 'shadow', weight: 0 })),
    'bench',
  );
  let admin = await startAdmin({ config, store, token: undefined, host: '127.0.0.1', port: 0 });
  const empty = await measure(admin.url, args.requests);
  const t0 = Date.now();
  await fill(store);
  const fillMs = Date.now() - t0;
  // A fresh store object and listener, as a restarted proxy would have.
  await admin.close();
  await store.close();
  store = await openStore(url, { create: false });
  admin = await startAdmin({ config, store, token: undefined, host: '127.0.0.1', port: 0 });
  const count = (await store.audit.list({ limit: 1 })).at(-1)?.seq ?? 0;
  const full = await measure(admin.url, args.requests);
  await admin.close();
  await store.close();
  const f = (x: number) => x.toFixed(2);
  console.log(
    `${kind.padEnd(6)} GET /routes over ${args.requests} requests: ` +
      `0 audit rows p50 ${f(empty.p50)} ms p95 ${f(empty.p95)} ms | ` +
      `${count.toLocaleString('en')} audit rows p50 ${f(full.p50)} ms p95 ${f(full.p95)} ms | ` +
      `ratio p50 ${(full.p50 / empty.p50).toFixed(2)}x (fill took ${(fillMs / 1000).toFixed(1)} s)`,
  );
}

async function startRedis(dir: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    REDIS_BIN,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c) => {
      out += c;
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited ${code}`)));
  });
  return { port, child };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(path.join(tmpdir(), 'strangler-bench-routes-'));
  try {
    if (args.store !== 'redis') {
      const file = path.join(dir, 'state.db');
      await run('sqlite', `sqlite:${file}`, args, () => fillSqlite(file, args.rows));
    }
    if (args.store !== 'sqlite') {
      if (!existsSync(REDIS_BIN)) console.log(`redis: skipped, ${REDIS_BIN} not found`);
      else {
        const redis = await startRedis(dir);
        try {
          await run('redis', `redis://127.0.0.1:${redis.port}/0`, args, (store) =>
            fillRedis(store, args.rows),
          );
        } finally {
          redis.child.kill('SIGKILL');
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
