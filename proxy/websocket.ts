/**
 * Upgrades (issue 12: "upgrades get the same pipeline as plain requests").
 *
 * A WebSocket upgrade (`GET` + `Upgrade: websocket`, no body) is tunnelled to
 * the side chosen for its route, with the headers every plain request gets:
 * the canonical target, hop-by-hop and Connection-named fields and `Proxy-*`
 * removed, X-Forwarded-*, x-request-id and traceparent set
 * (headers.ts upstreamRequestHeaders), then `Connection: upgrade` and
 * `Upgrade: websocket` put back for this one hop.
 *
 * Anything else that asks for an upgrade — `Upgrade: h2c` from plain
 * `curl --http2`, a TLS upgrade, a request with a body — is served as
 * ordinary HTTP/1.1 (RFC 9110 §7.8: a server may ignore Upgrade): its head is
 * written back, without Upgrade, in front of the bytes Node already read, and
 * the socket is handed to the HTTP server again (`'connection'`, the
 * documented way to inject a socket). Node's parser then frames it as it
 * frames every request, body included.
 *
 * Why not http-proxy (used here before): `proxy.ws()` forwards the client's
 * headers as they are (Connection-named fields, Proxy-*, no request id), and
 * adding our headers means mutating `req.headers`; the tunnel itself is a
 * few lines of node:http.
 */
import { request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { hasBody } from '../core/header-fields.js';
import type { Logger } from '../core/log.js';
import type { EdgeRequest } from './edge-rules.js';
import { clientResponseHead } from './headers.js';

export interface UpgradeTarget {
  origin: string;
  /** The base URL's path, put in front of the canonical target. */
  prefix: string;
}

export interface TunnelResult {
  /** The upstream's status: 101 for a tunnel, anything else was relayed as a plain answer. */
  status: number | undefined;
  /** True when the upstream could not be reached (answered 502 here). */
  failed: boolean;
}

export interface UpgradeProxy {
  /**
   * Tunnel a WebSocket upgrade to `target` with `headers` (a flat list from
   * upstreamRequestHeaders); `extra` goes on the answer to the client.
   */
  upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    target: UpgradeTarget,
    headers: string[],
    extra: Record<string, string>,
    done: (r: TunnelResult) => void,
  ): void;
  close(): void;
}

/** Whether an upgrade request is a WebSocket handshake we tunnel (else: served as plain HTTP/1.1). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  if (typeof upgrade !== 'string' || upgrade.trim().toLowerCase() !== 'websocket') return false;
  if (req.method !== 'GET') return false;
  return !hasBody(req.headers);
}

/**
 * Hand an upgrade request back to the HTTP server as a plain one: its head
 * without Upgrade (and without `upgrade` in Connection), then the bytes Node
 * read past the head. Header values are the ones llhttp already validated,
 * and CL/TE are kept as they were, so the reparse frames the body the same.
 */
export function serveAsPlainHttp(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const raw = req.rawHeaders;
  let text = `${req.method} ${(req as EdgeRequest).rawUrl ?? req.url} HTTP/${req.httpVersion}\r\n`;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name === 'upgrade') continue;
    if (name === 'connection') {
      const rest = raw[i + 1]
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t && t.toLowerCase() !== 'upgrade');
      if (rest.length > 0) text += `${raw[i]}: ${rest.join(', ')}\r\n`;
      continue;
    }
    text += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  text += '\r\n';
  const bytes = Buffer.from(text, 'latin1');
  socket.unshift(head.length > 0 ? Buffer.concat([bytes, head]) : bytes);
  server.emit('connection', socket as Socket);
}

export function createUpgradeProxy(logger: Logger): UpgradeProxy {
  const sockets = new Set<Duplex>();
  const track = (s: Duplex) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  return {
    upgrade(req, socket, head, target, headers, extra, done) {
      track(socket);
      const url = new URL(target.origin);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const out = send({
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        method: 'GET',
        path: target.prefix + (req.url ?? '/'),
        // A flat [name, value, ...] list, as rawHeaders: repeated fields stay apart.
        headers: [...headers, 'connection', 'upgrade', 'upgrade', 'websocket'],
        agent: false,
      });
      let settled = false;
      const finish = (r: TunnelResult) => {
        if (settled) return;
        settled = true;
        done(r);
      };
      socket.once('close', () => {
        out.destroy();
        finish({ status: undefined, failed: false });
      });
      out.on('upgrade', (res: IncomingMessage, upstream: Socket, upstreamHead: Buffer) => {
        track(upstream);
        if (socket.destroyed) {
          upstream.destroy();
          return;
        }
        // 101 keeps Connection/Upgrade (they are the point of this hop); the rest is filtered like any answer.
        const fields = clientResponseHead(
          res.rawHeaders.map((v) => Buffer.from(v, 'latin1')),
          extra,
        );
        let text = `HTTP/1.1 101 ${res.statusMessage || 'Switching Protocols'}\r\nconnection: upgrade\r\nupgrade: ${res.headers.upgrade ?? 'websocket'}\r\n`;
        for (let i = 0; i < fields.length; i += 2) text += `${fields[i]}: ${fields[i + 1]}\r\n`;
        socket.write(`${text}\r\n`);
        if (upstreamHead.length > 0) socket.write(upstreamHead);
        if (head.length > 0) upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
        upstream.once('close', () => socket.destroy());
        finish({ status: 101, failed: false });
      });
      out.on('response', (res: IncomingMessage) => {
        // The upstream declined the upgrade: relay its answer as a plain one, then close.
        const fields = clientResponseHead(
          res.rawHeaders.map((v) => Buffer.from(v, 'latin1')),
          { ...extra, connection: 'close' },
        );
        let text = `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}\r\n`;
        for (let i = 0; i < fields.length; i += 2) text += `${fields[i]}: ${fields[i + 1]}\r\n`;
        const body: Buffer[] = [];
        res.on('data', (c: Buffer) => body.push(c));
        res.on('end', () => {
          const b = Buffer.concat(body);
          socket.end(`${text}content-length: ${b.length}\r\n\r\n${b.toString('latin1')}`, 'latin1');
          finish({ status: res.statusCode, failed: false });
        });
        res.on('error', () => socket.destroy());
      });
      out.on('error', (err) => {
        logger.warn({ err, url: req.url }, 'upgrade: upstream failed');
        if (!socket.destroyed && socket.writable) {
          const payload = JSON.stringify({
            error: 'STRANGLER_E_UPSTREAM',
            message: `upgrade upstream: ${err.message}`,
            requestId: extra['x-request-id'] ?? null,
          });
          let text = 'HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json; charset=utf-8\r\n';
          for (const [k, v] of Object.entries(extra)) text += `${k}: ${v}\r\n`;
          socket.end(
            `${text}content-length: ${Buffer.byteLength(payload)}\r\nconnection: close\r\n\r\n${payload}`,
          );
        }
        finish({ status: 502, failed: true });
      });
      out.end();
    },
    close() {
      for (const s of sockets) s.destroy();
    },
  };
}
