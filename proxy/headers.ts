/**
 * Header hygiene for both directions. Hop-by-hop headers and a client's
 * `x-strangler-*` fields are never forwarded (core/hop-by-hop.ts holds both rules). The sets are precomputed so the hot
 * path only does lookups.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { util as undiciUtil } from 'undici';
import { connectionTokens, isHopByHop, isProxyField, keepMessageFields } from '../core/hop-by-hop.js';
import { StranglerError } from '../core/errors.js';

/** Request headers never forwarded as-is besides the hop-by-hop ones (lowercase). */
const REQUEST_DROP = new Set([
  // Node answers `Expect: 100-continue` itself; undici refuses to send it.
  'expect',
  // Set by us below, from our own view of the exchange.
  'x-request-id',
  'traceparent',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-for',
]);

/** Thrown for requests the proxy refuses to forward (answered with 400). */
export class BadRequestHeaders extends StranglerError {
  constructor(message: string) {
    super('STRANGLER_E_BAD_REQUEST', message);
    this.name = 'BadRequestHeaders';
  }
}

/**
 * Headers for the upstream as a flat [name, value, ...] list built from the
 * raw headers in one pass (duplicates kept in order, names lowercased).
 * Throws BadRequestHeaders for two Host headers: RFC 9112 §3.2 says a server
 * MUST answer 400 to a request with more than one Host field, and a proxy that
 * picked one could be made to route on a host the upstream never sees.
 */
export function upstreamRequestHeaders(
  req: IncomingMessage,
  requestId: string,
  traceparent: string,
  /** From an absolute-form request target (proxy/edge-rules.ts admit). */
  authority?: string,
): string[] {
  const raw = req.rawHeaders;
  let named: Set<string> | undefined;
  let hosts = 0;
  let host = '';
  let xff = '';
  let hasTransferEncoding = false;
  // First pass: what Connection names, the Host count, the existing XFF.
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name === 'host') {
      hosts++;
      host = raw[i + 1];
    } else if (name === 'connection') {
      const v = raw[i + 1];
      // The common value names only a header dropped anyway: skip the parse (and the Set).
      if (v === 'keep-alive' || v === 'Keep-Alive') continue;
      named ??= new Set();
      connectionTokens(v, named);
    } else if (name === 'x-forwarded-for') {
      xff = xff ? `${xff}, ${raw[i + 1]}` : raw[i + 1];
    } else if (name === 'transfer-encoding') {
      hasTransferEncoding = true;
    }
  }
  if (hosts > 1) throw new BadRequestHeaders('more than one Host header');
  if (named) keepMessageFields(named);

  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (isHopByHop(name) || REQUEST_DROP.has(name) || named?.has(name) || isProxyField(name)) continue;
    // Transfer-Encoding wins over Content-Length (RFC 9112 §6.3): never send both.
    if (hasTransferEncoding && name === 'content-length') continue;
    // RFC 9112 §3.2.2: an absolute-form target's authority replaces Host.
    out.push(name, authority !== undefined && name === 'host' ? authority : raw[i + 1]);
  }
  if (authority !== undefined && !host) out.push('host', authority);
  const client = req.socket.remoteAddress ?? '';
  out.push(
    'x-forwarded-for',
    xff ? `${xff}, ${client}` : client,
    'x-forwarded-proto',
    (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
    'x-request-id',
    requestId,
    'traceparent',
    traceparent,
  );
  if (authority ?? host) out.push('x-forwarded-host', authority ?? host);
  return out;
}

/**
 * The client's response head for writeHead(): the upstream's raw head minus
 * hop-by-hop fields, as a flat [name, value, ...] list — no header object is
 * built, and repeated fields (Set-Cookie) stay separate and in order. Names
 * in `extra` replace the upstream's own. Must be given to a response with no
 * headers set beforehand: Node's writeHead merges a flat list into pre-set
 * headers with setHeader, which keeps only the last of repeated names.
 */
export function clientResponseHead(raw: readonly Buffer[], extra: OutgoingHttpHeaders): string[] {
  let named: Set<string> | undefined;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    // undici's lookup returns interned lowercase strings for common names.
    const name = undiciUtil.headerNameToString(raw[i]);
    const value = raw[i + 1].toString('latin1');
    if (name === 'connection') {
      if (value !== 'keep-alive' && value !== 'close') {
        named ??= new Set();
        connectionTokens(value, named);
      }
      continue;
    }
    if (isHopByHop(name) || extra[name] !== undefined) continue;
    out.push(name, value);
  }
  if (named) {
    // Connection may come after the fields it names: filter afterwards.
    for (let i = out.length - 2; i >= 0; i -= 2) if (named.has(out[i])) out.splice(i, 2);
  }
  for (const name in extra) {
    const v = extra[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const one of v) out.push(name, one);
    else out.push(name, String(v));
  }
  return out;
}
