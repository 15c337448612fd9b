/**
 * Per route+target request counters and a latency histogram, aggregated in
 * memory and flushed to the store every `flushMs`, so the gate and the guard
 * judge the traffic of every proxy instance, not just one. Windows are aligned
 * to `flushMs` (store/stats-window.ts); a window flushed in pieces (one flush
 * mid-window, another at its end) is summed by the store.
 *
 * What to record (proxy/pipeline.ts finish): the target chosen for the request; `ok`
 * false when that target failed (network error, timeout, breaker open, or a
 * 5xx that failover counts), `failover` true when legacy then answered
 * instead. A service failure rescued by failover is still a service error:
 * the guard must see it even though the client did not.
 *
 * Each window also carries the route version the request was routed under: a
 * flip mid-window starts a new window, so the guard and the gate judge a
 * version only on its own traffic (never on the errors that preceded a flip).
 */
import type { Target } from '../core/types.js';
import { BUCKET_COUNT, bucketIndex, emptyBuckets, windowStart } from '../store/stats-window.js';
import type { Store, StatsWindow } from '../store/types.js';

/** Windows kept for retry while the store is away; beyond this the oldest are dropped. */
const MAX_PENDING_WINDOWS = 10_000;

const windowKey = (route: string, target: Target, start: number, version: number | undefined) =>
  `${route}\0${target}\0${start}\0${version ?? ''}`;

export class StatsRecorder {
  private windows = new Map<string, StatsWindow>();
  /** The window the last request went to; forgotten whenever `windows` is replaced. */
  private last: StatsWindow | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly instanceId: string,
    private readonly flushMs: number,
    /** Epoch-ms clock; tests pass a fake one. */
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(flushMs) || flushMs <= 0)
      throw new RangeError(`flushMs: expected a positive whole number of ms, got ${flushMs}`);
  }

  /** `version`: the route's version in the table that routed the request (RouteState.version). */
  record(
    route: string,
    version: number | undefined,
    target: Target,
    durationMs: number,
    ok: boolean,
    failover: boolean,
  ): void {
    const start = windowStart(this.now(), this.flushMs);
    // Consecutive requests mostly hit the window the last one did: skip
    // building the key string and the map lookup then.
    let w = this.last;
    if (!w || w.start !== start || w.route !== route || w.target !== target || w.version !== version) {
      w = this.windows.get(windowKey(route, target, start, version));
      if (w) this.last = w;
    }
    if (!w) {
      w = {
        route,
        target,
        instance: this.instanceId,
        start,
        ...(version === undefined ? {} : { version }),
        durationMs: this.flushMs,
        requests: 0,
        errors: 0,
        failovers: 0,
        buckets: emptyBuckets(),
      };
      this.windows.set(windowKey(route, target, start, version), w);
      this.last = w;
    }
    w.requests++;
    if (!ok) w.errors++;
    if (failover) w.failovers++;
    w.buckets[bucketIndex(durationMs)]++;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    // A recorder must never keep a process alive on its own.
    this.timer.unref();
  }

  /** Write everything recorded so far. Serialised: a slow store never sees two flushes at once. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushOnce());
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    if (this.windows.size === 0) return;
    const batch = [...this.windows.values()];
    this.windows = new Map();
    this.last = undefined;
    try {
      await this.store.stats.add(batch);
    } catch {
      // Store away (Redis down, SQLite busy): keep the counts and retry on the
      // next flush rather than lose them; the proxy keeps serving regardless.
      for (const w of batch) this.mergeBack(w);
      if (this.windows.size > MAX_PENDING_WINDOWS) {
        // A long outage: drop the oldest windows, which the guard's SLO window has passed anyway.
        const keep = [...this.windows.entries()]
          .sort((a, b) => b[1].start - a[1].start)
          .slice(0, MAX_PENDING_WINDOWS);
        this.windows = new Map(keep);
        this.last = undefined;
      }
    }
  }

  private mergeBack(w: StatsWindow): void {
    const key = windowKey(w.route, w.target, w.start, w.version);
    const cur = this.windows.get(key);
    if (!cur) {
      this.windows.set(key, w);
      return;
    }
    cur.requests += w.requests;
    cur.errors += w.errors;
    cur.failovers += w.failovers;
    for (let i = 0; i < BUCKET_COUNT; i++) cur.buckets[i] += w.buckets[i] ?? 0;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
