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

/** CliIO capturing output, for in-process run(argv, io). */
export function captureIO(cwd: string, env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: {
        write: (s: string) => {
          out += s;
          return true;
        },
      },
      stderr: {
        write: (s: string) => {
          err += s;
          return true;
        },
      },
      env: { ...env },
      cwd,
    },
    out: () => out,
    err: () => err,
  };
}
