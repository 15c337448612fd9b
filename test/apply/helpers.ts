/** Real `strangler serve` processes and stand-in upstreams for the route-definition tests (issue 29). */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { BIN, type Served, startServe } from '../helpers/bin.js';
import { cli, until } from '../integrity/helpers.js';

export { BIN, cli, type Served, startServe, until };

export const ADMIN_TOKEN = 'apply-test-admin-token-0123456789';
export const SERVE_ENV = { STRANGLER_ADMIN_TOKEN: ADMIN_TOKEN, STRANGLER_LOG_LEVEL: 'info' };

/** Which upstream answered a GET through the proxy (the stand-ins say their name), and the route the proxy matched. */
export async function whoServes(
  proxy: string,
  pathname: string,
): Promise<{ by: string; route: string | null }> {
  const res = await fetch(`${proxy}${pathname}`);
  const body = (await res.json()) as { served_by: string };
  return { by: body.served_by, route: res.headers.get('x-strangler-route') };
}

/** Replace `from` with `to` in a config file, as an operator's edit. */
export function editConfig(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} does not contain ${from}`);
  writeFileSync(file, text.replace(from, to));
}

/** `strangler serve --workers N` as a child process; resolves once the primary prints its addresses. */
export function startWorkers(config: string, n: number, env: NodeJS.ProcessEnv = SERVE_ENV): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config, '--workers', String(n)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c) => (err += c));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /workers on (http:\/\/\S+)\s+admin (http:\/\/\S+)/.exec(out);
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
    child.once('exit', (code) => reject(new Error(`serve --workers exited ${code}: ${out}\n${err}`)));
  });
}
