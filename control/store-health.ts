/**
 * What `/healthz` says about the store: ok, or degraded with the reason —
 * unreachable, lost its state (with how to restore), or its last write
 * failed (a full disk, a read-only file). Read-only: it never writes.
 */
import { isStranglerError } from '../core/errors.js';
import { RESTORE_HINT } from '../store/integrity.js';
import type { Store } from '../store/types.js';

export interface StoreHealth {
  ok: boolean;
  status: 'ok' | 'degraded';
  store: string;
  problem?: {
    kind: 'unreachable' | 'lost' | 'uninitialised' | 'write-failed';
    message: string;
    since?: string;
  };
}

export async function storeHealth(store: Store): Promise<StoreHealth> {
  const degraded = (problem: NonNullable<StoreHealth['problem']>): StoreHealth => ({
    ok: false,
    status: 'degraded',
    store: store.kind,
    problem,
  });
  try {
    await store.routes.tableVersion();
    const integrity = await store.integrity();
    if (integrity.state !== 'ok')
      return degraded({
        kind: integrity.state,
        message:
          integrity.state === 'lost'
            ? `${store.label} lost its state (${integrity.reason}); serving the last good route table, flips refused; to recover: ${RESTORE_HINT}`
            : `${store.label}: ${integrity.reason}`,
      });
  } catch (err) {
    return degraded({ kind: 'unreachable', message: isStranglerError(err) ? err.message : String(err) });
  }
  const w = store.lastWriteError();
  if (w) return degraded({ kind: 'write-failed', message: w.message, since: w.at });
  return { ok: true, status: 'ok', store: store.kind };
}
