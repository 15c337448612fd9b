/**
 * `HOST:PORT` listen addresses (`127.0.0.1:8080`, `[::1]:0`, `localhost:9901`):
 * one parser for `serve`'s checks, the proxy's listener, the load test's base
 * URL and the Kubernetes export's ports.
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
