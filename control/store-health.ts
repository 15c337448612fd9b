/**
 * What `/healthz` says about the store: ok, or degraded with the reason —
 * unreachable, lost its state or went back to an older generation (with how
 * to recover), or its last write
 * failed (a full disk, a read-only file). Read-only: it never writes.
 */
import { isStranglerError } from '../core/errors.js';
import { recoveryHint } from '../store/recovery.js';
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
          integrity.state === 'uninitialised'
            ? `${store.label}: ${integrity.reason}`
            : integrity.wentBack
              ? `${store.label}: ${integrity.reason}; serving the last good route table, flips refused; to recover: ${recoveryHint(true)}`
              : `${store.label} lost its state (${integrity.reason}); serving the last good route table, flips refused; to recover: ${recoveryHint(false)}`,
      });
  } catch (err) {
    return degraded({ kind: 'unreachable', message: isStranglerError(err) ? err.message : String(err) });
  }
  const w = store.lastWriteError();
  if (w) return degraded({ kind: 'write-failed', message: w.message, since: w.at });
  return { ok: true, status: 'ok', store: store.kind };
}
