/**
 * Shadow evidence waits here, one batch per route, and is written off a timer
 * (or as soon as enough results are pending), so the request path never waits
 * on the store. A batch that cannot be stored is logged and dropped: evidence
 * is best effort, the primary path is not.
 */
import type { Logger } from '../core/log.js';
import { emptyShadowBatch, type ShadowBatch, type Store } from '../store/types.js';

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
        this.options.logger?.warn(
          { err, route, compared: batch.compared, skipped: batch.skipped },
          'shadow evidence could not be stored; this batch is lost',
        );
      }
    }
  }

  /** Stop the timers; the owner flushes once more after its last result. */
  stop(): void {
    clearInterval(this.timer);
    if (this.flushSoon) clearImmediate(this.flushSoon);
  }
}
