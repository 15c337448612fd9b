/**
 * May this request be sent again? The one home of that rule, in three strengths:
 *
 * - `isSafeMethod`: RFC 9110 §9.2.1 safe methods. Repeating them cannot
 *   change anything, wherever the first one went.
 * - `isResendable`: may run again after it may already have run on the
 *   service (failover to legacy, a rate-limit spill): safe methods, a request
 *   with an `Idempotency-Key` (the IETF httpapi draft: the server dedupes by
 *   key), or a route whose owners declared it `idempotent: true`. A PUT or a
 *   DELETE without a key is not: it may have run, and legacy is another
 *   server with its own state.
 * - `isIdempotentMethod`: RFC 9110 §9.2.2 idempotent methods (safe plus PUT,
 *   DELETE). Only for a resend to the same upstream of a request it never
 *   answered (a pooled socket it closed as we reused it), which the RFC
 *   allows; a route with failover passes `isResendable` instead so both
 *   resends follow one rule.
 *
 * Unsafe, non-idempotent requests (POST, PATCH) without a key are never sent twice.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RouteConfig } from './config.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** RFC 9110 §9.2.1: GET, HEAD, OPTIONS (any case). */
export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method.toUpperCase());
}

/** RFC 9110 §9.2.2 (upper-case as Node's parser hands them). */
export function isIdempotentMethod(method: string): boolean {
  return IDEMPOTENT_METHODS.has(method);
}

/** Whether a request that may have run on the service may run again (on legacy, or the service). */
export function isResendable(
  method: string,
  headers: IncomingHttpHeaders,
  route: Pick<RouteConfig, 'idempotent'>,
): boolean {
  if (isSafeMethod(method)) return true;
  if (route.idempotent) return true;
  const key = headers['idempotency-key'];
  return typeof key === 'string' ? key.length > 0 : Array.isArray(key) && key.length > 0;
}
