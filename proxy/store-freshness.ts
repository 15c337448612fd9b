/**
 * How stale this proxy's route table may be. The store's watch() repairs the
 * table but cannot say the store is away, so the proxy checks the store's
 * table version itself: the gauge `strangler_store_stale_seconds` is the time
 * since the store last answered (0 while it answers), a transition to and
 * from "unreachable" is logged once each, and a reload is forced when the
 * store comes back so every instance converges at once.
 *
 * It also checks the store's integrity: a store that lost its state (Redis
 * restarted empty, the SQLite file removed or replaced) answers, but with
 * nothing or someone else's state. Then `lost()` says why (gauge
 * `strangler_store_lost` 1, logged once with how to restore), and the proxy
 * keeps serving its last good table instead of reloading from it.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../core/log.js';
import { RESTORE_HINT } from '../store/integrity.js';
import type { Store } from '../store/types.js';

export class StoreFreshness {
  private lastOk = Date.now();
  private down = false;
  private lostReason: string | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    registry: Registry,
    private readonly logger: Logger,
    intervalMs: number,
    private readonly onRecovered: () => void,
  ) {
    const self = this;
    new Gauge({
      name: 'strangler_store_stale_seconds',
      help: 'Seconds since the store last answered this proxy (0 while it answers); the route table served is at most this old.',
      registers: [registry],
      collect() {
        this.set(self.down ? (Date.now() - self.lastOk) / 1000 : 0);
      },
    });
    new Gauge({
      name: 'strangler_store_lost',
      // --workers: the primary aggregates its workers' registries; one lost is lost (not a count).
      aggregator: 'max',
      help: '1 while the store has lost the state this proxy opened (restarted empty, file removed or replaced): the proxy serves its last good table and flips are refused.',
      registers: [registry],
      collect() {
        this.set(self.lostReason === undefined ? 0 : 1);
      },
    });
    this.timer = setInterval(() => void this.check(), Math.max(250, intervalMs));
    this.timer.unref();
  }

  /**
   * The store did not answer when the proxy started: it serves the config's
   * modes, and the first successful check must reload the table from the
   * store (onRecovered), even if no check ever saw a failure (a Redis client
   * may hold its commands until it reconnects instead of failing them).
   */
  markUnreachable(): void {
    this.down = true;
  }

  /** A successful read of the routes also counts. */
  confirmed(): void {
    this.lastOk = Date.now();
    if (this.down) {
      this.down = false;
      this.logger.warn({ staleMs: 0 }, 'store reachable again: route table refreshed');
      this.onRecovered();
    }
  }

  /** Why the store is lost, while it is; the route table must not be reloaded from it then. */
  lost(): string | undefined {
    return this.lostReason;
  }

  private async check(): Promise<void> {
    try {
      await this.store.routes.tableVersion();
      const integrity = await this.store.integrity();
      if (integrity.state === 'lost') {
        if (this.lostReason === undefined)
          this.logger.error(
            { store: this.store.label, reason: integrity.reason },
            `store lost its state (${integrity.reason}): serving the last good route table, flips refused; to recover: ${RESTORE_HINT}`,
          );
        this.lostReason = integrity.reason;
        return;
      }
      if (this.lostReason !== undefined) {
        this.lostReason = undefined;
        this.logger.warn({ store: this.store.label }, 'store state is back: reloading the route table from it');
        this.onRecovered();
      }
      this.confirmed();
    } catch (err) {
      if (!this.down) {
        this.down = true;
        this.logger.warn({ err: (err as Error).message }, 'store unreachable: serving the last good route table');
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
