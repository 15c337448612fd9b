/** `strangler ARGV` as a user runs it: bin/strangler.js in a child process (needs `npm run build`). */
import { execFile } from 'node:child_process';
import path from 'node:path';

export const BIN = path.resolve(import.meta.dirname, '../../bin/strangler.js');

export interface BinRun {
  /** The exit code; null when a signal ended it. */
  code: number | null;
  out: string;
  err: string;
}

export function runBin(argv: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<BinRun> {
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
