/** Options of `strangler serve`, shared by the single-process and the --workers paths. */
import type { Config } from '../core/config.js';
import { StranglerError } from '../core/errors.js';
import { parseHostPort } from '../core/host-port.js';

export interface ServeOptions {
  config?: string;
  /** Override config.listen / config.admin.listen (HOST:PORT; port 0 allowed). */
  listen?: string;
  adminListen?: string;
  /** Resolves when the server should stop; defaults to SIGINT/SIGTERM. */
  stop?: Promise<string>;
  /** Run N worker processes sharing the listener (node:cluster). */
  workers?: number;
  /** Called once everything listens (tests read the ports from it). */
  onReady?: (info: ServeInfo) => void;
}

export interface ServeInfo {
  proxyUrl: string;
  adminUrl: string;
  config: Readonly<Config>;
}

/** An address `serve` listens on, with where it came from (`--listen` or the config field) for messages. */
export interface ListenAddress {
  hostPort: string;
  field: string;
}

/** The proxy and admin addresses: the options win over the config; both checked before anything starts. */
export function serveAddresses(
  config: Readonly<Config>,
  opts: Pick<ServeOptions, 'listen' | 'adminListen'>,
  configFile: string,
): { listen: ListenAddress; admin: ListenAddress } {
  const listen = opts.listen
    ? { hostPort: opts.listen, field: '--listen' }
    : { hostPort: config.listen, field: `${configFile}: listen` };
  const admin = opts.adminListen
    ? { hostPort: opts.adminListen, field: '--admin-listen' }
    : { hostPort: config.admin.listen, field: `${configFile}: admin.listen` };
  splitHostPort(listen);
  splitHostPort(admin);
  return { listen, admin };
}

export function splitHostPort(addr: ListenAddress): { host: string; port: number } {
  return parseHostPort(addr.hostPort, addr.field);
}

/** Why listen() failed, for the errors a user can fix; anything else stays a bug report. */
const LISTEN_FAILURES: Record<string, string> = {
  EADDRINUSE: 'the port is already in use (stop what listens there, or pick another port)',
  EACCES: 'permission denied (ports below 1024 need privileges; pick a port of 1024 or above)',
  EADDRNOTAVAIL: 'the host is not an address of this machine',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve (DNS did not answer)',
};

/** Run a listener's start and turn a failed listen() into STRANGLER_E_LISTEN naming the address and the fix. */
export async function listenOn<T>(addr: ListenAddress, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    const reason = LISTEN_FAILURES[(err as NodeJS.ErrnoException)?.code ?? ''];
    if (!reason) throw err;
    throw new StranglerError(
      'STRANGLER_E_LISTEN',
      `${addr.field}: cannot listen on ${addr.hostPort}: ${reason}`,
      {
        cause: err,
        details: { field: addr.field, value: addr.hostPort, errno: (err as NodeJS.ErrnoException).code },
      },
    );
  }
}
