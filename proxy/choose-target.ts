/**
 * chooseTarget: which side answers a request, from the route's mode and weight.
 *
 * In `canary` mode with a `sticky` key (header:NAME, cookie:NAME or ip) the
 * choice is a consistent hash of the route id and that key into [0, 100): a
 * user lands on the service iff their point is below the weight. Raising the
 * weight therefore only moves users legacy → service and lowering it only
 * service → legacy, and the share of *users* on the service tracks the weight.
 * (Flagger's session-affinity cookie is set by whichever side answered, so
 * over time it pulls users onto the canary — fluxcd/flagger#1160; hashing an
 * existing user key avoids that drift.) Requests without the key, or routes
 * without `sticky`, are split per request.
 */
import type { IncomingMessage } from 'node:http';
import type { RouteConfig } from '../core/config.js';
import type { RouteState, Target } from '../core/types.js';

/** Request header testers use to force a side, honoured only with `allowTargetHeader: true`. */
export const TARGET_HEADER = 'x-strangler-target';

export interface TargetChoice {
  target: Target;
  /** True when the x-strangler-target header chose the side. */
  forced?: boolean;
}

/**
 * @param random per-request coin for non-sticky canary splits; tests pass a seeded one.
 */
export function chooseTarget(
  route: RouteConfig,
  state: RouteState,
  req: IncomingMessage,
  random: () => number = Math.random,
): TargetChoice {
  if (route.allowTargetHeader) {
    const forced = headerValue(req, TARGET_HEADER)?.trim().toLowerCase();
    if (forced === 'service' || forced === 'legacy') return { target: forced, forced: true };
  }
  switch (state.mode) {
    case 'legacy':
    case 'shadow':
      // shadow serves from legacy; the copy to the service is shadow/'s job.
      return { target: 'legacy' };
    case 'service':
      return { target: 'service' };
    case 'canary': {
      const weight = state.weight;
      if (weight <= 0) return { target: 'legacy' };
      if (weight >= 100) return { target: 'service' };
      const key = route.sticky ? stickyKey(route.sticky, req) : undefined;
      const point = key === undefined ? random() * 100 : stickyPoint(route.id, key);
      return { target: point < weight ? 'service' : 'legacy' };
    }
  }
}

/** The sticky key's value for this request, or undefined when the request lacks it. */
export function stickyKey(sticky: string, req: IncomingMessage): string | undefined {
  if (sticky === 'ip') return req.socket?.remoteAddress ?? undefined;
  if (sticky.startsWith('header:')) {
    const v = headerValue(req, sticky.slice('header:'.length).toLowerCase());
    return v === undefined || v === '' ? undefined : v;
  }
  if (sticky.startsWith('cookie:')) return cookieValue(req.headers.cookie, sticky.slice('cookie:'.length));
  return undefined;
}

/**
 * A user's fixed point in [0, 100) for a route: FNV-1a over "routeId\0key",
 * then murmur3's finaliser so that near-identical keys (user-1, user-2) spread
 * evenly — plain FNV-1a's low bits cluster on such keys. Salting with the route
 * id keeps one user's sides independent across routes.
 */
export function stickyPoint(routeId: string, key: string): number {
  let h = 0x811c9dc5;
  const s = `${routeId}\0${key}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return ((h >>> 0) / 0x1_0000_0000) * 100;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      return v === '' ? undefined : v;
    }
  }
  return undefined;
}
