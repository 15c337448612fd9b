/**
 * Which requests are shadowed, and the caps that keep shadow work bounded.
 * Randomness is injected so tests can pin it; the caps are plain counters
 * because everything runs on one event loop.
 */
import type { RouteConfig } from '../core/config.js';
import { isResendable, isSafeRequest, overridesMethod, type RequestFacts } from '../core/resend.js';
import type { Mode, Target } from '../core/types.js';

export type Random = () => number;

/** True with probability `rate`; 0 and 1 never draw, so they are exact. */
export function sampled(rate: number, random: Random = Math.random): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  return random() < rate;
}

/**
 * The side a copy goes to, or undefined when this request is not shadowed:
 * `shadow` mode mirrors legacy-served requests to the service; `canary` and
 * `service` modes mirror service-served requests to legacy when
 * `shadow.reverse` is on, so evidence keeps flowing after a flip. A write
 * (listed in `shadow.methods`) is copied only where it may run twice. A request
 * with a method override (core/resend.ts) is never copied: `GET` carrying
 * `X-HTTP-Method-Override: DELETE` is a delete to a server that honours it.
 */
export function shadowTarget(
  route: RouteConfig,
  mode: Mode,
  req: RequestFacts,
  served: Target,
): Target | undefined {
  const s = route.shadow;
  // An extraction point's copy runs the service's side of the function: only
  // for points whose effect may run twice (reads, deduped writes).
  if (route.kind === 'function') {
    if (!route.idempotent) return undefined;
  } else if (
    !s.methods.includes((req.method ?? 'GET').toUpperCase()) ||
    overridesMethod(req) ||
    // A write listed in `shadow.methods` runs on both sides: only where it may
    // run twice (an `idempotent` route, or an Idempotency-Key), the one rule
    // of core/resend.ts (docs/routing.md "What may run twice").
    !isResendable(req, route)
  )
    return undefined;
  if (mode === 'shadow' && served === 'legacy') return 'service';
  if ((mode === 'canary' || mode === 'service') && s.reverse && served === 'service') return 'legacy';
  return undefined;
}

/**
 * Whether the noise sampler may send this request to legacy a second time:
 * only safe requests (no method override) or routes whose owners declared
 * them idempotent. A shadowed POST asked twice would run twice on legacy
 * (issue 12), and so would a GET overridden to DELETE (issue 25).
 */
export function mayAskLegacyTwice(route: Pick<RouteConfig, 'idempotent'>, req: RequestFacts): boolean {
  return isSafeRequest(req) || route.idempotent;
}

/**
 * A concurrency semaphore plus a total-bytes budget for in-flight shadow work.
 * `tryAcquire` never waits: over a cap the request is skipped (and counted by
 * the caller), because queueing shadow work would only grow memory.
 */
export class ShadowLimiter {
  private inFlight = 0;
  private bytes = 0;

  constructor(
    readonly maxConcurrent: number,
    readonly maxBytes: number,
  ) {}

  get active(): number {
    return this.inFlight;
  }

  get bytesHeld(): number {
    return this.bytes;
  }

  /** True when nothing more can be held right now (used to skip capturing at all). */
  bytesExhausted(): boolean {
    return this.bytes >= this.maxBytes;
  }

  /** 'concurrency-cap' / 'bytes-cap' when refused, undefined when granted (then call release). */
  tryAcquire(bytes: number): 'concurrency-cap' | 'bytes-cap' | undefined {
    if (this.inFlight >= this.maxConcurrent) return 'concurrency-cap';
    if (this.bytes + bytes > this.maxBytes) return 'bytes-cap';
    this.inFlight++;
    this.bytes += bytes;
    return undefined;
  }

  /** Hold more bytes for a granted slot (a shadow body arriving); false when over budget. */
  grow(bytes: number): boolean {
    if (this.bytes + bytes > this.maxBytes) return false;
    this.bytes += bytes;
    return true;
  }

  release(bytes: number): void {
    this.inFlight--;
    this.bytes -= bytes;
  }
}
