/**
 * Only one instance at a time runs the guard and drives the canary rollouts:
 * every `strangler serve` (and the primary of `--workers`) competes for a
 * lease in the store and starts both only while holding it. If the leader
 * dies, its lease expires and another instance takes over within one TTL,
 * rollouts included: their state is in the store (control/canary.ts). Each
 * change of holder is audited as `lease.takeover` (recordTakeover).
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
      void recordTakeover(store, GUARD_LEASE, holder).catch((err) =>
        logger.warn({ err }, 'guard lease: takeover not recorded in the audit log'),
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

/** The lease's last holder, kept as a record so the next one can name it (a lease key expires with its holder). */
const LEASE_HOLDER_KIND = 'lease-holder';

/**
 * Who drives rollouts and guard rollbacks now belongs in the audit log: a
 * `lease.takeover` row naming the previous and the new holder (the previous
 * is null the first time), written when the holder changes. Not when the same
 * holder re-acquires after a store outage.
 */
export async function recordTakeover(store: Store, name: string, holder: string): Promise<void> {
  // A lost store (emptied, replaced, gone back) gets no new rows: it is to be restored, not written.
  if ((await store.integrity()).state !== 'ok' || (await store.lostMark())) return;
  const cur = await store.records.get<{ holder: string; since: string }>(LEASE_HOLDER_KIND, name);
  if (cur?.value.holder === holder) return;
  const since = new Date().toISOString();
  // Compare-and-set: of two instances racing here only the real holder writes, once.
  if (!(await store.records.put(LEASE_HOLDER_KIND, name, { holder, since }, cur?.rev ?? 0))) return;
  await store.audit.append({
    actor: holder,
    route: null,
    action: 'lease.takeover',
    before: null,
    after: null,
    reason: cur
      ? `${holder} took the ${name} lease over from ${cur.value.holder} (holder since ${cur.value.since}): it runs the SLO guard and drives canary rollouts now`
      : `${holder} took the ${name} lease (no holder before): it runs the SLO guard and drives canary rollouts now`,
    details: { lease: name, previous: cur?.value.holder ?? null, holder },
  });
}
