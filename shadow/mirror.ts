/**
 * The shadow hook the proxy calls: after the primary response has reached the
 * client, a bounded copy of the request goes to the other side, the answers
 * are diffed, and the result is batched into the store. Modelled on traefik's
 * mirror handler: a percentage, a body cap and a lifetime of its own.
 *
 * Isolation from the primary path is the point of every choice here:
 * - its own undici Agent (never the proxy's pool), so a blackholed service
 *   fills only shadow sockets;
 * - its own timeout (route.shadow.timeoutMs) covering the whole exchange;
 * - a concurrency semaphore and a total-bytes budget; over a cap the copy is
 *   skipped and counted, never queued;
 * - evidence is batched and flushed every second (or every N results) off a
 *   timer, so the request path never waits on SQLite.
 *
 * The parts: copy-sender.ts sends a copy and times its answer,
 * record.ts turns what came back into evidence (pure), evidence-batcher.ts
 * holds and writes it. This file decides whether and when each runs.
 */
import type { Config, RouteConfig } from '../core/config.js';
import { hasBody } from '../core/header-fields.js';
import type { Logger } from '../core/log.js';
import type { RequestFacts } from '../core/resend.js';
import type { RouteState, Target } from '../core/types.js';
import type { Store } from '../store/types.js';
import { CopySender } from './copy-sender.js';
import { EvidenceBatcher } from './evidence-batcher.js';
import { compileIgnore } from './paths.js';
import { type Answer, type RouteRecording, recordExchange, sampleOf } from './record.js';
import { caseOf, RecordingBatcher } from './recording.js';
import { type Redaction, routeRedaction } from './redaction.js';
import { mayAskLegacyTwice, type Random, ShadowLimiter, sampled, shadowTarget } from './sampling.js';
import type { PrimaryExchange, ShadowHook, ShadowPlan } from './types.js';

const NO_CAPTURE: ShadowPlan = Object.freeze({ capture: false, maxBodyBytes: 0 });

export interface ShadowHookOptions {
  config: Readonly<Config>;
  /** `recordings` is needed only where a route has shadow.record on. */
  store: Pick<Store, 'shadow'> & Partial<Pick<Store, 'recordings'>>;
  logger?: Logger;
  /** Monotonic milliseconds for latency; performance.now by default. */
  clock?: () => number;
  /** Wall clock for sample timestamps. */
  now?: () => Date;
  random?: Random;
  /** Flush evidence this often (ms). Default 1000. */
  flushIntervalMs?: number;
  /**
   * ...or as soon as this many results are pending. Default 5000: a flush
   * rewrites the route's latency reservoir (1.6 ms for a 500-result batch on
   * the 2-core VM, most of it independent of the batch size), so a busy route
   * should flush about once a second, not per few hundred results; 5000
   * pending results hold well under a megabyte.
   */
  flushMaxResults?: number;
}

/** The hook plus what tests and `serve` need to drive it. */
export interface ShadowMirror extends ShadowHook {
  /** Write pending evidence now. */
  flush(): Promise<void>;
  /** Resolves when no shadow exchange is in flight. */
  idle(): Promise<void>;
  /** Shadow exchanges in flight and bytes they hold. */
  load(): { active: number; bytes: number };
}

interface RouteRuntime {
  recording: RouteRecording;
  redaction: Redaction;
  /** The route records cases (shadow.record.enabled). */
  recordCases: boolean;
}

/** A promise's outcome as Promise.allSettled reports it, for a single promise. */
function settle<T>(p: Promise<T>): Promise<PromiseSettledResult<T>> {
  return p.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  );
}

/** Create the hook `serve` hands to startProxy. */
export function createShadowHook(options: ShadowHookOptions): ShadowMirror {
  const { config, logger } = options;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const limiter = new ShadowLimiter(config.proxy.shadowMaxConcurrent, config.proxy.shadowMaxTotalBytes);
  const sender = new CopySender(config, options.clock);
  const evidence = new EvidenceBatcher({
    store: options.store,
    logger,
    flushIntervalMs: options.flushIntervalMs ?? 1000,
    flushMaxResults: options.flushMaxResults ?? 5000,
  });
  const { recordings } = options.store;
  const cases = recordings
    ? new RecordingBatcher({
        store: { shadow: options.store.shadow, recordings },
        logger,
        flushIntervalMs: options.flushIntervalMs ?? 1000,
        dropped: (route, reason) => evidence.skip(route, reason),
      })
    : undefined;
  const runtimes = new WeakMap<RouteConfig, RouteRuntime>();
  const serviceObservers: Array<(routeId: string, ok: boolean) => void> = [];
  /**
   * A copy the service answered (or failed) is news about the service: the
   * proxy's breaker takes it as a probe. In shadow mode no live request goes
   * to the service, so a breaker left half-open by an outage stayed so for
   * ever (issue 26). Caps on our side (body-cap, bytes-cap) say nothing.
   */
  const reportServiceAnswer = (routeId: string, copy: PromiseSettledResult<Answer>): void => {
    if (serviceObservers.length === 0) return;
    let ok: boolean;
    if (copy.status === 'fulfilled') ok = copy.value.status < 500;
    else {
      const reason = (copy.reason as { reason?: string })?.reason;
      if (reason !== 'timeout' && reason !== 'error') return;
      ok = false;
    }
    for (const fn of serviceObservers) fn(routeId, ok);
  };
  const inFlight = new Set<Promise<void>>();
  let closed = false;

  // Built now, not at the first shadowed request: a bad JSON path in shadow.ignore or
  // shadow.record.redact.json stops `serve` with the field named, instead of failing every comparison.
  for (const route of config.routes) runtimes.set(route, routeRuntime(route));

  const runtime = (route: RouteConfig): RouteRuntime => {
    let r = runtimes.get(route);
    if (!r) {
      r = routeRuntime(route);
      runtimes.set(route, r);
    }
    return r;
  };

  /** Send the copy (and, for a noise sample, a second legacy call), then record what came back. */
  const run = async (route: RouteConfig, side: Target, ex: PrimaryExchange, held: Held): Promise<void> => {
    const rt = runtime(route);
    const grow = (n: number) => held.grow(n);
    // Never a second legacy call for a write: the promise is that shadowing runs
    // nothing twice. An extraction point's legacy is the monolith's function: its
    // second answer comes with the exchange (the client sampled it), never from HTTP.
    const askTwice =
      route.kind !== 'function' &&
      mayAskLegacyTwice(route, requestOf(ex)) &&
      sampled(route.shadow.noiseSampleRate, random);
    // Most copies are not noise samples: one await, no allSettled arrays then.
    const [copy, again] = askTwice
      ? await Promise.allSettled([sender.send(route, side, ex, grow), sender.send(route, 'legacy', ex, grow)])
      : [await settle(sender.send(route, side, ex, grow)), undefined];
    const primary: Answer = {
      status: ex.status,
      headers: ex.responseHeaders,
      body: ex.responseBody!,
      durationMs: ex.durationMs,
    };
    if (side === 'service') reportServiceAnswer(route.id, copy);
    const outcome = { side, primary, copy, local: ex.legacyAgain, again };
    recordExchange(evidence.batchOf(route.id), outcome, rt.recording, (legacy, service, diff) =>
      sampleOf(route, ex, legacy, service, diff, rt.redaction, now()),
    );
    evidence.added();
    // After the comparison, off the primary's path like it: legacy's answer becomes a replayable case.
    const legacy = side === 'service' ? primary : copy.status === 'fulfilled' ? copy.value : undefined;
    if (cases && rt.recordCases && legacy && sampled(route.shadow.record.sampleRate, random))
      cases.add(route, caseOf(route, ex, legacy, rt.redaction, now()));
  };

  /** Start the comparison detached, or count why there is none. */
  const start = (route: RouteConfig, state: RouteState, ex: PrimaryExchange): void => {
    const decision = copyDecision(route, state, ex);
    if (!decision) return;
    if ('skip' in decision) {
      evidence.skip(route.id, decision.skip);
      return;
    }
    const { side, responseBody } = decision;
    const bytes = responseBody.length + (ex.requestBody?.length ?? 0);
    const refused = limiter.tryAcquire(bytes);
    if (refused) {
      evidence.skip(route.id, refused);
      return;
    }
    const held = new Held(limiter, bytes);
    const p: Promise<void> = run(route, side, ex, held)
      .catch((err) => {
        logger?.error({ err, route: route.id }, 'shadow comparison failed');
        evidence.skip(route.id, 'internal-error');
      })
      .finally(() => {
        held.release();
        inFlight.delete(p);
      });
    inFlight.add(p);
  };

  return {
    plan(route: RouteConfig, state: RouteState, req: RequestFacts, target: Target): ShadowPlan {
      if (closed || !shadowTarget(route, state.mode, req, target)) return NO_CAPTURE;
      if (!sampled(route.shadow.sampleRate, random)) {
        evidence.skip(route.id, 'sampled-out');
        return NO_CAPTURE;
      }
      // Do not even capture while the byte budget is spent: the copy would be refused anyway.
      if (limiter.bytesExhausted()) {
        evidence.skip(route.id, 'bytes-cap');
        return NO_CAPTURE;
      }
      return { capture: true, maxBodyBytes: route.shadow.maxBodyBytes };
    },

    afterPrimary(route: RouteConfig, state: RouteState, ex: PrimaryExchange): void {
      try {
        if (!closed) start(route, state, ex);
      } catch (err) {
        // The seam promises never to throw into the proxy.
        logger?.error({ err, route: route.id }, 'shadow hook failed');
      }
    },

    countSkipped(routeId: string, reason: string, n: number): void {
      if (closed || n <= 0) return;
      evidence.skip(routeId, reason, n);
    },

    flush: async () => {
      await evidence.flush();
      await cases?.flush();
    },
    evidenceLost: () => evidence.lost(),
    observeService: (fn) => void serviceObservers.push(fn),

    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },

    load: () => ({ active: limiter.active, bytes: limiter.bytesHeld }),

    async close() {
      if (closed) return;
      closed = true;
      evidence.stop();
      cases?.stop();
      // Every exchange is bounded by its own timeout, so this wait is bounded too.
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      await evidence.flush();
      await cases?.flush();
      await sender.close();
    },
  };
}

/** The primary's request as the resend rule reads it (core/resend.ts). */
function requestOf(ex: PrimaryExchange): RequestFacts {
  return { method: ex.method, headers: ex.requestHeaders, url: ex.url };
}

/**
 * Where an exchange's copy goes, or why it gets none (a skip reason);
 * undefined for an exchange plan() declined, counted there already.
 */
function copyDecision(
  route: RouteConfig,
  state: RouteState,
  ex: PrimaryExchange,
): { side: Target; responseBody: Buffer } | { skip: string } | undefined {
  const req = requestOf(ex);
  const side = shadowTarget(route, state.mode, req, ex.target);
  if (!side) {
    // plan() said capture, but the other side answered: a failover (service → legacy) in canary/service mode.
    const other = ex.target === 'legacy' ? 'service' : 'legacy';
    return shadowTarget(route, state.mode, req, other) ? { skip: 'failover' } : undefined;
  }
  if (ex.error) return { skip: 'primary-error' };
  if (ex.responseBody === null || (ex.requestBody === null && hasBody(ex.requestHeaders)))
    return { skip: 'body-cap' };
  return { side, responseBody: ex.responseBody };
}

/** A route's diff settings, built once. */
function routeRuntime(route: RouteConfig): RouteRuntime {
  // An extraction point's legacy answer is a function's return value: it has no headers to compare.
  const patterns =
    route.kind === 'function' ? [...route.shadow.ignore, 'header:content-type'] : route.shadow.ignore;
  const ignore = compileIgnore(patterns, `routes[${route.id}].shadow.ignore`);
  return {
    recording: {
      diffOptions: {
        compareHeaders: route.shadow.compareHeaders,
        ignore,
        ignoreArrayOrder: route.shadow.ignoreArrayOrder,
      },
      sampleRing: route.shadow.sampleRing,
    },
    redaction: routeRedaction(route),
    // An extraction point's "request" is a function call the proxy relays, not one a replay could send.
    recordCases: route.shadow.record.enabled && route.kind !== 'function',
  };
}

/** Bytes one shadow exchange holds against the total budget. */
class Held {
  private extra = 0;
  private released = false;
  constructor(
    private readonly limiter: ShadowLimiter,
    private readonly base: number,
  ) {}
  grow(n: number): boolean {
    if (!this.limiter.grow(n)) return false;
    this.extra += n;
    return true;
  }
  release(): void {
    if (this.released) return;
    this.released = true;
    this.limiter.release(this.base + this.extra);
  }
}
