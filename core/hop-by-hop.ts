/**
 * Hop-by-hop fields belong to one connection and are never forwarded
 * (RFC 9110 §7.6.1): Connection and every field it names, Keep-Alive, TE,
 * Trailer, Transfer-Encoding, Upgrade, and the Proxy-* family (credentials
 * and options for this proxy, not for the upstream). The proxy's forwarded
 * request and answer and the shadow copy all follow this one rule.
 */

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Whether a lowercase field name is hop-by-hop by itself (not counting what Connection names). */
export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-');
}

/**
 * What a request's Connection header may not name away: these describe the
 * message (its target and framing), not the hop, so `Connection: Host` must
 * not make the proxy send its own Host.
 */
const NEVER_CONNECTION_NAMED = ['host', 'content-length', 'transfer-encoding'];

/** Add the lowercase field names a Connection value lists to `into`. */
export function connectionTokens(value: string, into: Set<string>): void {
  for (const t of value.split(',')) {
    const name = t.trim().toLowerCase();
    if (name) into.add(name);
  }
}

/** Drop from `named` (a request's Connection names) the fields that belong to the message. */
export function keepMessageFields(named: Set<string>): void {
  for (const keep of NEVER_CONNECTION_NAMED) named.delete(keep);
}

/**
 * The fields a request's Connection header names, minus the message's own
 * (see keepMessageFields); undefined when it names none.
 */
export function connectionNamed(value: string | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const named = new Set<string>();
  connectionTokens(value, named);
  keepMessageFields(named);
  return named.size > 0 ? named : undefined;
}

/**
 * The `x-strangler-` namespace is the proxy's own: its answers carry
 * x-strangler-route/-target/-failover/-rate-limited (and the extraction
 * points' x-strangler-fallback), its shadow copies x-strangler-shadow, and a
 * tester may send x-strangler-target to choose a side (read before
 * forwarding). A client's own fields in it are never forwarded, to a primary
 * or a copy (issue 25): a forged `x-strangler-shadow: 1` would tell a service
 * that a real request is only a copy.
 */
export const PROXY_FIELD_PREFIX = 'x-strangler-';

/** Whether a lowercase field name is in the proxy's own namespace (never forwarded as the client sent it). */
export function isProxyField(name: string): boolean {
  // Most names do not start with "x-": one char test before the prefix compare.
  return name.charCodeAt(0) === 0x78 /* x */ && name.startsWith(PROXY_FIELD_PREFIX);
}
