/**
 * Whether this proxy should be sent traffic (`GET /readyz` on the admin API).
 *
 * Ready once (1) the route table was loaded from the store — a proxy that
 * started while the store was away serves the config's seed modes, which may
 * be stale, so it waits for the first good read — and (2) every upstream base
 * URL answered one probe (`GET probePath` with a status below 500): traffic
 * sent before the monolith listens would only become 502s. Both are latched:
 * an upstream failing later is failover's business, and a store going away
 * later leaves the last good table serving (DESIGN.md), so neither takes a
 * serving proxy out of rotation. Not ready again from the moment it drains.
 *
 * Probing starts with the first question (the first GET /readyz): a proxy
 * nobody asks sends its upstreams no probe traffic at all, and the first
 * answer is "not ready yet" until the probes are back.
 */
import { request } from 'undici';
import type { Config } from '../core/config.js';
import { upstreamUrls } from '../core/config.js';
import type { Logger } from '../core/log.js';

/** Between probes of an upstream that has not answered yet. */
const PROBE_INTERVAL_MS = 500;
const PROBE_TIMEOUT_MS = 2000;

export interface ReadinessState {
  ready: boolean;
  /** Why not, one line each: empty when ready. */
  waiting: string[];
}

export class Readiness {
  private tableLoaded = false;
  private draining = false;
  /** Probe URLs not answered yet. */
  private readonly pending = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  private probing = false;

  constructor(
    config: Readonly<Config>,
    private readonly logger?: Pick<Logger, 'info'>,
  ) {
    const upstreams = [config.legacy, ...Object.values(config.services)];
    for (const u of upstreams) {
      const probePath = u.probePath ?? '/';
      for (const base of upstreamUrls(u)) this.pending.add(new URL(probePath, base).href);
    }
  }

  /** Probe every upstream until each answered once (called by the first state()). */
  private start(): void {
    this.probing = true;
    for (const url of this.pending) void this.probe(url);
  }

  /** The route table now reflects the store. */
  markTableLoaded(): void {
    this.tableLoaded = true;
  }

  /** From now on: not ready (a stopping proxy). */
  markDraining(): void {
    this.draining = true;
  }

  state(): ReadinessState {
    if (!this.probing && !this.closed) this.start();
    const waiting: string[] = [];
    if (this.draining) waiting.push('draining: this proxy is stopping');
    if (!this.tableLoaded) waiting.push('route table not loaded from the store yet');
    for (const url of this.pending) waiting.push(`upstream not answered yet: GET ${url}`);
    return { ready: waiting.length === 0, waiting };
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async probe(url: string): Promise<void> {
    if (this.closed) return;
    try {
      const res = await request(url, {
        method: 'GET',
        headersTimeout: PROBE_TIMEOUT_MS,
        bodyTimeout: PROBE_TIMEOUT_MS,
        headers: { 'user-agent': 'strangler-readiness' },
      });
      await res.body.dump();
      if (res.statusCode < 500) {
        this.pending.delete(url);
        this.logger?.info({ url, status: res.statusCode }, 'upstream answered the readiness probe');
        return;
      }
    } catch {
      // not up yet: try again
    }
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.probe(url);
    }, PROBE_INTERVAL_MS);
    t.unref();
    this.timers.add(t);
  }
}
