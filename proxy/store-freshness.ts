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
 * nothing or someone else's state, or one restored from an older backup
 * answers with the same identity at a lower generation (store/generation.ts).
 * Then `lost()` says why (gauge `strangler_store_lost{reason="state-lost"|"went-back"}`
 * 1, logged once with how to recover), and the proxy keeps serving its last
 * good table instead of reloading from it.
 */
import { hostname } from 'node:os';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../core/log.js';
import { recoveryHint } from '../store/recovery.js';
import type { Store, StoreIntegrity } from '../store/types.js';

type Lost = Extract<StoreIntegrity, { state: 'lost' }>;

export class StoreFreshness {
  private lastOk = Date.now();
  private down = false;
  private lostState: Lost | undefined;
  /** The newest route-table version read while the store was intact: what the lost mark reports. */
  private lastGoodVersion: number | undefined;
  private markLogged = false;
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
      help: '1 while the store has lost the state this proxy opened (reason="state-lost": restarted empty, file removed or replaced, re-seeded) or went back to an older generation (reason="went-back": restored from an older backup): the proxy serves its last good table and flips are refused.',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset();
        const lost = self.lostState;
        if (lost === undefined) this.set(0);
        else this.set({ reason: lost.wentBack ? 'went-back' : 'state-lost' }, 1);
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
    // The table just reloaded, for the lost mark. Versions only grow within
    // one store identity, so a late read from an emptied store cannot lower it.
    void this.store.routes
      .tableVersion()
      .then((v) => this.servedVersion(v))
      .catch(() => {});
    if (this.down) {
      this.down = false;
      this.logger.warn({ staleMs: 0 }, 'store reachable again: route table refreshed');
      this.onRecovered();
    }
  }

  /** Why the store is lost, while it is; the route table must not be reloaded from it then. */
  lost(): string | undefined {
    return this.lostState?.reason;
  }

  /**
   * The store is lost (this timer's check, or a reload that found it first:
   * a pub/sub reconnect to a Redis restored from an older snapshot): log
   * once, count it, and leave the lost mark so other processes know.
   */
  noticeLost(integrity: Lost): void {
    if (this.lostState === undefined)
      this.logger.error(
        { store: this.store.label, reason: integrity.reason, wentBack: integrity.wentBack },
        integrity.wentBack
          ? `${integrity.reason}: serving the last good route table, flips refused; to recover: ${recoveryHint(true)}`
          : `store lost its state (${integrity.reason}): serving the last good route table, flips refused; to recover: ${recoveryHint(false)}`,
      );
    this.lostState = integrity;
    this.leaveLostMark(integrity);
  }

  private async check(): Promise<void> {
    try {
      const version = await this.store.routes.tableVersion();
      const integrity = await this.store.integrity();
      if (integrity.state === 'lost') {
        this.noticeLost(integrity);
        return;
      }
      this.servedVersion(version);
      if (this.lostState !== undefined) {
        this.lostState = undefined;
        this.logger.warn(
          { store: this.store.label },
          'store state is back: reloading the route table from it',
        );
        this.onRecovered();
      }
      this.confirmed();
    } catch (err) {
      if (!this.down) {
        this.down = true;
        this.logger.warn(
          { err: (err as Error).message },
          'store unreachable: serving the last good route table',
        );
      }
    }
  }

  /**
   * Every check while lost: so no later `serve` seeds the config's modes
   * into the empty store beside this proxy's table (store/lost-mark.ts).
   * Written only if absent; repeated because the mark itself may be lost too.
   */
  private servedVersion(v: number): void {
    this.lastGoodVersion = Math.max(this.lastGoodVersion ?? 0, v);
  }

  private leaveLostMark(lost: Lost): void {
    // Went back: the mark keeps the highest generation seen, so no later
    // process takes the older snapshot for the state it left.
    const highest = Math.max(this.lastGoodVersion ?? 0, lost.wentBack?.from ?? 0);
    this.store
      .markLost({
        lastVersion: highest || (this.lastGoodVersion ?? null),
        noticedBy: `${hostname()}:${process.pid}`,
        reason: lost.reason,
        ...(lost.wentBack ? { wentBack: lost.wentBack } : {}),
      })
      .then((mark) => {
        if (this.markLogged) return;
        this.markLogged = true;
        this.logger.warn(
          { store: this.store.label, lostMark: mark },
          'lost mark in place: no `serve` will seed this store until it is restored or `strangler seed` is run',
        );
      })
      .catch(() => {
        // the store is away too: tried again at the next check
      });
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
