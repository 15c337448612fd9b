/**
 * The edge: what the proxy refuses or rewrites before a request is routed.
 * `admit()` runs once per request (plain and upgrade alike) and either
 * refuses it — nothing is forwarded — or rewrites `req.url` to the canonical
 * request target (proxy/canonical.ts), so every later stage, every upstream
 * and every shadow copy see one spelling only.
 *
 * Node's parser (llhttp) already refuses the worst framing (CL with TE, two
 * TE fields, obs-fold, bad chunks); these are the rules it leaves to us.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ErrorCode, StranglerError } from '../core/errors.js';
import { canonicalTarget, isValidHost, type PathOptions } from './canonical.js';
import type { RouteEntry } from './types.js';

/** A request the edge will not forward: a StranglerError, so code and status come from the error registry. */
export class EdgeRefusal extends StranglerError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = 'EdgeRefusal';
  }
}

export type Admission =
  | {
      kind: 'forward' /** absolute-form authority: the Host to send upstream */;
      authority: string | undefined;
    }
  /** `OPTIONS *` (RFC 9110 §9.3.7): about the server, not a resource; answered here. */
  | { kind: 'asterisk' }
  | { kind: 'refuse'; refusal: EdgeRefusal };

/**
 * Check framing and headers, then make the target canonical (rewriting
 * `req.url`). The original target is kept in `rawUrl` of the result's
 * request for logs: `(req as EdgeRequest).rawUrl`.
 */
export function admit(req: IncomingMessage, paths: PathOptions): Admission {
  const framing = checkFraming(req);
  if (framing) return { kind: 'refuse', refusal: framing };
  const target = req.url ?? '/';
  if (target === '*') {
    if (req.method === 'OPTIONS') return { kind: 'asterisk' };
    return refuse('STRANGLER_E_BAD_REQUEST', `"*" is a request target for OPTIONS only, not ${req.method}`);
  }
  const canon = canonicalTarget(target, paths);
  if (!canon.ok) return refuse('STRANGLER_E_BAD_REQUEST', canon.reason);
  if (canon.url !== target) {
    (req as EdgeRequest).rawUrl = target;
    req.url = canon.url;
  }
  return { kind: 'forward', authority: canon.authority };
}

/** A request whose target admit() rewrote keeps what the client sent. */
export type EdgeRequest = IncomingMessage & { rawUrl?: string };

function refuse(code: ErrorCode, message: string): Admission {
  return { kind: 'refuse', refusal: new EdgeRefusal(code, message) };
}

/** The framing and header rules, in the order a reader of RFC 9112 meets them. */
export function checkFraming(req: IncomingMessage): EdgeRefusal | undefined {
  // RFC 9112 §2.3: this listener speaks HTTP/1.x; `HTTP/2.0` on an HTTP/1
  // request line is a version we do not support (RFC 9110 §15.6.6).
  if (req.httpVersionMajor !== 1)
    return new EdgeRefusal(
      'STRANGLER_E_HTTP_VERSION',
      `HTTP/${req.httpVersion} is not supported on this listener`,
    );
  const raw = req.rawHeaders;
  let hosts = 0;
  let host: string | undefined;
  let codings: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 4 && name.toLowerCase() === 'host') {
      hosts++;
      host = raw[i + 1];
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      codings = codings === undefined ? raw[i + 1] : `${codings},${raw[i + 1]}`;
    }
  }
  if (codings !== undefined) {
    // RFC 9112 §6.1: a server MAY reject TE in an HTTP/1.0 request; a 1.0
    // upstream behind us could frame the body differently, so we do.
    if (req.httpVersionMinor === 0)
      return new EdgeRefusal('STRANGLER_E_BAD_REQUEST', 'Transfer-Encoding in an HTTP/1.0 request');
    // RFC 9112 §6.1: a server that does not understand a coding answers 501.
    // Anything but plain `chunked` (gzip, identity, ...) would otherwise be
    // de-chunked here and reach the upstream as if it were the plain body.
    if (codings.trim().toLowerCase() !== 'chunked')
      return new EdgeRefusal(
        'STRANGLER_E_NOT_IMPLEMENTED',
        `Transfer-Encoding "${codings}" is not supported`,
      );
  }
  // RFC 9112 §3.2: more than one Host, or an invalid one → 400. A proxy that
  // picked one could route on a host the upstream never sees.
  if (hosts > 1) return new EdgeRefusal('STRANGLER_E_BAD_REQUEST', 'more than one Host header');
  if (host !== undefined && !isValidHost(host))
    return new EdgeRefusal('STRANGLER_E_BAD_REQUEST', 'invalid Host header');
  return undefined;
}

/**
 * TRACE reflects the request (and its cookies) back: 405 unless the route
 * lists it in match.methods itself (RFC 9110 §9.3.8 lets a server refuse it).
 */
export function checkMethod(method: string, route: RouteEntry | undefined): EdgeRefusal | undefined {
  if (method !== 'TRACE' || route?.config.match.methods?.includes('TRACE')) return undefined;
  return new EdgeRefusal('STRANGLER_E_METHOD_NOT_ALLOWED', 'TRACE is not allowed on this route');
}

/** The JSON body of a refusal. */
export function refusalBody(code: ErrorCode, message: string, requestId: string | null): string {
  return JSON.stringify({ error: code, message, requestId });
}

/**
 * Answer a refused request and close the connection: its body was not read,
 * and after a framing refusal we cannot know where the next request starts.
 */
export function respondRefusal(
  res: ServerResponse,
  refusal: EdgeRefusal,
  extra?: Record<string, string>,
): void {
  const body = refusalBody(refusal.code, refusal.message, null);
  res.writeHead(refusal.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
    ...(refusal.status === 405 ? { allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS' } : {}),
    ...extra,
  });
  res.end(body);
}

/** The same answer on a raw socket (an upgrade request). */
export function refuseOnSocket(socket: Duplex, refusal: EdgeRefusal): void {
  const body = refusalBody(refusal.code, refusal.message, null);
  socket.on('error', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${refusal.status} ${statusText(refusal.status)}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};

function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}

/** `OPTIONS *`: the proxy's own answer (no upstream has a resource called `*`). */
export function answerAsterisk(res: ServerResponse, extra: Record<string, string>): void {
  res.writeHead(200, {
    allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
    'content-length': 0,
    ...extra,
  });
  res.end();
}
