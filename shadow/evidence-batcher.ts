/**
 * Shadow evidence waits here, one batch per route, and is written off a timer
 * (or as soon as enough results are pending), so the request path never waits
 * on the store. A batch that cannot be stored is logged and dropped: evidence
 * is best effort, the primary path is not. What it held is not forgotten,
 * though (issue 26: a full disk dropped 279 of 750 comparisons and `shadow
 * report` said "skipped none"): it is counted per route (`lost()`, the
 * `strangler_shadow_evidence_lost_total` counter) and carried into the route's
 * next batch as `skipped[EVIDENCE_LOST]`, so the store shows it once it can
 * write again.
 */
import type { Logger } from '../core/log.js';
import { emptyShadowBatch, type ShadowBatch, type Store } from '../store/types.js';

/** The skip reason under which exchanges of a batch the store refused are reported. */
export const EVIDENCE_LOST = 'store-write-failed';

export interface EvidenceBatcherOptions {
  store: Pick<Store, 'shadow'>;
  logger?: Logger;
  /** Flush this often (ms). */
  flushIntervalMs: number;
  /** ...or as soon as this many results are pending. */
  flushMaxResults: number;
}

export class EvidenceBatcher {
  private readonly batches = new Map<string, ShadowBatch>();
  private readonly lostByRoute = new Map<string, number>();
  private pending = 0;
  private flushing: Promise<void> | undefined;
  private flushSoon: NodeJS.Immediate | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: EvidenceBatcherOptions) {
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  /** The route's pending batch; call `added()` once a result is in it. */
  batchOf(routeId: string): ShadowBatch {
    let b = this.batches.get(routeId);
    if (!b) {
      b = emptyShadowBatch();
      this.batches.set(routeId, b);
    }
    return b;
  }

  /** Count `n` exchanges skipped for `reason` as one result. */
  skip(routeId: string, reason: string, n = 1): void {
    const b = this.batchOf(routeId);
    b.skipped[reason] = (b.skipped[reason] ?? 0) + n;
    this.added();
  }

  /** One more result is pending: flush soon once enough are. */
  added(): void {
    this.pending++;
    if (this.pending >= this.options.flushMaxResults && !this.flushSoon) {
      this.flushSoon = setImmediate(() => {
        this.flushSoon = undefined;
        void this.flush();
      });
    }
  }

  /** Write every pending batch now. */
  async flush(): Promise<void> {
    // One flush at a time keeps batches for a route in order.
    while (this.flushing) await this.flushing;
    if (this.batches.size === 0) return;
    const work = [...this.batches];
    this.batches.clear();
    this.pending = 0;
    this.flushing = this.write(work);
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  private async write(work: Array<[string, ShadowBatch]>): Promise<void> {
    for (const [route, batch] of work) {
      try {
        await this.options.store.shadow.record(route, batch);
      } catch (err) {
        // Exchanges of an earlier lost batch, carried here, were counted then.
        const carried = batch.skipped[EVIDENCE_LOST] ?? 0;
        const held = batch.compared + Object.values(batch.skipped).reduce((a, b) => a + b, 0);
        this.lostByRoute.set(route, (this.lostByRoute.get(route) ?? 0) + held - carried);
        const next = this.batchOf(route);
        next.skipped[EVIDENCE_LOST] = (next.skipped[EVIDENCE_LOST] ?? 0) + held;
        this.options.logger?.warn(
          { err, route, compared: batch.compared, skipped: batch.skipped, lost: held - carried },
          `shadow evidence could not be stored; this batch is lost (counted as skipped "${EVIDENCE_LOST}")`,
        );
      }
    }
  }

  /** Exchanges per route whose evidence the store refused, since this process started. */
  lost(): Record<string, number> {
    return Object.fromEntries(this.lostByRoute);
  }

  /** Stop the timers; the owner flushes once more after its last result. */
  stop(): void {
    clearInterval(this.timer);
    if (this.flushSoon) clearImmediate(this.flushSoon);
  }
}
