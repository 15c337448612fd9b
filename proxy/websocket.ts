/**
 * WebSocket (and any HTTP/1.1 Upgrade) pass-through with http-proxy, to the
 * side chosen for the route like any other request. http-proxy re-emits
 * socket errors on its own emitter and, with no listener, the process dies on
 * the first ECONNREFUSED — so the listener below is not optional.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import type { Logger } from '../core/log.js';

export interface UpgradeProxy {
  /** Tunnel an upgrade request to `origin`. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, origin: string): void;
  close(): void;
}

export function createUpgradeProxy(logger: Logger): UpgradeProxy {
  const proxy = httpProxy.createProxyServer({ ws: true, xfwd: true });
  const sockets = new Set<Duplex>();
  proxy.on('error', (err, req, target) => {
    logger.warn({ err, url: req?.url }, 'upgrade proxy error');
    // `target` is the client socket for ws errors (a ServerResponse for web ones).
    const sock = target as unknown as Duplex | undefined;
    if (sock && typeof sock.destroy === 'function') sock.destroy();
  });
  return {
    upgrade(req, socket, head, origin) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      // A client that resets before the upstream answers must not be an unhandled error.
      socket.on('error', () => socket.destroy());
      proxy.ws(req, socket, head, { target: origin });
    },
    close() {
      for (const s of sockets) s.destroy();
      proxy.close();
    },
  };
}
