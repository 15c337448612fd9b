/**
 * Extraction points: a function inside the monolith moved onto a service, as a
 * route of its own kind. A route is `kind: http` (the default: a path pattern
 * the proxy matches on its listener) or `kind: function` (an extraction point:
 * the monolith's Python client decides per call, and the proxy calls the
 * service at `path`, which the service serves as POST with a JSON body).
 * Both kinds share ids, modes, flips, gates, guard, audit and evidence; see
 * docs/extraction-points.md. This module holds the one rule for what a
 * function point's config may say; core/config.ts applies it.
 */
import type { z } from 'zod';

export const ROUTE_KINDS = ['http', 'function'] as const;
export type RouteKind = (typeof ROUTE_KINDS)[number];

/** The method every extraction-point call uses on the wire (JSON body in, JSON body out). */
export const POINT_METHOD = 'POST';

/** An exact service path: no `:param`, no `*` (the proxy calls it, it never matches on it). */
export const POINT_PATH = /^\/[A-Za-z0-9._~!$&'()+,;=:@/-]*$/;

interface RouteKindFields {
  kind: RouteKind;
  match?: unknown;
  path?: string;
  sticky?: string;
  allowTargetHeader: boolean;
  shadow: { reverse: boolean };
  rateLimit?: unknown;
}

/**
 * Per-kind rules, as zod issues on the route: an http route has `match` and
 * no `path`; a function point has `path` and none of the listener-side
 * options (`match`, `sticky` — its key comes from the decorator —,
 * `allowTargetHeader`, `shadow.reverse`, `rateLimit`).
 */
export function checkRouteKind(r: RouteKindFields, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  if (r.kind === 'http') {
    if (r.match === undefined) issue(['match'], 'an http route needs match.path');
    if (r.path !== undefined) issue(['path'], 'path is for kind: function; an http route uses match.path');
    return;
  }
  if (r.path === undefined)
    issue(['path'], 'a function point needs path: the path its service serves (POST)');
  else if (r.path.includes('*') || /(^|\/):/.test(r.path) || !POINT_PATH.test(r.path))
    issue(['path'], 'expected an exact path such as /internal/block-check (no :param, no *)');
  if (r.match !== undefined)
    issue(['match'], 'a function point is not matched on the listener: give path, not match');
  if (r.sticky !== undefined)
    issue(
      ['sticky'],
      'a function point takes its sticky key from the decorator (sticky=lambda ...), not the config',
    );
  if (r.allowTargetHeader) issue(['allowTargetHeader'], 'not available for a function point');
  if (r.shadow.reverse)
    issue(['shadow', 'reverse'], 'not available for a function point (legacy is the local function)');
  // The points endpoints have no rate-limit stage (proxy/points.ts): a limit
  // here would be accepted and never applied.
  if (r.rateLimit !== undefined)
    issue(['rateLimit'], 'not available for a function point (its calls are not rate limited)');
}

/**
 * A function point's `match`, filled in after validation so every consumer of
 * RouteConfig sees one shape: the service path and the one method it is
 * called with. The RouteTable never puts a function point on the listener.
 */
export function withPointMatch<
  T extends { kind: RouteKind; path?: string; match?: { path: string; methods?: string[] } },
>(r: T): Omit<T, 'match'> & { match: { path: string; methods?: string[] } } {
  if (r.match) return r as Omit<T, 'match'> & { match: { path: string; methods?: string[] } };
  return { ...r, match: { path: r.path ?? '/', methods: [POINT_METHOD] } };
}
