/**
 * What both stores share about their own health: the errors that say a store
 * lost its state (and how to restore it), and the wrapper that turns any
 * backend failure into STRANGLER_E_STORE while remembering the last failed
 * write for `/healthz`.
 */
import { StranglerError, isStranglerError } from '../core/errors.js';
import { markedLostError, markSatisfied } from './lost-mark.js';
import { recoveryHint } from './recovery.js';
import type { Store, StoreIntegrity } from './types.js';

export function storeLostError(
  label: string,
  integrity: Exclude<StoreIntegrity, { state: 'ok' }>,
): StranglerError {
  if (integrity.state === 'uninitialised')
    return new StranglerError(
      'STRANGLER_E_STORE_LOST',
      `${label}: ${integrity.reason}; \`strangler serve\` or \`strangler seed\` creates it and seeds the routes from the config`,
      { details: { store: label, state: integrity.state } },
    );
  return new StranglerError(
    'STRANGLER_E_STORE_LOST',
    integrity.wentBack
      ? `${label}: ${integrity.reason}; nothing was changed, and proxies keep serving their last good route table. To recover: ${recoveryHint(true)}`
      : `${label}: the store lost its state (${integrity.reason}); nothing was changed, and proxies keep serving their last good route table. To recover: ${recoveryHint(false)}`,
    {
      details: {
        store: label,
        state: integrity.state,
        reason: integrity.reason,
        ...(integrity.wentBack ? { wentBack: integrity.wentBack } : {}),
      },
    },
  );
}

/**
 * The step every writer and every CLI read takes first (`withStore`,
 * `flipRoute` — so the admin API and the console —, rollouts, and any new
 * writer such as `apply`): throw STRANGLER_E_STORE_LOST (exit 5, HTTP 503)
 * unless the store is intact for this process AND no proxy has marked it
 * lost. This process may have opened the store after it was emptied,
 * replaced or restored from an older backup, and see nothing wrong; the
 * proxies that served from it before did, and left the lost mark
 * (store/lost-mark.ts). A mark the store satisfies again (the same identity
 * at a generation no lower than the mark's) does not block.
 */
export async function requireIntact(
  store: Pick<Store, 'label' | 'integrity' | 'lostMark' | 'routes'>,
): Promise<void> {
  const i = await store.integrity();
  if (i.state === 'lost') throw storeLostError(store.label, i);
  const mark = await store.lostMark();
  if (mark && !(i.state === 'ok' && markSatisfied(mark, i.id, await store.routes.tableVersion())))
    throw markedLostError(store.label, mark);
  if (i.state !== 'ok') throw storeLostError(store.label, i);
}

export interface WriteErrorLog {
  last(): { at: string; op: string; message: string } | undefined;
  failed(op: string, err: StranglerError): void;
  succeeded(): void;
}

export function writeErrorLog(): WriteErrorLog {
  let last: { at: string; op: string; message: string } | undefined;
  return {
    last: () => last,
    failed(op, err) {
      last = { at: new Date().toISOString(), op, message: err.message };
    },
    succeeded() {
      last = undefined;
    },
  };
}

/**
 * Wrap every method of a sub-store: a failure that is not already a
 * StranglerError becomes STRANGLER_E_STORE naming the store and the call (a
 * full disk, a read-only file: exit 5 and HTTP 503, never a stack trace), and
 * the outcome of each method listed in `writes` updates the write-error log.
 */
export function guardSubStore<T extends object>(
  label: string,
  part: string,
  target: T,
  writes: ReadonlySet<string>,
  log: WriteErrorLog,
): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const v = Reflect.get(obj, prop, receiver);
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      const op = `${part}.${prop}`;
      const isWrite = writes.has(prop);
      return async (...args: unknown[]) => {
        try {
          const out = await (v as (...a: unknown[]) => unknown).apply(obj, args);
          if (isWrite) log.succeeded();
          return out;
        } catch (err) {
          const e = isStranglerError(err)
            ? err
            : new StranglerError(
                'STRANGLER_E_STORE',
                `${label}: ${op} failed: ${(err as Error)?.message ?? String(err)}`,
                {
                  cause: err,
                  details: {
                    store: label,
                    op,
                    ...((err as { code?: string })?.code ? { cause: (err as { code: string }).code } : {}),
                  },
                },
              );
          if (isWrite && e.code === 'STRANGLER_E_STORE') log.failed(op, e);
          throw e;
        }
      };
    },
  });
}

/** Method names that write, per sub-store, for guardSubStore. */
export const WRITE_METHODS = new Set([
  'seed',
  'flip',
  'append',
  'record',
  'reset',
  'add',
  'put',
  'acquire',
  'renew',
  'release',
  'acceptRestore',
]);
