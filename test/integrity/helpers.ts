/** Real `strangler` processes for the store-integrity tests. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import path from 'node:path';

export const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');

export interface Served {
  child: ChildProcess;
  proxy: string;
  admin: string;
  out(): string;
  err(): string;
  stop(): Promise<number | null>;
}

/** `strangler serve` as a user runs it; resolves once it prints its addresses. */
export function startServe(config: string, env: NodeJS.ProcessEnv = {}, extra: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config, ...extra], {
    env: { ...process.env, STRANGLER_ADMIN_TOKEN: 'integrity-test-admin-token', STRANGLER_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c) => (err += c));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /proxy (http:\/\/\S+)\s+admin (http:\/\/\S+)/.exec(out);
      if (m)
        resolve({
          child,
          proxy: m[1],
          admin: m[2],
          out: () => out,
          err: () => err,
          stop: () =>
            new Promise((r) => {
              if (child.exitCode !== null || child.signalCode !== null) return r(child.exitCode);
              child.once('exit', (code) => r(code));
              child.kill('SIGTERM');
            }),
        });
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}\n${err}`)));
  });
}

/** One CLI command as a child process: exit code, output and how long it took. */
export function cli(config: string, argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...argv, '--config', config],
      { env: { ...process.env, STRANGLER_LOG_LEVEL: 'silent', STRANGLER_ACTOR: 'tester', ...env } },
      (error, stdout, stderr) => {
        const code = error ? ((error as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, out: stdout, err: stderr, ms: Date.now() - t0 });
      },
    );
  });
}

/** Which side served a request through the proxy. */
export async function servedBy(proxy: string, pathname = '/api/block/1'): Promise<string | null> {
  const res = await fetch(`${proxy}${pathname}`);
  await res.arrayBuffer();
  return res.headers.get('x-strangler-target');
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
