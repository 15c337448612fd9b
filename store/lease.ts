/**
 * A renewing lease holder: only the instance holding `name` runs a singleton
 * job (the guard, the canary stepper). It tries to take the lease every
 * `renewEveryMs`, renews it while held, and gives leadership up as soon as a
 * renew fails or the store cannot confirm it before the TTL would run out —
 * so two holders never both believe they lead for longer than one renew
 * period plus clock skew. If the holder dies, the lease expires and another
 * instance's next attempt takes it over.
 */
import type { LeaseStore } from './types.js';

export interface LeaseOptions {
  name: string;
  /** Unique per instance, e.g. `${hostname}:${pid}:${random}`. */
  holder: string;
  ttlMs: number;
  /** Default ttlMs / 3: two renew attempts may fail before the lease lapses. */
  renewEveryMs?: number;
  onAcquire?: () => void;
  onLose?: (reason: 'taken' | 'store-unreachable' | 'stopped') => void;
  onError?: (err: unknown) => void;
}

export interface LeaseHandle {
  isHeld(): boolean;
  /** Stop trying, release the lease if held (best effort), and call onLose('stopped') if it was held. */
  stop(): Promise<void>;
}

export function holdLease(leases: LeaseStore, opts: LeaseOptions): LeaseHandle {
  if (!(opts.ttlMs > 0)) throw new RangeError(`lease ttlMs must be > 0, got ${opts.ttlMs}`);
  const every = opts.renewEveryMs ?? Math.max(1, Math.floor(opts.ttlMs / 3));
  let held = false;
  // Local estimate of when our lease ends, measured from before the request
  // was sent, so it errs on the early side.
  let heldUntil = 0;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  const lose = (reason: 'taken' | 'store-unreachable' | 'stopped') => {
    if (!held) return;
    held = false;
    opts.onLose?.(reason);
  };

  const tick = async () => {
    const sentAt = Date.now();
    try {
      if (held) {
        if (await leases.renew(opts.name, opts.holder, opts.ttlMs)) heldUntil = sentAt + opts.ttlMs;
        else lose('taken');
      } else if (await leases.acquire(opts.name, opts.holder, opts.ttlMs)) {
        // Told to stop while the acquire was in flight: give back what we just won
        // rather than hold it, unused, until it expires.
        if (stopped) {
          await leases.release(opts.name, opts.holder);
          return;
        }
        held = true;
        heldUntil = sentAt + opts.ttlMs;
        opts.onAcquire?.();
      }
    } catch (err) {
      opts.onError?.(err);
      // Cannot confirm: stop leading before the store could give the lease away.
      if (held && Date.now() + every >= heldUntil) lose('store-unreachable');
    }
  };

  const schedule = () => {
    running = running.then(tick);
  };
  schedule();
  const timer = setInterval(schedule, every);
  timer.unref();

  return {
    isHeld: () => held,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      if (held) {
        lose('stopped');
        await leases.release(opts.name, opts.holder).catch((err) => opts.onError?.(err));
      }
    },
  };
}
