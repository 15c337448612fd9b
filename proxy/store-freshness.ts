/**
 * How stale this proxy's route table may be. The store's watch() repairs the
 * table but cannot say the store is away, so the proxy checks the store's
 * table version itself: the gauge `strangler_store_stale_seconds` is the time
 * since the store last answered (0 while it answers), a transition to and
 * from "unreachable" is logged once each, and a reload is forced when the
 * store comes back so every instance converges at once.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../core/log.js';
import type { Store } from '../store/types.js';

export class StoreFreshness {
  private lastOk = Date.now();
  private down = false;
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
    this.timer = setInterval(() => void this.check(), Math.max(250, intervalMs));
    this.timer.unref();
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

  private async check(): Promise<void> {
    try {
      await this.store.routes.tableVersion();
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
