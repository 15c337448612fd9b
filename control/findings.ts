/**
 * Findings the proxies made about upstreams, as the CLI shows them: the
 * latest verdict per upstream origin, kept only while it is a stall and the
 * config still reuses connections to that upstream (reuseConnections: false
 * is the fix, so the note would be stale).
 */
import type { Config } from '../core/config.js';
import type { KeepAliveStallFinding } from '../core/keepalive-stall.js';
import type { Store } from '../store/types.js';

export async function readStallFindings(
  store: Store,
  config: Readonly<Config>,
): Promise<KeepAliveStallFinding[]> {
  const latest = new Map<string, KeepAliveStallFinding>();
  // Newest first: the first verdict seen per key is the current one.
  for (const r of await store.results.list('finding', 200)) {
    const f = r.value as KeepAliveStallFinding;
    if (f?.kind === 'keepalive-stall' && !latest.has(r.key)) latest.set(r.key, f);
  }
  const upstreamCfg = (name: string) => (name === 'legacy' ? config.legacy : config.services[name]);
  return [...latest.values()].filter((f) => {
    const cfg = upstreamCfg(f.upstream);
    return f.stall && cfg?.reuseConnections === true && cfg.maxRequestsPerConnection !== 1;
  });
}
