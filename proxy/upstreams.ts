/**
 * Upstream connection pools: one undici Pool per base URL, keep-alive, with
 * idle sockets closed before the upstream's own keep-alive timeout would close
 * them under us (a stale pooled socket is the classic source of sporadic 502s
 * behind Node proxies). Several base URLs are used round-robin.
 *
 * A base URL with a path (`http://host/base`) puts that path in front of every
 * request target, for primaries, failover and shadow copies alike
 * (core/config.ts basePathOf is the one rule; shadow/copy-sender.ts uses it too).
 */
import { type Dispatcher, Pool } from 'undici';
import type { Config, UpstreamConfig } from '../core/config.js';
import { basePathOf, upstreamUrls } from '../core/config.js';
import { skipping100Continue } from '../core/interim-responses.js';

export class Upstream {
  readonly name: string;
  readonly origins: readonly string[];
  /** Each base URL's path without its trailing slash ('' for none), put in front of the request target. */
  readonly prefixes: readonly string[];
  /** Response headers timeout for requests to this upstream. */
  readonly headersTimeoutMs: number;
  /** False when configured to open a connection per request (reuseConnections: false). */
  readonly reusesConnections: boolean;
  private readonly pools: Pool[];
  /** What requests go through: the pools, or the pools with `Connection: close` on every request. */
  private readonly dispatchers: Dispatcher[];
  /** The same pools with `Connection: close` on the request (reset), for askFreshConnection. */
  private readonly closing: Dispatcher[];
  /** Origins whose next request closes its connection after the answer. */
  private readonly freshWanted = new Set<number>();
  private next = 0;

  constructor(name: string, cfg: UpstreamConfig, proxy: Config['proxy']) {
    this.name = name;
    const urls = upstreamUrls(cfg).map((u) => new URL(u));
    this.origins = urls.map((u) => u.origin);
    this.prefixes = urls.map(basePathOf);
    this.headersTimeoutMs = cfg.timeoutMs ?? proxy.requestTimeoutMs;
    this.reusesConnections = reusesConnections(cfg);
    const keepAlive = cfg.keepAliveTimeoutMs ?? proxy.keepAliveTimeoutMs;
    this.pools = this.origins.map(
      (origin) =>
        new Pool(origin, {
          connections: cfg.connections ?? proxy.connectionsPerUpstream,
          pipelining: 1,
          keepAliveTimeout: keepAlive,
          // An upstream's `Keep-Alive: timeout=N` hint may shorten our idle
          // time (minus the threshold) but never lengthen it past ours.
          keepAliveMaxTimeout: keepAlive,
          keepAliveTimeoutThreshold: Math.min(1000, Math.floor(keepAlive / 2)),
          headersTimeout: this.headersTimeoutMs,
          bodyTimeout: Math.max(this.headersTimeoutMs, 60_000),
          connect: skipping100Continue(),
          maxRequestsPerClient: maxRequestsPerClient(cfg),
        }),
    );
    // No reuse: every request says `Connection: close` (RFC 9112 §9.6), so the
    // upstream closes after answering and the next request opens a fresh
    // connection, which servers that stall on reused ones answer at once.
    this.closing = this.pools.map((p) =>
      p.compose((dispatch) => (opts, handler) => dispatch({ ...opts, reset: true }, handler)),
    );
    this.dispatchers = this.reusesConnections ? this.pools : this.closing;
  }

  /** The dispatcher (its origin and base path) for the next request, round-robin. */
  pick(): { pool: Dispatcher; origin: string; prefix: string } {
    const i = this.pools.length === 1 ? 0 : this.next++ % this.pools.length;
    const closes = this.freshWanted.delete(i);
    return {
      pool: closes ? this.closing[i] : this.dispatchers[i],
      origin: this.origins[i],
      prefix: this.prefixes[i],
    };
  }

  /**
   * The next request to `origin` says `Connection: close`, so the one after it
   * opens a fresh connection: the keep-alive stall watch's comparison
   * (proxy/keepalive-stall.ts), which sequential traffic never makes itself.
   */
  askFreshConnection(origin: string): void {
    const i = this.origins.indexOf(origin);
    if (i >= 0) this.freshWanted.add(i);
  }

  /** An origin and base path for protocols that do not use the pools (WebSocket upgrades). */
  pickOrigin(): { origin: string; prefix: string } {
    const { origin, prefix } = this.pick();
    return { origin, prefix };
  }

  /** Finish queued requests and close the sockets. */
  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.close().catch(() => p.destroy())));
  }
}

const reusesConnections = (cfg: UpstreamConfig) => cfg.reuseConnections && cfg.maxRequestsPerConnection !== 1;

/**
 * undici's `maxRequestsPerClient: n` sends `Connection: close` on a socket's
 * (n+1)th request (client-h1.js: `socket[kCounter]++ >= max`), so n requests
 * per connection is n - 1; 1 means no reuse, handled by `reset` above.
 */
function maxRequestsPerClient(cfg: UpstreamConfig): number | undefined {
  const n = cfg.maxRequestsPerConnection;
  return n !== undefined && n > 1 ? n - 1 : undefined;
}

/** Legacy plus one Upstream per configured service. */
export class Upstreams {
  legacy: Upstream;
  private services = new Map<string, Upstream>();

  constructor(config: Readonly<Config>) {
    this.legacy = new Upstream('legacy', config.legacy, config.proxy);
    for (const [name, svc] of Object.entries(config.services)) {
      this.services.set(name, new Upstream(name, svc, config.proxy));
    }
  }

  /**
   * Upstreams applied in the store (`strangler apply`, issue 29): new pools
   * for every upstream, swapped at once; the old pools finish what they
   * carry (undici's close waits for queued and running requests) and close,
   * so no request in flight is dropped.
   */
  replace(config: Readonly<Config>): void {
    const old = this.all();
    const next = new Upstreams(config);
    this.legacy = next.legacy;
    this.services = next.services;
    void Promise.all(old.map((u) => u.close())).catch(() => {});
  }

  service(name: string): Upstream {
    const u = this.services.get(name);
    // Config validation guarantees every route's service exists.
    if (!u) throw new Error(`unknown service "${name}"`);
    return u;
  }

  all(): Upstream[] {
    return [this.legacy, ...this.services.values()];
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((u) => u.close()));
  }
}
