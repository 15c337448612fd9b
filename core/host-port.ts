/**
 * `HOST:PORT` listen addresses (`127.0.0.1:8080`, `[::1]:0`, `localhost:9901`):
 * one parser for `serve`'s checks, the proxy's listener, the load test's base
 * URL and the Kubernetes export's ports, and one way back to a URL's host.
 */
import { StranglerError } from './errors.js';

/**
 * Split a listen address; the host comes back without IPv6 brackets. Throws
 * STRANGLER_E_LISTEN naming `field` (`--listen`, `strangler.yaml: listen`).
 */
export function parseHostPort(hostPort: string, field: string): { host: string; port: number } {
  const m = /^\[?([^\]]+)\]?:(\d+)$/.exec(hostPort);
  if (!m || Number(m[2]) > 65_535)
    throw new StranglerError(
      'STRANGLER_E_LISTEN',
      `${field}: "${hostPort}" is not HOST:PORT (e.g. 127.0.0.1:8080; port 0 picks a free port)`,
      { details: { field, value: hostPort } },
    );
  return { host: m[1], port: Number(m[2]) };
}

/** A host as it stands in a URL: an IPv6 address in brackets (RFC 3986 §3.2.2). */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Where a client reaches a listener bound to `host`: a wildcard bind (0.0.0.0, ::) through loopback. */
export function reachableHost(host: string): string {
  return host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
}
