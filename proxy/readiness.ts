/**
 * Whether this proxy should be sent traffic (`GET /readyz` on the admin API).
 *
 * Ready once (1) the route table was loaded from the store — a proxy that
 * started while the store was away serves the config's seed modes, which may
 * be stale, so it waits for the first good read — and (2) every base URL of
 * the upstreams the current modes send traffic to answered one probe (`GET
 * probePath` with a status below 500): traffic sent before they listen would
 * only become 502s. Those upstreams are legacy (the default route) and the
 * service of each route or extraction point in `canary` or `service` mode. A
 * declared service whose routes are all in `legacy` or `shadow` gets no
 * client's request (a shadow copy is the proxy's own, failing counted, never
 * answered) and does not hold readiness: the example config declares the
 * next service before it is written (issue 25). A flip to `canary` adds its
 * service to what the next question waits for.
 *
 * Each answered probe is latched: an upstream failing later is failover's
 * business, and a store going away later leaves the last good table serving
 * (DESIGN.md), so neither takes a serving proxy out of rotation. Not ready
 * again from the moment it drains.
 *
 * Probing starts with the first question (the first GET /readyz), and only
 * for the upstreams in use: a proxy nobody asks sends no probe traffic at
 * all, and the first answer is "not ready yet" until the probes are back.
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

/** The upstreams a route table sends clients' requests to: legacy, and the service of every route in canary or service mode. */
export function upstreamsInUse(routes: Iterable<{ service: string; mode: string }>): Set<string> {
  const names = new Set([LEGACY]);
  for (const r of routes) if (r.mode === 'canary' || r.mode === 'service') names.add(r.service);
  return names;
}

const LEGACY = 'legacy';

export class Readiness {
  private tableLoaded = false;
  private draining = false;
  /** Per upstream (`legacy` or a service name): its probe URLs. */
  private readonly probeUrls = new Map<string, string[]>();
  /** Probe URLs not answered yet. */
  private readonly pending = new Set<string>();
  /** Probe URLs being probed (answered ones leave `pending`, never this). */
  private readonly started = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    config: Readonly<Config>,
    private readonly logger?: Pick<Logger, 'info'>,
  ) {
    const upstreams: Array<[string, Config['legacy']]> = [
      [LEGACY, config.legacy],
      ...Object.entries(config.services),
    ];
    for (const [name, u] of upstreams) {
      const probePath = u.probePath ?? '/';
      const urls = upstreamUrls(u).map((base) => new URL(probePath, base).href);
      this.probeUrls.set(name, urls);
      for (const url of urls) this.pending.add(url);
    }
  }

  /** The route table now reflects the store. */
  markTableLoaded(): void {
    this.tableLoaded = true;
  }

  /** From now on: not ready (a stopping proxy). */
  markDraining(): void {
    this.draining = true;
  }

  /**
   * Ready or not, and why not. `inUse`: the upstreams the current modes send
   * traffic to (`upstreamsInUse` over the route table); default every
   * declared one. Starts probing those not probed yet.
   */
  state(inUse: ReadonlySet<string> = new Set(this.probeUrls.keys())): ReadinessState {
    const waiting: string[] = [];
    if (this.draining) waiting.push('draining: this proxy is stopping');
    if (!this.tableLoaded) waiting.push('route table not loaded from the store yet');
    for (const [name, urls] of this.probeUrls) {
      if (!inUse.has(name)) continue;
      for (const url of urls) {
        if (!this.pending.has(url)) continue;
        if (!this.started.has(url) && !this.closed) {
          this.started.add(url);
          void this.probe(url);
        }
        waiting.push(
          `upstream not answered yet: GET ${url} (${name === LEGACY ? 'legacy' : `service ${name}, which routes in canary/service mode use`})`,
        );
      }
    }
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
