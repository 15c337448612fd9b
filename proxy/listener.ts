/**
 * The listener's start and stop: where it listens, the drain (not ready,
 * Connection: close) and the graceful close that lets in-flight requests and
 * fresh connections finish before the pools close.
 */
import type { IncomingMessage, Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '../core/config.js';
import { parseHostPort } from '../core/host-port.js';
import type { Readiness } from './readiness.js';
import type { Pipeline } from './pipeline.js';
import type { UpgradeProxy } from './websocket.js';

export function parseListen(
  config: Readonly<Config>,
  override?: { host: string; port: number },
): { host: string; port: number } {
  if (override) return override;
  return parseHostPort(config.listen, 'listen');
}

/** How long a connection that sent nothing yet may still be sending its first request. */
const FRESH_CONNECTION_MS = 1000;

export interface FreshConnections {
  /** True once no connection accepted in the last FRESH_CONNECTION_MS is still without its first request. */
  settled(): boolean;
}

/**
 * Connections accepted that have not carried a request yet. Closing one as
 * idle while its client's first request is on the way resets that request,
 * and the client cannot know whether it ran; a stopping proxy waits (bounded)
 * until each has sent its request or stayed silent a while (issue 25).
 */
export function watchFreshConnections(server: Server): FreshConnections {
  const fresh = new Map<Duplex, number>();
  server.on('connection', (socket: Duplex) => {
    fresh.set(socket, Date.now());
    socket.once('close', () => fresh.delete(socket));
  });
  server.on('request', (req: IncomingMessage) => fresh.delete(req.socket));
  return {
    settled: () => {
      const now = Date.now();
      for (const [socket, at] of fresh) if (!socket.destroyed && now - at < FRESH_CONNECTION_MS) return false;
      return true;
    },
  };
}

/** ProxyServer.drain: not ready, every answer closes its connection; resolves after delayMs. */
export function drain(pipeline: Pipeline, readiness: Readiness, delayMs: number): Promise<void> {
  readiness.markDraining();
  pipeline.draining = true;
  pipeline.logger.info({ delayMs }, 'draining: not ready, answering with Connection: close');
  return new Promise<void>((resolve) => setTimeout(resolve, delayMs));
}

/** ProxyServer.close: stop accepting, let in-flight requests finish (up to graceMs), then every part in order. */
export async function closeProxy(
  server: Server,
  pipeline: Pipeline,
  readiness: Readiness,
  follower: { stop(): void },
  upgrades: UpgradeProxy,
  stallWatch: { stop(): void },
  graceMs: number,
  fresh: FreshConnections,
): Promise<void> {
  readiness.markDraining();
  readiness.close();
  pipeline.draining = true;
  follower.stop();
  // Upgraded sockets still count as the listener's connections: a tunnel
  // has no request boundary to finish at, so it is closed now.
  upgrades.close();
  // Held mode polls of extraction points would keep the drain waiting: answer them now.
  pipeline.points.close();
  const started = Date.now();
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  // Stop accepting, but keep the open connections for now: http's close()
  // would also close the idle ones at once, and a point client may be sending
  // its next call on one of them; that call would meet a reset and could not
  // know whether it ran (issue 25). Once no such connection may be reused:
  NetServer.prototype.close.call(server);
  // A connection accepted just before that may have its first request on the way.
  const until = started + graceMs;
  while (!(fresh.settled() && pipeline.points.settled()) && Date.now() < until)
    await new Promise((r) => setTimeout(r, 25));
  // Keep-alive sockets become idle as their in-flight requests finish;
  // close them as they do, and give up on stragglers after the grace.
  const sweep = setInterval(() => {
    server.closeIdleConnections();
    if (Date.now() - started > graceMs) server.closeAllConnections();
  }, 50);
  server.closeIdleConnections();
  await closed;
  clearInterval(sweep);
  // Now http's own close(): nothing is left to close, but it also stops the
  // server's connection-checking timer, which the net-level close above skipped.
  server.close();
  // Again: a kept-alive connection may have upgraded during the drain.
  upgrades.close();
  pipeline.failover.close();
  await pipeline.limits?.close();
  await pipeline.tracing?.close();
  stallWatch.stop();
  await pipeline.stats.close().catch((err) => pipeline.logger.warn({ err }, 'final stats flush failed'));
  await pipeline.upstreams.close();
}
