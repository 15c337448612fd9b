/** Real `strangler` processes for the store-integrity tests. */
import { execFile } from 'node:child_process';
import { BIN, type Served, startServe as startServeProcess } from '../helpers/bin.js';

export { BIN, type Served };

/** `strangler serve` with the integrity tests' admin token and info logs (they read the log lines). */
export function startServe(
  config: string,
  env: NodeJS.ProcessEnv = {},
  extra: string[] = [],
): Promise<Served> {
  return startServeProcess(
    config,
    { STRANGLER_ADMIN_TOKEN: 'integrity-test-admin-token', STRANGLER_LOG_LEVEL: 'info', ...env },
    extra,
  );
}

/** One CLI command as a child process: exit code, output and how long it took. */
export function cli(
  config: string,
  argv: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string; err: string; ms: number }> {
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

export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  ms: number,
): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The integrity tests' config: one route `block` (`/api/block/*`) to block-service, both sides on `upstream`. */
export function oneRouteConfig(o: { store: string; upstream: string; mode: 'legacy' | 'service' }): string {
  return `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: ${o.store}
legacy: { url: ${o.upstream} }
services:
  block-service: { url: ${o.upstream} }
proxy: { pollIntervalMs: 100 }
routes:
  - id: block
    match: { path: /api/block/* }
    service: block-service
    mode: ${o.mode}
`;
}
