/**
 * DNS-rebinding protection for what the console reads in a browser. A page on
 * evil.example can re-point its own name at 127.0.0.1 and then read a
 * loopback admin listener as "same origin" — the browser sends
 * `Host: evil.example:PORT`. When the listener is bound to loopback, only
 * loopback names are this listener's own, so any other Host is refused
 * (RFC 9110 §7.2: Host names the target; the approach of Jupyter's and
 * webpack-dev-server's host checks). A listener bound to another address was
 * exposed on purpose under names we cannot know: no check then.
 */
import type http from 'node:http';
import { isIP } from 'node:net';
import { StranglerError } from '../core/errors.js';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

function isLoopbackAddress(addr: string | undefined): boolean {
  if (!addr) return false;
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
}

/** The host part of a Host header value (`[::1]:9901` → `[::1]`, `localhost:9901` → `localhost`). */
function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return (colon >= 0 ? host.slice(0, colon) : host).toLowerCase();
}

/** Throws STRANGLER_E_BAD_REQUEST when a loopback listener is asked under a foreign name. */
export function checkAdminHost(req: http.IncomingMessage): void {
  if (!isLoopbackAddress(req.socket.localAddress)) return;
  const host = req.headers.host ?? '';
  const name = hostName(host);
  if (LOOPBACK_NAMES.has(name) || (isIP(name) === 4 && name.startsWith('127.'))) return;
  throw new StranglerError(
    'STRANGLER_E_BAD_REQUEST',
    `host: "${host}" is not a name of this loopback admin listener (refused against DNS rebinding; use 127.0.0.1 or localhost)`,
    { details: { field: 'host' } },
  );
}
