/**
 * Start and stop the demo apps as child processes, for the end-to-end tests and
 * the demo script. Each app prints `LISTENING <port>` once it accepts
 * connections, so everything runs on port 0 and reads the real port back.
 *
 *   const legacy = await startMonolith();
 *   const service = await startBlockService({ dbPath: legacy.dbPath });
 *   ...
 *   await service.stop(); await legacy.stop();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { reachableHost, urlHost } from '../core/host-port.js';

/** The repository root, found from this file whether it runs from source or from dist/. */
export const REPO_ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));
/** The compiled block-service entry (`npm run build` writes it). */
export const BLOCK_SERVICE_ENTRY = path.join(REPO_ROOT, 'dist/examples/services/block-service/server.js');
/** The Python interpreter; STRANGLER_PYTHON overrides. */
export const PYTHON = process.env.STRANGLER_PYTHON ?? 'python3';

const STOP_GRACE_MS = 3000;
const STDERR_KEEP_BYTES = 8192;

export interface RunningApp {
  /** http://HOST:PORT, no trailing slash. */
  url: string;
  port: number;
  process: ChildProcess;
  /** The SQLite file the app serves. */
  dbPath: string;
  /** The last few KB the child wrote to stderr. */
  stderr(): string;
  /** SIGTERM, then SIGKILL after 3 s; resolves once the child has exited. Safe to call twice. */
  stop(): Promise<void>;
}

export interface MonolithOptions {
  /** SQLite file; created and seeded if missing. Default: a fresh file in a temp dir, removed on stop(). */
  dbPath?: string;
  /** Default 0: a free port. */
  port?: number;
  host?: string;
  accessLog?: boolean;
  /** How long to wait for LISTENING. Default 15 s. */
  timeoutMs?: number;
  /**
   * Extra environment, e.g. the extraction points' STRANGLER_URL (or
   * STRANGLER_URL_FILE, when the proxy starts after the monolith) and
   * STRANGLER_POINTS_TOKEN.
   */
  env?: Record<string, string>;
}

export interface BlockServiceOptions {
  /** The monolith's SQLite file (it must exist: start the monolith or call seedDemoDb first). */
  dbPath: string;
  port?: number;
  host?: string;
  /** Fraction 0..1 of /api/block requests answered 500. */
  failRate?: number;
  /** Seed for the failure draw (default 1). */
  seed?: number;
  /** Delay added to every /api/block answer. */
  latencyMs?: number;
  /** Add "served_by" and answer count/blocked differently (see examples/README.md). */
  differ?: boolean;
  /** One stderr line per request (`block-service: POST /internal/block-check 200 t=EPOCH_MS`). */
  accessLog?: boolean;
  timeoutMs?: number;
}

function findRoot(from: string): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

/** Create and seed the monolith's SQLite file without starting the server. */
export function seedDemoDb(dbPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-m', 'monolith.server', '--init-only', '--db', path.resolve(dbPath)], {
      cwd: path.join(REPO_ROOT, 'examples'),
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => {
      err = (err + c.toString()).slice(-STDERR_KEEP_BYTES);
    });
    child.on('error', (e) => reject(new Error(`cannot run ${PYTHON}: ${e.message}`, { cause: e })));
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`seeding ${dbPath} failed (exit ${code}):\n${err}`)),
    );
  });
}

/** Start the Python monolith (`python3 -m monolith.server` in examples/). */
export async function startMonolith(options: MonolithOptions = {}): Promise<RunningApp> {
  let tempDir: string | undefined;
  let dbPath = options.dbPath;
  if (!dbPath) {
    tempDir = mkdtempSync(path.join(os.tmpdir(), 'strangler-monolith-'));
    dbPath = path.join(tempDir, 'monolith.db');
  }
  const host = options.host ?? '127.0.0.1';
  const args = ['-m', 'monolith.server', '--host', host, '--port', String(options.port ?? 0)];
  args.push('--db', path.resolve(dbPath));
  if (options.accessLog) args.push('--access-log');
  try {
    const app = await launch('monolith', PYTHON, args, {
      cwd: path.join(REPO_ROOT, 'examples'),
      host,
      dbPath: path.resolve(dbPath),
      timeoutMs: options.timeoutMs ?? 15_000,
      env: { PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', ...options.env },
    });
    if (!tempDir) return app;
    const stop = app.stop;
    return {
      ...app,
      stop: async () => {
        await stop();
        rmSync(tempDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    throw err;
  }
}

/** Start the compiled TypeScript block-service on the monolith's database. */
export function startBlockService(options: BlockServiceOptions): Promise<RunningApp> {
  if (!existsSync(BLOCK_SERVICE_ENTRY))
    return Promise.reject(
      new Error(`block-service is not built: ${BLOCK_SERVICE_ENTRY} is missing; run \`npm run build\` first`),
    );
  const host = options.host ?? '127.0.0.1';
  const args = [BLOCK_SERVICE_ENTRY, '--host', host, '--port', String(options.port ?? 0)];
  args.push('--db', path.resolve(options.dbPath));
  if (options.failRate !== undefined) args.push('--fail-rate', String(options.failRate));
  if (options.seed !== undefined) args.push('--seed', String(options.seed));
  if (options.latencyMs !== undefined) args.push('--latency-ms', String(options.latencyMs));
  if (options.differ) args.push('--differ');
  if (options.accessLog) args.push('--access-log');
  return launch('block-service', process.execPath, args, {
    cwd: REPO_ROOT,
    host,
    dbPath: path.resolve(options.dbPath),
    timeoutMs: options.timeoutMs ?? 15_000,
    env: {},
  });
}

interface LaunchOptions {
  cwd: string;
  host: string;
  dbPath: string;
  timeoutMs: number;
  env: Record<string, string>;
}

function launch(name: string, command: string, args: string[], o: LaunchOptions): Promise<RunningApp> {
  const child = spawn(command, args, {
    cwd: o.cwd,
    env: { ...process.env, ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-STDERR_KEEP_BYTES);
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
  const describe = () => `${command} ${args.join(' ')} (cwd ${o.cwd})`;

  return new Promise<RunningApp>((resolve, reject) => {
    let stdoutBuf = '';
    let settled = false;
    const fail = (why: string, cause?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop();
      reject(
        new Error(`${name} ${why}\n  command: ${describe()}\n  stderr:\n${stderr || '(empty)'}`, { cause }),
      );
    };
    const timer = setTimeout(() => fail(`did not print LISTENING within ${o.timeoutMs} ms`), o.timeoutMs);
    child.on('error', (err) => fail(`could not start: ${err.message}`, err));
    child.on('exit', (code, signal) => fail(`exited (${signal ?? `code ${code}`}) before listening`));
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      // Keep reading after LISTENING so a chatty child never blocks on a full pipe.
      if (settled) return;
      stdoutBuf += chunk;
      const m = /^LISTENING (\d+)$/m.exec(stdoutBuf);
      if (!m) return;
      settled = true;
      clearTimeout(timer);
      const port = Number(m[1]);
      resolve({
        url: `http://${urlHost(reachableHost(o.host))}:${port}`,
        port,
        process: child,
        dbPath: o.dbPath,
        stderr: () => stderr,
        stop,
      });
    });
  });
}
