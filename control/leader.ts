/**
 * Only one instance at a time runs the guard: every `strangler serve` (and the
 * primary of `--workers`) competes for a lease in the store and starts its
 * guard only while holding it. If the leader dies, its lease expires and
 * another instance takes over within one TTL.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { holdLease } from '../store/lease.js';
import type { Store } from '../store/types.js';
import { type Guard, startGuard } from './guard.js';

export const GUARD_LEASE = 'guard';
const GUARD_LEASE_TTL_MS = 10_000;

export function startGuardWhenLeader(opts: {
  config: Readonly<Config>;
  store: Store;
  logger: Logger;
  ttlMs?: number;
  holder?: string;
}): { stop(): Promise<void>; isLeader(): boolean } {
  const { config, store, logger } = opts;
  const holder = opts.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  let guard: Guard | undefined;
  const lease = holdLease(store.lease, {
    name: GUARD_LEASE,
    holder,
    ttlMs: opts.ttlMs ?? GUARD_LEASE_TTL_MS,
    onAcquire: () => {
      logger.info({ holder }, 'guard lease acquired: this instance runs the SLO guard');
      guard = startGuard({ config, store, logger });
    },
    onLose: (reason) => {
      (reason === 'stopped' ? logger.info.bind(logger) : logger.warn.bind(logger))({ holder, reason }, 'guard lease released: guard stopped here');
      guard?.stop();
      guard = undefined;
    },
    onError: (err) => logger.debug({ err }, 'guard lease: store unreachable'),
  });
  return {
    isLeader: () => lease.isHeld(),
    stop: async () => {
      await lease.stop();
      guard?.stop();
    },
  };
}
