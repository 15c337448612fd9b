/**
 * Only one instance at a time runs the guard and drives the canary rollouts:
 * every `strangler serve` (and the primary of `--workers`) competes for a
 * lease in the store and starts both only while holding it. If the leader
 * dies, its lease expires and another instance takes over within one TTL,
 * rollouts included: their state is in the store (control/canary.ts).
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { holdLease } from '../store/lease.js';
import type { Store } from '../store/types.js';
import { type RolloutDriver, startRolloutDriver } from './canary.js';
import { type Guard, startGuard } from './guard.js';

export const GUARD_LEASE = 'guard';
const GUARD_LEASE_TTL_MS = 10_000;

export function startGuardWhenLeader(opts: {
  config: Readonly<Config>;
  store: Store;
  logger: Logger;
  ttlMs?: number;
  holder?: string;
  /** How often the rollout driver looks at the rollouts (default 1 s). */
  rolloutPollMs?: number;
}): { stop(): Promise<void>; isLeader(): boolean } {
  const { config, store, logger } = opts;
  const holder = opts.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  let guard: Guard | undefined;
  let rollouts: RolloutDriver | undefined;
  const lease = holdLease(store.lease, {
    name: GUARD_LEASE,
    holder,
    ttlMs: opts.ttlMs ?? GUARD_LEASE_TTL_MS,
    onAcquire: () => {
      logger.info(
        { holder },
        'guard lease acquired: this instance runs the SLO guard and drives canary rollouts',
      );
      guard = startGuard({ config, store, logger });
      rollouts = startRolloutDriver({ config, store, logger, pollMs: opts.rolloutPollMs });
    },
    onLose: (reason) => {
      (reason === 'stopped' ? logger.info.bind(logger) : logger.warn.bind(logger))(
        { holder, reason },
        'guard lease released: guard stopped here',
      );
      guard?.stop();
      guard = undefined;
      rollouts?.stop();
      rollouts = undefined;
    },
    onError: (err) => logger.debug({ err }, 'guard lease: store unreachable'),
  });
  return {
    isLeader: () => lease.isHeld(),
    stop: async () => {
      await lease.stop();
      guard?.stop();
      rollouts?.stop();
    },
  };
}
