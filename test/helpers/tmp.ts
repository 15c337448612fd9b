import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A temp dir removed by the returned cleanup. */
export function tempDir(prefix = 'strangler-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A minimal valid config (YAML text) with one `block` route, pointing at the given upstreams. */
export function demoConfigYaml(opts: {
  store: string;
  legacy?: string;
  service?: string;
  listen?: string;
  admin?: string;
  extraRoute?: string;
}): string {
  return `listen: ${opts.listen ?? '127.0.0.1:0'}
admin: { listen: ${opts.admin ?? '127.0.0.1:0'} }
store: ${opts.store}
legacy: { url: ${opts.legacy ?? 'http://127.0.0.1:1'} }
services:
  block-service: { url: ${opts.service ?? 'http://127.0.0.1:2'} }
routes:
  - id: block
    match: { path: /api/block/*, methods: [GET, POST, DELETE] }
    service: block-service
    module: monolith.block
    mode: legacy
${opts.extraRoute ?? ''}`;
}

export function writeConfig(dir: string, yaml: string, name = 'strangler.yaml'): string {
  const file = path.join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

/** CliIO capturing output, for in-process run(argv, io); `tty` marks streams as terminals. */
export function captureIO(
  cwd: string,
  env: NodeJS.ProcessEnv = {},
  tty: { stdout?: boolean; stderr?: boolean } = {},
) {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: {
        write: (s: string) => {
          out += s;
          return true;
        },
        isTTY: tty.stdout,
      },
      stderr: {
        write: (s: string) => {
          err += s;
          return true;
        },
        isTTY: tty.stderr,
      },
      env: { ...env },
      cwd,
    },
    out: () => out,
    err: () => err,
  };
}

/** `strangler ARGV` run in-process in `cwd`: exit code and captured output. */
export async function runCli(
  cwd: string,
  env: NodeJS.ProcessEnv,
  argv: string[],
): Promise<{ code: number; out: string; err: string }> {
  const { run } = await import('../../cli/main.js');
  const c = captureIO(cwd, env);
  const code = await run(argv, c.io);
  return { code, out: c.out(), err: c.err() };
}
