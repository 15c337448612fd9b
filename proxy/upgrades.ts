/**
 * Upgrades at the listener: CONNECT is refused, a WebSocket upgrade is
 * admitted like a request (same edge rules, route match and target choice)
 * and tunnelled (proxy/websocket.ts), any other upgrade is plain HTTP.
 */
import type { IncomingMessage, Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { awaitUpgradeTurn } from './client-connection.js';
import { nextTraceparent, requestIdOf } from './context.js';
import { admit, EdgeRefusal, refuseOnSocket } from './edge-rules.js';
import { upstreamRequestHeaders } from './headers.js';
import { type Outcome, statusOutcome, UNMATCHED } from './metrics.js';
import { isPointsUrl } from './points.js';
import { type Pipeline, targetOf } from './pipeline.js';
import { isWebSocketUpgrade, serveAsPlainHttp, type UpgradeProxy } from './websocket.js';

/** CONNECT is refused; a WebSocket upgrade is admitted like a request and tunnelled; any other upgrade is plain HTTP. */
export function serveUpgrades(server: Server, pipeline: Pipeline, upgrades: UpgradeProxy): void {
  const logger = pipeline.logger;
  // CONNECT asks for a tunnel to anywhere: not this proxy's job (RFC 9110 §9.3.6).
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    refuseOnSocket(socket, new EdgeRefusal('STRANGLER_E_METHOD_NOT_ALLOWED', 'CONNECT is not supported'));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    awaitUpgradeTurn(socket, () => upgrade(req, socket, head)),
  );
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // h2c, TLS upgrades, bodies with Upgrade: served as ordinary HTTP/1.1 (websocket.ts).
    if (!isWebSocketUpgrade(req)) {
      serveAsPlainHttp(server, req, socket, head);
      return;
    }
    const admission = admit(req, pipeline.edge.paths);
    if (admission.kind !== 'forward') {
      refuseOnSocket(
        socket,
        admission.kind === 'refuse'
          ? admission.refusal
          : new EdgeRefusal('STRANGLER_E_BAD_REQUEST', 'upgrade of "*"'),
      );
      return;
    }
    // The points' reserved prefix is the proxy's own on an upgrade too: never
    // tunnelled to legacy (with the points token in its Authorization).
    if (isPointsUrl(req.url)) {
      refuseOnSocket(
        socket,
        new EdgeRefusal('STRANGLER_E_BAD_REQUEST', 'extraction-point endpoints do not upgrade'),
      );
      return;
    }
    try {
      upgradeRequest(pipeline, req, socket, head, admission.authority, upgrades);
    } catch (err) {
      logger.error({ err }, 'upgrade failed');
      socket.destroy();
    }
  };
}

/**
 * A WebSocket upgrade, admitted (canonical target) by the caller: the same
 * route match, target choice, request headers and metrics as a plain
 * request, then a tunnel. No failover: a tunnel cannot be replayed.
 */
function upgradeRequest(
  pipeline: Pipeline,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  authority: string | undefined,
  upgrades: UpgradeProxy,
): void {
  const startedAt = performance.now();
  const requestId = requestIdOf(req);
  const tp = req.headers.traceparent;
  const traceparent = nextTraceparent(typeof tp === 'string' ? tp : undefined);
  let headers: string[];
  try {
    headers = upstreamRequestHeaders(req, requestId, traceparent, authority);
  } catch (err) {
    refuseOnSocket(socket, new EdgeRefusal('STRANGLER_E_BAD_REQUEST', (err as Error).message));
    return;
  }
  const entry = pipeline.match(req);
  const target = targetOf(entry, req);
  const upstream =
    target === 'service' && entry
      ? pipeline.upstreams.service(entry.config.service)
      : pipeline.upstreams.legacy;
  const routeId = entry ? entry.config.id : UNMATCHED;
  const extra = {
    'x-strangler-route': routeId,
    'x-strangler-target': target,
    'x-request-id': requestId,
    traceparent,
  };
  upgrades.upgrade(req, socket, head, upstream.pickOrigin(), headers, extra, (r) => {
    const outcome: Outcome = r.failed
      ? 'error'
      : r.status === undefined
        ? 'aborted'
        : statusOutcome(r.status);
    pipeline.metrics.observe(routeId, target, outcome, (performance.now() - startedAt) / 1000);
  });
}
