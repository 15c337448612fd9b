/**
 * How a flip reaches a running proxy — the one place this is written down.
 *
 *   1. `flipRoute` (control/flip.ts) calls `store.routes.flip`: one
 *      transaction writes the route's new version and audit row and raises the
 *      store's table version (SQLite: the `table_version` row; Redis: the
 *      `table-version` key, in the same Lua script that also PUBLISHes it).
 *   2. Every proxy follows that counter through `store.watch`
 *      (proxy/route-table-follower.ts followRouteTable), which calls `reload` when it changes.
 *      Three things feed one VersionWatch (below), so a change is reported
 *      once however many of them see it:
 *        - the poll, every `proxy.pollIntervalMs` (both backends: SQLite has
 *          no cross-process notification, and Redis pub/sub loses messages
 *          sent while a subscriber is cut off);
 *        - Redis only: the published version, at once;
 *        - Redis only: a check as soon as the subscriber reconnects.
 *   3. `reload` (proxy/route-table-follower.ts) rebuilds the RouteTable from the store and
 *      swaps one reference; requests in flight keep the table they started
 *      with. It refuses to reload from a store that lost its state or whose
 *      counter (the generation) went below one this process saw — a restore
 *      from an older snapshot also "changes" the counter (store/generation.ts).
 *
 * Besides the poll, one more timer reads the same counter, StoreFreshness (proxy/store-freshness.ts),
 * and it is not a duplicate: watch() swallows errors (the caller keeps its
 * table), while StoreFreshness exists to see them — how long the store has
 * been away (`strangler_store_stale_seconds`), whether it lost its state —
 * and calls `reload` when the store comes back, even if the counter reads
 * the same as before the outage.
 */

export interface VersionWatch {
  /** Read the version now (a poll tick; Redis also on reconnect). */
  check(): Promise<void>;
  /** A version announced by another channel (Redis pub/sub). */
  announced(version: number): void;
  stop(): void;
}

/**
 * Call `onChange` once for each table version not seen before, polling
 * `read` every `intervalMs` (first at once). The first version read is the
 * baseline: the caller loaded its table from it.
 */
export function watchTableVersion(
  read: () => Promise<number>,
  onChange: () => void,
  intervalMs: number,
): VersionWatch {
  let last: number | undefined;
  const seen = (v: number) => {
    if (!Number.isFinite(v)) return;
    const changed = last !== undefined && v !== last;
    last = v;
    if (changed) onChange();
  };
  const check = async () => {
    try {
      seen(await read());
    } catch {
      // The store is away, closed or busy: the caller keeps its last good
      // table (StoreFreshness reports the outage); the next tick retries.
    }
  };
  void check();
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return {
    check,
    // A published version lower than the polled one can only be a late
    // duplicate; equal means already seen.
    announced: (v) => {
      if (last === undefined || v > last) seen(v);
    },
    stop: () => clearInterval(timer),
  };
}
