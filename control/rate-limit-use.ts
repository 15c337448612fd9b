/**
 * The `rate limit` cell of `strangler routes` and GET /routes: each limit a
 * route has, beside the rate that target actually got, fleet-wide, over the
 * last two complete stats windows every proxy flushes to the store (so the
 * figure is the same whichever backend counts the limit, and needs no proxy
 * to be asked).
 */
import type { Config, RouteConfig } from '../core/config.js';
import type { Target } from '../core/types.js';
import type { Store } from '../store/types.js';

/** Complete stats windows averaged into "current use". */
const WINDOWS = 2;

/** Requests per second `target` got for `route` over the last WINDOWS complete stats windows (all instances). */
export async function recentRate(
  store: Pick<Store, 'stats'>,
  route: string,
  target: Target,
  flushMs: number,
  now: number,
): Promise<{ perSecond: number; seconds: number }> {
  const end = Math.floor(now / flushMs) * flushMs; // start of the window still being filled
  const since = end - WINDOWS * flushMs;
  const windows = await store.stats.query({ route, target, since });
  let requests = 0;
  for (const w of windows) if (w.start < end) requests += w.requests;
  const seconds = (WINDOWS * flushMs) / 1000;
  return { perSecond: requests / seconds, seconds };
}

const fmt = (n: number) => (n >= 10 || n === 0 ? String(Math.round(n)) : n.toFixed(1));

/** `service 200/s +50 (now 187/s), legacy 500/s (now 12/s)`; undefined for a route without limits. */
export async function rateLimitCell(
  store: Pick<Store, 'stats'>,
  config: Readonly<Config>,
  route: RouteConfig,
  now: number,
): Promise<string | undefined> {
  const rl = route.rateLimit;
  if (!rl) return undefined;
  const parts: string[] = [];
  for (const target of ['service', 'legacy'] as const) {
    const rate = rl[target];
    if (!rate) continue;
    const use = await recentRate(store, route.id, target, config.proxy.statsFlushMs, now);
    const burst = rl.burst > 0 ? ` +${rl.burst}` : '';
    const over = target === 'service' && rl.over === 'legacy' ? ' over→legacy' : '';
    parts.push(`${target} ${rate}${burst}${over} (now ${fmt(use.perSecond)}/s)`);
  }
  return parts.join(', ');
}
