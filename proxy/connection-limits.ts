/**
 * The data-plane listener's limits (issue 12): a cap on open client
 * connections below the process's file-descriptor limit, so a flood of idle
 * sockets can never take the descriptors the admin listener, the store and
 * the upstream pools need; and the header / keep-alive timeouts that cut
 * slowloris clients (documented in docs/routing.md and docs/config.md).
 *
 * Over the cap Node closes new connections at once (`server.maxConnections`)
 * and emits 'drop': counted in strangler_connections_dropped_total, and
 * logged once per saturation episode rather than per connection.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';

/** A new warning after this long at the cap (one per episode, not per connection). */
const WARN_AGAIN_MS = 60_000;
/** Node checks header/request timeouts of open connections this often. */
export const CONNECTIONS_CHECK_MS = 5_000;

/** The soft limit on open files (Linux /proc), or undefined where it cannot be read. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** `proxy.maxConnections`, or three quarters of the fd limit (1024 assumed where unknown). */
export function connectionCap(configured: number, fdLimit = openFileLimit()): number {
  if (configured > 0) return configured;
  return Math.max(64, Math.floor((fdLimit ?? 1024) * 0.75));
}

/**
 * Stream buffer size of every client connection (read and write), as Node 20
 * has it by default. Node 22 raised the default to 64 KiB, and a request whose
 * body waits unread (request-body.ts) then pulls a second 64 KiB socket read
 * behind its first: 1,600 parked 1 MiB uploads took Node 24.21's proxy to
 * 291 MB RSS (Node 20: 233 MB; bench/edge.ts parked).
 */
export const CLIENT_HIGH_WATER_MARK = 16 * 1024;

/** node:http server options for client connections: the client-side timeouts and the buffer size. */
export function clientConnectionOptions(proxy: Readonly<Config['proxy']>) {
  return {
    highWaterMark: CLIENT_HIGH_WATER_MARK,
    headersTimeout: proxy.headersTimeoutMs,
    // Node requires requestTimeout >= headersTimeout; bodies have their own watchdog (request-body.ts).
    requestTimeout: Math.max(300_000, proxy.headersTimeoutMs),
    keepAliveTimeout: proxy.clientKeepAliveTimeoutMs,
    connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
  };
}

/** Apply the connection cap to `server`, with its metric and its one warning. */
export function limitConnections(server: Server, cap: number, registry: Registry, logger: Logger): void {
  server.maxConnections = cap;
  const dropped = new Counter({
    name: 'strangler_connections_dropped_total',
    help: 'Client connections closed at once because the data-plane listener was at proxy.maxConnections.',
    registers: [registry],
  });
  new Gauge({
    name: 'strangler_connections_max',
    help: 'The data-plane listener connection cap (proxy.maxConnections, or 3/4 of the fd limit).',
    registers: [registry],
  }).set(cap);
  let warnedAt = Number.NEGATIVE_INFINITY;
  server.on('drop', () => {
    dropped.inc();
    const now = Date.now();
    if (now - warnedAt < WARN_AGAIN_MS) return;
    warnedAt = now;
    logger.warn(
      { maxConnections: cap },
      'connection cap reached: new client connections are being closed (see strangler_connections_dropped_total)',
    );
  });
}
