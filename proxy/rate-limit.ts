/**
 * Rate limits per route and target (a route's `rateLimit:`): a young service
 * must not get more traffic than it was sized for, and legacy may be shielded
 * too. The counting is rate-limiter-flexible's (fixed windows of N points per
 * second/minute/hour, a BurstyRateLimiter for `burst`), kept in memory on one
 * proxy (SQLite store: the limit is per instance; with `serve --workers N` the
 * primary keeps the windows and the workers ask it over IPC, so the machine
 * has one limit, not N) or in Redis (Redis store: one limit for the fleet).
 *
 * What happens to a request over a limit:
 * - over the service's rate with `over: legacy`, on a canary or service route:
 *   it goes to legacy instead. Nothing was sent to the service, so this is
 *   the breaker-open case of failover and follows the same rule
 *   (decideFailover with requestSent=false); legacy's own limit still applies;
 * - otherwise 429 STRANGLER_E_RATE_LIMITED with Retry-After (RFC 9110 §10.2.3,
 *   whole seconds until the window has room; RFC 6585 §4 for 429 itself).
 *
 * With Redis away each instance keeps limiting on its own in memory at the
 * full rate (rate-limiter-flexible's insuranceLimiter): the fleet may then let
 * through up to N× the limit, but no request fails because the store did.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import {
  BurstyRateLimiter,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
  RateLimiterCluster,
  RateLimiterClusterMaster,
} from 'rate-limiter-flexible';
import type { Config, RateLimitConfig, RouteConfig } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { Mode, Target } from '../core/types.js';
import { connectBeside } from '../store/redis/index.js';
import { stickyKey } from './choose-target.js';
import { decideFailover } from './failover.js';
import { respondError } from './forward.js';
import type { RequestContext } from './types.js';

/** The burst allowance refills once per this many seconds (BurstyRateLimiter's second limiter). */
export const BURST_WINDOW_S = 10;

/** Response header naming the target whose limit sent the request elsewhere (`over: legacy`). */
export const RATE_LIMITED_HEADER = 'x-strangler-rate-limited';

const WINDOW_S = { s: 1, m: 60, h: 3600 } as const;

/** `200/s` → 200 points per 1-second window. The schema (core/config.ts) has checked the shape. */
export function parseRate(rate: string): { points: number; windowS: number } {
  const slash = rate.indexOf('/');
  return {
    points: Number(rate.slice(0, slash)),
    windowS: WINDOW_S[rate.slice(slash + 1) as 's' | 'm' | 'h'],
  };
}

/**
 * The bucket a request counts against: the route as a whole, the client's
 * address, or a header's value. A request without the header shares its
 * client address's bucket, so leaving the header off is no way around a limit.
 */
export function bucketKey(key: string, req: IncomingMessage): string {
  if (key === 'route') return '-';
  if (key.startsWith('header:')) {
    const v = stickyKey(key, req);
    if (v !== undefined) return `h:${v}`;
  }
  return `ip:${req.socket?.remoteAddress ?? ''}`;
}

/** What the pipeline does with a request on a rate-limited route. */
export type Admission =
  | {
      ok: true;
      target: Target /** Set when the service was over its limit and legacy answers instead. */;
      spilled: boolean;
    }
  | { ok: false; target: Target; retryAfterS: number };

interface Limiter {
  consume(key: string): Promise<RateLimiterRes>;
}

/** Where the windows are counted. */
export type RateLimitBackend =
  | { kind: 'memory' }
  /** A `serve --workers` worker: the primary's RateLimiterClusterMaster counts. */
  | { kind: 'cluster' }
  | { kind: 'redis'; client: Redis; prefix: string };

/** How long a worker waits for the primary's verdict before admitting the request anyway. */
const CLUSTER_TIMEOUT_MS = 1000;
/**
 * A limit check waits at most this long for Redis; then the instance's own
 * in-memory count decides (the insurance limiter). The store's connections
 * allow 2 s, which is fine for a flip but not for every request of a route.
 */
const REDIS_CHECK_TIMEOUT_MS = 250;

export class RateLimits {
  private readonly limiters = new Map<string, Limiter>();
  private readonly counter: Counter<'route' | 'target' | 'action'>;
  private storeErrorLogged = false;

  constructor(
    routes: readonly RouteConfig[],
    private readonly backend: RateLimitBackend,
    registry: Registry,
    private readonly logger?: Pick<Logger, 'warn'>,
    private readonly onClose?: () => Promise<void>,
  ) {
    this.counter = new Counter({
      name: 'strangler_rate_limited_total',
      help: 'Requests over a route rate limit, by route, the target whose limit was reached, and action (reject: 429; legacy: sent to legacy instead; skip-shadow: shadow copy not sent).',
      labelNames: ['route', 'target', 'action'],
      registers: [registry],
    });
    for (const r of routes) {
      const rl = r.rateLimit;
      if (!rl) continue;
      if (rl.service)
        this.limiters.set(limiterId(r.id, 'service'), this.build(r.id, 'service', rl.service, rl));
      if (rl.legacy) this.limiters.set(limiterId(r.id, 'legacy'), this.build(r.id, 'legacy', rl.legacy, rl));
    }
  }

  /**
   * Admit a request on a route with a `rateLimit` to `target` (chooseTarget's
   * choice), send it to legacy instead, or refuse it. `resendable` and
   * `aborted` feed the failover rule a spill to legacy follows.
   */
  async admit(
    route: RouteConfig,
    mode: Mode,
    target: Target,
    req: IncomingMessage,
    facts: { resendable: boolean; aborted: boolean },
  ): Promise<Admission> {
    const rl = route.rateLimit!;
    const key = bucketKey(rl.key, req);
    let to = target;
    let spilled = false;
    if (to === 'service' && rl.service) {
      const over = await this.take(route.id, 'service', key);
      if (over !== undefined) {
        if (rl.over === 'legacy' && mayOverflowToLegacy(mode, facts)) {
          this.counter.inc({ route: route.id, target: 'service', action: 'legacy' });
          to = 'legacy';
          spilled = true;
        } else {
          this.counter.inc({ route: route.id, target: 'service', action: 'reject' });
          return { ok: false, target: 'service', retryAfterS: over };
        }
      }
    }
    if (to === 'legacy' && rl.legacy) {
      const over = await this.take(route.id, 'legacy', key);
      if (over !== undefined) {
        this.counter.inc({ route: route.id, target: 'legacy', action: 'reject' });
        return { ok: false, target: 'legacy', retryAfterS: over };
      }
    }
    return { ok: true, target: to, spilled };
  }

  /**
   * A shadow copy to the service counts against the service's limit too: a
   * young service is protected from copies as from real traffic. False: over
   * the limit, so the copy is skipped (the client was served by legacy anyway).
   */
  async admitCopy(route: RouteConfig, req: IncomingMessage): Promise<boolean> {
    const rl = route.rateLimit;
    if (!rl?.service) return true;
    if ((await this.take(route.id, 'service', bucketKey(rl.key, req))) === undefined) return true;
    this.counter.inc({ route: route.id, target: 'service', action: 'skip-shadow' });
    return false;
  }

  /** Take one point; undefined when admitted, else the Retry-After seconds. */
  private async take(routeId: string, target: Target, key: string): Promise<number | undefined> {
    const limiter = this.limiters.get(limiterId(routeId, target))!;
    try {
      await limiter.consume(key);
      return undefined;
    } catch (res) {
      if (res instanceof RateLimiterRes) return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      // Not a verdict but a failure the insurance limiter did not cover: a
      // limit must never be why a request fails, so let it through.
      if (!this.storeErrorLogged)
        this.logger?.warn({ err: res, route: routeId }, 'rate limit check failed: admitting');
      this.storeErrorLogged = true;
      return undefined;
    }
  }

  private build(routeId: string, target: Target, rate: string, rl: RateLimitConfig): Limiter {
    const { points, windowS } = parseRate(rate);
    const prefix = `rl:${routeId}:${target}`;
    const base = this.window(prefix, points, windowS);
    if (rl.burst <= 0) return base;
    return new BurstyRateLimiter(
      base as RateLimiterAbstract,
      this.window(`${prefix}:burst`, rl.burst, BURST_WINDOW_S) as RateLimiterAbstract,
    );
  }

  private window(keyPrefix: string, points: number, duration: number): Limiter {
    if (this.backend.kind === 'cluster')
      return new RateLimiterCluster({ keyPrefix, points, duration, timeoutMs: CLUSTER_TIMEOUT_MS });
    const memory = new RateLimiterMemory({ keyPrefix, points, duration });
    if (this.backend.kind === 'memory') return memory;
    return new RateLimiterRedis({
      storeClient: this.backend.client,
      keyPrefix: this.backend.prefix + keyPrefix,
      points,
      duration,
      // Once the fleet used up a window, stop asking Redis until it ends.
      inMemoryBlockOnConsumed: points,
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory,
    } as ConstructorParameters<typeof RateLimiterRedis>[0]);
  }

  async close(): Promise<void> {
    await this.onClose?.();
  }
}

/** 429 with Retry-After and the usual JSON error body; nothing was sent upstream. */
export function respondOverLimit(
  ctx: RequestContext,
  over: Extract<Admission, { ok: false }>,
  extra: OutgoingHttpHeaders,
): void {
  extra['retry-after'] = String(over.retryAfterS);
  respondError(
    ctx,
    'STRANGLER_E_RATE_LIMITED',
    `over the ${over.target} rate limit of route ${ctx.route?.config.id}`,
    extra,
  );
}

const limiterId = (routeId: string, target: Target) => `${routeId}\0${target}`;

/**
 * `over: legacy` applies to canary and service routes only (in legacy and
 * shadow modes legacy already answers). Nothing has reached the service, so
 * failover's rule for an open breaker decides: legacy may take it.
 */
function mayOverflowToLegacy(mode: Mode, facts: { resendable: boolean; aborted: boolean }): boolean {
  if (mode !== 'canary' && mode !== 'service') return false;
  return (
    decideFailover({
      reason: 'breaker-open',
      requestSent: false,
      resendable: facts.resendable,
      bodyAvailable: true,
      clientAborted: facts.aborted,
    }).to === 'legacy'
  );
}

/**
 * The rate limits a proxy needs for its config, or undefined when no route
 * has one (the request path then skips the stage entirely). With the Redis
 * store the windows live in that Redis, under the store's key prefix, on a
 * connection of their own.
 */
export function createRateLimits(
  config: Readonly<Config>,
  registry: Registry,
  logger?: Pick<Logger, 'warn'>,
): RateLimits | undefined {
  if (!config.routes.some((r) => r.rateLimit)) return undefined;
  if (!config.store.startsWith('redis://'))
    return new RateLimits(config.routes, { kind: isServeWorker() ? 'cluster' : 'memory' }, registry, logger);
  const { client, prefix } = connectBeside(config.store, REDIS_CHECK_TIMEOUT_MS);
  let down = false;
  client.on('error', (err) => {
    if (!down)
      logger?.warn({ err: err.message }, 'rate limits: redis unreachable, limiting per instance meanwhile');
    down = true;
  });
  client.on('ready', () => {
    down = false;
  });
  client.connect().catch(() => {
    // 'error' logged it; ioredis keeps reconnecting and the insurance limiter counts meanwhile
  });
  return new RateLimits(config.routes, { kind: 'redis', client, prefix }, registry, logger, async () => {
    client.disconnect();
  });
}

/** A worker forked by `serve --workers` (cli/workers.ts sets the variable and keeps the IPC channel). */
function isServeWorker(): boolean {
  return process.env.STRANGLER_WORKER === '1' && typeof process.send === 'function';
}

/**
 * In the `serve --workers` primary: keep the rate-limit windows the workers
 * share (SQLite store only; with Redis every process counts in Redis).
 */
export function startRateLimitCoordinator(config: Readonly<Config>): void {
  if (config.routes.some((r) => r.rateLimit) && !config.store.startsWith('redis://'))
    new RateLimiterClusterMaster();
}
