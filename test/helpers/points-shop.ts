/**
 * The points shop (test/fixtures/points-shop): a Django app whose payments are
 * extraction points, their extracted Python service, and `strangler serve`
 * in front of it, all as real processes on port 0. Debian's Python
 * (`/usr/bin/python3`, with python3-django and gunicorn) runs the app.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../examples/run.js';
import { type Served, startServe } from './bin.js';
import { writeConfig } from './tmp.js';

export const SHOP_DIR = path.join(REPO_ROOT, 'test/fixtures/points-shop');
/** Debian's interpreter: the one with Django 3.2 and gunicorn. */
export const DEBIAN_PYTHON = '/usr/bin/python3';
export const POINTS_TOKEN = 'points-shop-token';

/** The environment a shop process runs with (the client and the app importable, its own ledger and modes cache). */
export function shopEnv(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: `${SHOP_DIR}:${path.join(REPO_ROOT, 'clients/python')}`,
    PYTHONDONTWRITEBYTECODE: '1',
    SHOP_LEDGER: path.join(dir, 'local-ledger'),
    STRANGLER_POINTS_TOKEN: POINTS_TOKEN,
    STRANGLER_MODES_CACHE: path.join(dir, 'modes-cache'),
    ...extra,
  };
}

/** Lines of a ledger file (none when it does not exist). */
export function ledger(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

export interface Child {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawn and resolve once a line of its output matches `ready` (group 1: the port). */
function startListening(cmd: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<Child> {
  const child = spawn(cmd, args, { cwd: SHOP_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start: ${out}`)), 15_000);
    const onData = (c: Buffer) => {
      out += c;
      const m = ready.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: `http://127.0.0.1:${m[1]}`,
        child,
        output: () => out,
        stop: (signal = 'SIGTERM') =>
          new Promise((r) => {
            if (child.exitCode !== null || child.signalCode !== null) return r();
            const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
            child.once('exit', () => {
              clearTimeout(kill);
              r();
            });
            child.kill(signal);
          }),
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited ${code}: ${out}`));
    });
  });
}

/** The extracted payments service, writing `ledgerFile`. */
export function startPaymentsService(ledgerFile: string, dir: string, flags: string[] = []): Promise<Child> {
  return startListening(
    DEBIAN_PYTHON,
    ['payments_service.py', '--ledger', ledgerFile, ...flags],
    shopEnv(dir),
    /listening (\d+)/,
  );
}

/** The Django shop under gunicorn (sync workers). */
export function startGunicorn(dir: string, env: Record<string, string>, workers = 3): Promise<Child> {
  return startListening(
    DEBIAN_PYTHON,
    ['-m', 'gunicorn', '--bind', '127.0.0.1:0', '--workers', String(workers), 'shop.wsgi:application'],
    shopEnv(dir, env),
    /Listening at: http:\/\/127\.0\.0\.1:(\d+)/,
  );
}

/** Run a Python snippet in a fresh process importing the shop; resolves with its stdout (rejects on a non-zero exit). */
export function runShopPython(
  dir: string,
  code: string,
  argv: string[] = [],
  env: Record<string, string> = {},
) {
  return new Promise<{ out: string; err: string }>((resolve, reject) => {
    execFile(
      DEBIAN_PYTHON,
      ['-c', code, ...argv],
      { cwd: SHOP_DIR, env: shopEnv(dir, env), timeout: 30_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ out: stdout, err: stderr }),
    );
  });
}

/** `strangler serve` with the two payment points in `service` mode, in front of `serviceUrl` (a short drain unless `extra` sets one). */
export function servePayments(dir: string, serviceUrl: string, extra = ''): Promise<Served> {
  const config = writeConfig(
    dir,
    `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:state.db
legacy: { url: ${serviceUrl} }
services:
  payments: { url: ${serviceUrl} }
proxy: { pollIntervalMs: 100 }
routes:
  - id: payments-charge
    kind: function
    path: /internal/charge
    service: payments
    mode: service
    idempotent: false
  - id: pricing-quote
    kind: function
    path: /internal/quote
    service: payments
    mode: service
    idempotent: true
    failover: { timeoutMs: 1000 }
${extra.includes('drain:') ? '' : 'drain: { delay: 100ms, timeout: 5s }\n'}${extra}`,
  );
  return startServe(config, { STRANGLER_POINTS_TOKEN: POINTS_TOKEN });
}
