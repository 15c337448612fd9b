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
 */
import { performance } from 'node:perf_hooks';
import { Agent, type Dispatcher } from 'undici';
import { basePathOf, type Config, type RouteConfig, upstreamUrls } from '../core/config.js';
import { fieldValue, hasBody } from '../core/header-fields.js';
import type { Logger } from '../core/log.js';
import type { RouteState, Target } from '../core/types.js';
import { emptyShadowBatch, type ShadowBatch, type ShadowSample, type Store } from '../store/types.js';
import { skipping100Continue } from '../proxy/interim-responses.js';
import { collect, SkipError } from './collect.js';
import {
  type CapturedResponse,
  type DiffOptions,
  decodeBody,
  diffResponses,
  headerValue,
  type ShadowDiff,
} from './diff.js';
import { mergeMismatchSets, mismatchSetKey } from './noise.js';
import { compileIgnore } from './paths.js';
import { mayAskLegacyTwice, type Random, ShadowLimiter, sampled, shadowTarget } from './sampling.js';
import type { CopyTrace, PrimaryExchange, ShadowHook, ShadowPlan } from './types.js';

/** The header every shadow copy carries, so upstreams can tell copies from real traffic. */
export const SHADOW_HEADER = 'x-strangler-shadow';
/** Stored sample bodies are cut here: samples are for reading, not replaying. */
const SAMPLE_BODY_CHARS = 16 * 1024;

// RFC 9110 §7.6.1 connection-specific fields, plus those undici computes itself.
const DROP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
]);

const NO_CAPTURE: ShadowPlan = Object.freeze({ capture: false, maxBodyBytes: 0 });

export interface ShadowHookOptions {
  config: Readonly<Config>;
  store: Pick<Store, 'shadow'>;
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
  /** The route's diff settings, built once. */
  diffOptions: DiffOptions;
  redact: Set<string>;
  next: { legacy: number; service: number };
}

interface Answer extends CapturedResponse {
  body: Buffer;
  durationMs: number;
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
  const { config, store, logger } = options;
  const clock = options.clock ?? (() => performance.now());
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const flushMaxResults = options.flushMaxResults ?? 5000;
  const limiter = new ShadowLimiter(config.proxy.shadowMaxConcurrent, config.proxy.shadowMaxTotalBytes);
  // Own pool, sized to the shadow concurrency cap: a dead service can tie up
  // at most these sockets, and never the proxy's.
  const agent = new Agent({
    connections: config.proxy.shadowMaxConcurrent,
    keepAliveTimeout: config.proxy.keepAliveTimeoutMs,
    // As for primaries: an unrequested 100 Continue is skipped, not a failed copy.
    connect: skipping100Continue(),
  });
  const runtimes = new WeakMap<RouteConfig, RouteRuntime>();
  const batches = new Map<string, ShadowBatch>();
  const inFlight = new Set<Promise<void>>();
  let pending = 0;
  let closed = false;
  let flushing: Promise<void> | undefined;
  let flushSoon: NodeJS.Immediate | undefined;

  const runtime = (route: RouteConfig): RouteRuntime => {
    let r = runtimes.get(route);
    if (!r) {
      // An extraction point's legacy answer is a function's return value: it has no headers to compare.
      const patterns = route.kind === 'function' ? [...route.shadow.ignore, 'header:content-type'] : route.shadow.ignore;
      const ignore = compileIgnore(patterns, `routes[${route.id}].shadow.ignore`);
      r = {
        diffOptions: {
          compareHeaders: route.shadow.compareHeaders,
          ignore,
          ignoreArrayOrder: route.shadow.ignoreArrayOrder,
        },
        redact: new Set(route.shadow.redact.map((h) => h.toLowerCase())),
        next: { legacy: 0, service: 0 },
      };
      runtimes.set(route, r);
    }
    return r;
  };

  const batchOf = (routeId: string): ShadowBatch => {
    let b = batches.get(routeId);
    if (!b) {
      b = emptyShadowBatch();
      batches.set(routeId, b);
    }
    return b;
  };
  const skip = (routeId: string, reason: string) => {
    const b = batchOf(routeId);
    b.skipped[reason] = (b.skipped[reason] ?? 0) + 1;
    bump();
  };
  const bump = () => {
    pending++;
    if (pending >= flushMaxResults && !flushSoon) {
      flushSoon = setImmediate(() => {
        flushSoon = undefined;
        void flush();
      });
    }
  };

  const flush = async (): Promise<void> => {
    // One flush at a time keeps batches for a route in order.
    while (flushing) await flushing;
    if (batches.size === 0) return;
    const work = [...batches];
    batches.clear();
    pending = 0;
    flushing = (async () => {
      for (const [route, batch] of work) {
        try {
          await store.shadow.record(route, batch);
        } catch (err) {
          logger?.warn(
            { err, route, compared: batch.compared, skipped: batch.skipped },
            'shadow evidence could not be stored; this batch is lost',
          );
        }
      }
    })();
    try {
      await flushing;
    } finally {
      flushing = undefined;
    }
  };
  const timer = setInterval(() => void flush(), options.flushIntervalMs ?? 1000);
  timer.unref();

  /** A base URL taken apart once: URL's getters build new strings on every read. */
  interface Base {
    origin: string;
    host: string;
    /** The base URL's path without a trailing slash, put in front of the request's. */
    prefix: string;
  }
  const bases = new Map<string, Base>();
  const baseOf = (route: RouteConfig, side: Target): Base => {
    const urls =
      side === 'legacy' ? upstreamUrls(config.legacy) : upstreamUrls(config.services[route.service]);
    const raw = urls.length === 1 ? urls[0] : urls[runtime(route).next[side]++ % urls.length];
    let base = bases.get(raw);
    if (!base) {
      const u = new URL(raw);
      base = { origin: u.origin, host: u.host, prefix: basePathOf(u) };
      bases.set(raw, base);
    }
    return base;
  };

  const send = async (
    route: RouteConfig,
    side: Target,
    ex: PrimaryExchange,
    release: Held,
  ): Promise<Answer> => {
    const base = baseOf(route, side);
    const headers: string[] = [];
    const given = ex.requestHeaders;
    const trace = ex.copyTrace?.start(side);
    for (const k in given) {
      const v = given[k];
      const name = k.toLowerCase();
      // The client's own x-strangler-shadow must not ride along beside ours,
      // nor its traceparent beside the copy's own (tracestate and baggage do).
      if (v === undefined || DROP_HEADERS.has(name) || name === SHADOW_HEADER) continue;
      if (trace && name === 'traceparent') continue;
      headers.push(name, fieldValue(v));
    }
    headers.push('host', base.host, SHADOW_HEADER, '1');
    if (trace) headers.push('traceparent', trace.traceparent);
    const prefix = base.prefix;
    const timeoutMs = route.shadow.timeoutMs;
    const started = clock();
    const answer = await traced(trace, collect(
      agent,
      {
        origin: base.origin,
        path: prefix + ex.url,
        method: ex.method as Dispatcher.HttpMethod,
        headers,
        body: ex.requestBody && ex.requestBody.length > 0 ? ex.requestBody : undefined,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      },
      { timeoutMs, maxBodyBytes: route.shadow.maxBodyBytes, grow: (n) => release.grow(n) },
    ));
    const timed = answer as Answer;
    timed.durationMs = clock() - started;
    return timed;
  };

  const run = async (route: RouteConfig, side: Target, ex: PrimaryExchange, held: Held): Promise<void> => {
    const s = route.shadow;
    const rt = runtime(route);
    // An extraction point's legacy is the monolith's function: its second
    // answer comes with the exchange (the client sampled it), never from HTTP.
    const local = ex.legacyAgain;
    // Never a second legacy call for a write: the promise is that shadowing runs nothing twice.
    const askTwice =
      route.kind !== 'function' && mayAskLegacyTwice(route, ex.method) && sampled(s.noiseSampleRate, random);
    // Most copies are not noise samples: one await, no allSettled arrays then.
    const [copy, again] = askTwice
      ? await Promise.allSettled([send(route, side, ex, held), send(route, 'legacy', ex, held)])
      : [await settle(send(route, side, ex, held)), undefined];
    const b = batchOf(route.id);
    const primary: Answer = {
      status: ex.status,
      headers: ex.responseHeaders,
      body: ex.responseBody!,
      durationMs: ex.durationMs,
    };
    const diffOptions = rt.diffOptions;
    if (copy.status === 'rejected') {
      const reason = copy.reason instanceof SkipError ? copy.reason.reason : 'error';
      // Caps are not the other side's fault; timeouts and failures are.
      if (reason === 'timeout' || reason === 'error') b.errors[side]++;
      b.skipped[reason] = (b.skipped[reason] ?? 0) + 1;
    } else {
      const legacy = side === 'service' ? primary : copy.value;
      const service = side === 'service' ? copy.value : primary;
      const diff = diffResponses(legacy, service, diffOptions);
      b.compared++;
      b.latency.legacy.push(round(legacy.durationMs));
      b.latency.service.push(round(service.durationMs));
      if (diff.fields.length === 0) b.matched++;
      else {
        for (const f of diff.fields) b.fieldDiffs[f] = (b.fieldDiffs[f] ?? 0) + 1;
        const key = mismatchSetKey(diff.fields);
        b.mismatchSets ??= {};
        mergeMismatchSets(b.mismatchSets, { [key]: 1 });
        if (wantSample(b, key, s.sampleRing)) {
          b.samples.push(sampleOf(route, ex, legacy, service, diff, rt.redact, now()));
          b.sampleRing = s.sampleRing;
        }
      }
    }
    if (local) {
      const noise = diffResponses(primary, local, diffOptions);
      b.noisePairs++;
      for (const f of noise.fields) b.fieldNoise[f] = (b.fieldNoise[f] ?? 0) + 1;
    } else if (askTwice) {
      if (again?.status === 'fulfilled' && again.value) {
        // Two legacy answers to the same request: whatever differs is noise.
        const first = side === 'service' ? primary : copy.status === 'fulfilled' ? copy.value : undefined;
        if (first) {
          const noise = diffResponses(first, again.value, diffOptions);
          b.noisePairs++;
          for (const f of noise.fields) b.fieldNoise[f] = (b.fieldNoise[f] ?? 0) + 1;
        }
      } else if (again?.status === 'rejected') {
        const reason = again.reason instanceof SkipError ? again.reason.reason : 'error';
        b.skipped[`noise-${reason}`] = (b.skipped[`noise-${reason}`] ?? 0) + 1;
      }
    }
    bump();
  };

  return {
    plan(route: RouteConfig, state: RouteState, method: string, target: Target): ShadowPlan {
      if (closed || !shadowTarget(route, state.mode, method, target)) return NO_CAPTURE;
      if (!sampled(route.shadow.sampleRate, random)) {
        skip(route.id, 'sampled-out');
        return NO_CAPTURE;
      }
      // Do not even capture while the byte budget is spent: the copy would be refused anyway.
      if (limiter.bytesExhausted()) {
        skip(route.id, 'bytes-cap');
        return NO_CAPTURE;
      }
      return { capture: true, maxBodyBytes: route.shadow.maxBodyBytes };
    },

    afterPrimary(route: RouteConfig, state: RouteState, ex: PrimaryExchange): void {
      try {
        if (closed) return;
        const side = shadowTarget(route, state.mode, ex.method, ex.target);
        if (!side) {
          // plan() said capture, but the other side answered: a failover (service → legacy) in canary/service mode.
          const planned = shadowTarget(
            route,
            state.mode,
            ex.method,
            ex.target === 'legacy' ? 'service' : 'legacy',
          );
          if (planned) skip(route.id, 'failover');
          return;
        }
        if (ex.error) {
          skip(route.id, 'primary-error');
          return;
        }
        if (ex.responseBody === null || (ex.requestBody === null && hasBody(ex.requestHeaders))) {
          skip(route.id, 'body-cap');
          return;
        }
        const bytes = ex.responseBody.length + (ex.requestBody?.length ?? 0);
        const refused = limiter.tryAcquire(bytes);
        if (refused) {
          skip(route.id, refused);
          return;
        }
        const held = new Held(limiter, bytes);
        const p: Promise<void> = run(route, side, ex, held).then(
          () => {
            held.release();
            inFlight.delete(p);
          },
          (err) => {
            logger?.error({ err, route: route.id }, 'shadow comparison failed');
            skip(route.id, 'internal-error');
            held.release();
            inFlight.delete(p);
          },
        );
        inFlight.add(p);
      } catch (err) {
        // The seam promises never to throw into the proxy.
        logger?.error({ err, route: route.id }, 'shadow hook failed');
      }
    },

    countSkipped(routeId: string, reason: string, n: number): void {
      if (closed || n <= 0) return;
      const b = batchOf(routeId);
      b.skipped[reason] = (b.skipped[reason] ?? 0) + n;
      bump();
    },

    flush,

    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },

    load: () => ({ active: limiter.active, bytes: limiter.bytesHeld }),

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      if (flushSoon) clearImmediate(flushSoon);
      // Every exchange is bounded by its own timeout, so this wait is bounded too.
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      await flush();
      await agent.close();
    },
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

/**
 * Building a sample (decoding and copying both bodies) costs more than the
 * diff, and the ring keeps only the newest few anyway. Per flush interval a
 * route takes the first few mismatches, then only ones with a combination of
 * differing fields not yet sampled in this batch, up to the ring size: the
 * report's "example pair per field" needs variety, not volume.
 */
const EVERY_KIND_FIRST = 3;
const sampledKeys = new WeakMap<ShadowBatch, Set<string>>();
function wantSample(b: ShadowBatch, key: string, ring: number): boolean {
  if (b.samples.length >= ring) return false;
  let keys = sampledKeys.get(b);
  if (!keys) {
    keys = new Set();
    sampledKeys.set(b, keys);
  }
  if (keys.has(key) && b.samples.length >= EVERY_KIND_FIRST) return false;
  keys.add(key);
  return true;
}


const round = (ms: number) => Math.round(ms * 100) / 100;

function redactHeaders(
  h: Record<string, string | string[] | undefined>,
  redact: Set<string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = redact.has(k.toLowerCase()) ? '[redacted]' : fieldValue(v);
  }
  return out;
}

function bodyText(r: CapturedResponse): string {
  if (!r.body) return '';
  let b: Buffer;
  try {
    b = decodeBody(r.body, headerValue(r.headers, 'content-encoding'));
  } catch {
    return `<${r.body.length} bytes, undecodable>`;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return `<${b.length} bytes binary>`;
  }
  return text.length > SAMPLE_BODY_CHARS ? text.slice(0, SAMPLE_BODY_CHARS) + '…' : text;
}

function sampleOf(
  route: RouteConfig,
  ex: PrimaryExchange,
  legacy: CapturedResponse,
  service: CapturedResponse,
  diff: ShadowDiff,
  redact: Set<string>,
  at: Date,
): ShadowSample {
  return {
    at: at.toISOString(),
    endpoint: `${ex.method} ${ex.pattern || route.match.path}`,
    primary: ex.target,
    request: { method: ex.method, url: ex.url, headers: redactHeaders(ex.requestHeaders, redact) },
    legacy: { status: legacy.status, headers: redactHeaders(legacy.headers, redact), body: bodyText(legacy) },
    service: {
      status: service.status,
      headers: redactHeaders(service.headers, redact),
      body: bodyText(service),
    },
    differences: diff.differences.slice(0, 50).map((d) => ({
      path: d.path,
      kind: d.kind,
      ...(d.legacy !== undefined ? { legacy: d.legacy } : {}),
      ...(d.service !== undefined ? { service: d.service } : {}),
    })),
    // The store keeps this sample as the newest example of each of these fields.
    fields: diff.fields.slice(0, 50),
  };
}

/** End a copy's span with its outcome (the copy's own result is passed on unchanged). */
async function traced<T extends { status: number }>(
  trace: ReturnType<CopyTrace['start']> | undefined,
  copy: Promise<T>,
): Promise<T> {
  if (!trace) return copy;
  try {
    const answer = await copy;
    trace.end({ status: answer.status });
    return answer;
  } catch (err) {
    trace.end({ error: err instanceof SkipError ? err.reason : 'error' });
    throw err;
  }
}
