/**
 * Sends one copy of a primary request to one side and brings back its answer,
 * timed. It has its own undici Agent (never the proxy's pool), sized to the
 * shadow concurrency cap, so a blackholed service fills only shadow sockets;
 * and its own timeout (route.shadow.timeoutMs) covering the whole exchange.
 */
import { performance } from 'node:perf_hooks';
import { Agent, type Dispatcher } from 'undici';
import { basePathOf, type Config, type RouteConfig, upstreamUrls } from '../core/config.js';
import { fieldValue } from '../core/header-fields.js';
import { connectionNamed, isHopByHop, isProxyField } from '../core/hop-by-hop.js';
import type { Target } from '../core/types.js';
import { skipping100Continue } from '../core/interim-responses.js';
import { collect, SkipError } from './collect.js';
import { headerValue } from './diff.js';
import type { Answer } from './record.js';
import type { CopyTrace, PrimaryExchange } from './types.js';

/** The header every shadow copy carries, so upstreams can tell copies from real traffic. */
export const SHADOW_HEADER = 'x-strangler-shadow';

/** Besides the hop-by-hop fields (core/hop-by-hop.ts): those the copy sets itself or undici computes. */
const COPY_DROP = new Set(['host', 'content-length', 'expect']);

/** A base URL taken apart once: URL's getters build new strings on every read. */
interface Base {
  origin: string;
  host: string;
  /** The base URL's path without a trailing slash, put in front of the request's. */
  prefix: string;
}

type CopySpan = ReturnType<CopyTrace['start']>;

export class CopySender {
  private readonly agent: Agent;
  private readonly bases = new Map<string, Base>();
  /** Round-robin position per route and side over a side's several upstream URLs. */
  private readonly next = new WeakMap<RouteConfig, { legacy: number; service: number }>();

  constructor(
    private readonly config: Readonly<Config>,
    /** Monotonic milliseconds for an answer's duration. */
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.agent = new Agent({
      connections: config.proxy.shadowMaxConcurrent,
      keepAliveTimeout: config.proxy.keepAliveTimeoutMs,
      // As for primaries: an unrequested 100 Continue is skipped, not a failed copy.
      connect: skipping100Continue(),
    });
  }

  /**
   * The copy of `ex` to `side`, answered and timed; rejects with a SkipError
   * (timeout, body-cap, bytes-cap, error). `grow` asks the byte budget for room
   * as the answer's body arrives.
   */
  async send(
    route: RouteConfig,
    side: Target,
    ex: PrimaryExchange,
    grow: (n: number) => boolean,
  ): Promise<Answer> {
    const base = this.baseOf(route, side);
    const trace = ex.copyTrace?.start(side);
    const headers = copyHeaders(ex.requestHeaders, base.host, trace);
    const timeoutMs = route.shadow.timeoutMs;
    const started = this.clock();
    const answer = await traced(
      trace,
      collect(
        this.agent,
        {
          origin: base.origin,
          path: base.prefix + ex.url,
          method: ex.method as Dispatcher.HttpMethod,
          headers,
          body: ex.requestBody && ex.requestBody.length > 0 ? ex.requestBody : undefined,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        { timeoutMs, maxBodyBytes: route.shadow.maxBodyBytes, grow },
      ),
    );
    const timed = answer as Answer;
    timed.durationMs = this.clock() - started;
    return timed;
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private baseOf(route: RouteConfig, side: Target): Base {
    const urls =
      side === 'legacy'
        ? upstreamUrls(this.config.legacy)
        : upstreamUrls(this.config.services[route.service]);
    const raw = urls.length === 1 ? urls[0] : urls[this.nextIndex(route, side) % urls.length];
    let base = this.bases.get(raw);
    if (!base) {
      const u = new URL(raw);
      base = { origin: u.origin, host: u.host, prefix: basePathOf(u) };
      this.bases.set(raw, base);
    }
    return base;
  }

  private nextIndex(route: RouteConfig, side: Target): number {
    let n = this.next.get(route);
    if (!n) {
      n = { legacy: 0, service: 0 };
      this.next.set(route, n);
    }
    return n[side]++;
  }
}

/**
 * The copy's headers as a flat [name, value, ...] list: the client's, minus
 * hop-by-hop fields and those Connection names (as the primary forwards them),
 * with the side's Host and our marker. The client's own x-strangler-* fields
 * (x-strangler-shadow among them) must not ride along beside ours, nor its traceparent beside the copy's own
 * (tracestate and baggage do).
 */
function copyHeaders(given: PrimaryExchange['requestHeaders'], host: string, trace?: CopySpan): string[] {
  const headers: string[] = [];
  const named = connectionNamed(headerValue(given, 'connection'));
  const dropped = (name: string) =>
    isHopByHop(name) ||
    COPY_DROP.has(name) ||
    named?.has(name) ||
    isProxyField(name) ||
    (trace !== undefined && name === 'traceparent');
  for (const k in given) {
    const v = given[k];
    const name = k.toLowerCase();
    if (v !== undefined && !dropped(name)) headers.push(name, fieldValue(v));
  }
  headers.push('host', host, SHADOW_HEADER, '1');
  if (trace) headers.push('traceparent', trace.traceparent);
  return headers;
}

/** End a copy's span with its outcome (the copy's own result is passed on unchanged). */
async function traced<T extends { status: number }>(
  trace: CopySpan | undefined,
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
