/**
 * May this request be sent again? The one home of that rule, in three strengths:
 *
 * - `isSafeRequest`: RFC 9110 §9.2.1 safe methods, without a method
 *   override (below). Repeating them cannot change anything, wherever the
 *   first one went: shadow copies and noise re-asks need this.
 * - `isResendable`: may run again after it may already have run on the
 *   service (failover to legacy, a rate-limit spill): safe requests, a request
 *   with an `Idempotency-Key` (the IETF httpapi draft: the server dedupes by
 *   key), or a route whose owners declared it `idempotent: true`. A PUT or a
 *   DELETE without a key is not: it may have run, and legacy is another
 *   server with its own state.
 * - `isIdempotentRequest`: RFC 9110 §9.2.2 idempotent methods (safe plus PUT,
 *   DELETE), without a method override. Only for a resend to the same
 *   upstream of a request it never answered (a pooled socket it closed as we
 *   reused it), which the RFC allows; a route with failover passes
 *   `isResendable` instead so both resends follow one rule.
 *
 * Unsafe, non-idempotent requests (POST, PATCH) without a key are never sent twice.
 *
 * Method overrides (issue 25): Rails, Laravel, Symfony, Express's
 * method-override and many Django/Flask add-ons run `GET /x` carrying
 * `X-HTTP-Method-Override: DELETE` (or `?_method=DELETE`) as a DELETE. The
 * proxy cannot know whether the monolith or a service honours them, so a
 * request carrying any of METHOD_OVERRIDE_HEADERS, or a `_method` query
 * parameter, is never safe or idempotent here, whatever its method says.
 * A POST's form body is not read for `_method`: a POST is unsafe already.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RouteConfig } from './config.js';

/** What the rule reads of a request: an IncomingMessage has it, and so does a shadow exchange. */
export interface RequestFacts {
  method?: string;
  headers: IncomingHttpHeaders;
  url?: string;
}

/** Request headers that ask the server to run the request as another method (lowercase; docs/routing.md). */
export const METHOD_OVERRIDE_HEADERS: readonly string[] = [
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
];

// The query parameter that does the same (Rails, Laravel, Symfony,
// method-override): `_method` (or `%5Fmethod`) as a name anywhere in the query; a
// `?` or `;` inside the query also starts a name here (stricter than Rack).
const OVERRIDE_PARAM = /[?&;](?:_|%5f)method(?:[=&;]|$)/i;

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

/** Whether a request asks to be run as another method (any of METHOD_OVERRIDE_HEADERS, or `_method` in its query). */
export function overridesMethod(req: RequestFacts): boolean {
  for (let i = 0; i < METHOD_OVERRIDE_HEADERS.length; i++)
    if (req.headers[METHOD_OVERRIDE_HEADERS[i]] !== undefined) return true;
  const url = req.url;
  return url?.includes('?') === true && OVERRIDE_PARAM.test(url);
}

/** A safe method (RFC 9110 §9.2.1) and no method override: it may run any number of times, anywhere. */
export function isSafeRequest(req: RequestFacts): boolean {
  return isSafeMethod(req.method ?? 'GET') && !overridesMethod(req);
}

/** An idempotent method (RFC 9110 §9.2.2) and no method override: it may run again on the upstream that never answered. */
export function isIdempotentRequest(req: RequestFacts): boolean {
  return isIdempotentMethod(req.method ?? 'GET') && !overridesMethod(req);
}

/** Whether a request that may have run on the service may run again (on legacy, or the service). */
export function isResendable(req: RequestFacts, route: Pick<RouteConfig, 'idempotent'>): boolean {
  if (isSafeRequest(req)) return true;
  if (route.idempotent) return true;
  const key = req.headers['idempotency-key'];
  return typeof key === 'string' ? key.length > 0 : Array.isArray(key) && key.length > 0;
}
