/** `strangler ARGV` as a user runs it: bin/strangler.js in a child process (needs `npm run build`). */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import path from 'node:path';

export const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');

export interface BinRun {
  /** The exit code; null when a signal ended it. */
  code: number | null;
  out: string;
  err: string;
}

export function runBin(
  argv: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<BinRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...argv],
      {
        cwd: opts.cwd,
        env: opts.env ?? { ...process.env, STRANGLER_LOG_LEVEL: 'silent', STRANGLER_ADMIN_TOKEN: '' },
        timeout: opts.timeoutMs ?? 30_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, out: stdout, err: stderr }),
    );
  });
}

export interface Served {
  child: ChildProcess;
  proxy: string;
  admin: string;
  out(): string;
  err(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * `strangler serve --config FILE [extra]` as a user runs it (bin/strangler.js in a child process); resolves once it
 * prints its proxy and admin addresses, rejects if it exits first. `env` adds to this process's environment
 * (log level `warn` unless given).
 */
export function startServe(
  config: string,
  env: NodeJS.ProcessEnv = {},
  extra: string[] = [],
): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config, ...extra], {
    env: { ...process.env, STRANGLER_LOG_LEVEL: 'warn', ...env },
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
