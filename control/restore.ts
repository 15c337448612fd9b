/**
 * `strangler seed --accept-restore`: the one explicit, audited way to make
 * proxies serve a store that went back to an older generation (a Redis
 * restarted from an older RDB/AOF, a replica promoted behind, an older
 * SQLite file copied back: store/generation.ts). It records both generations
 * — the restored one and the highest a proxy had seen — in a
 * `store.restore-accepted` audit row, raises the generation above the
 * highest seen (so every proxy's check passes again and they reload the
 * restored table), then clears the lost mark.
 */
import { StranglerError } from '../core/errors.js';
import type { RouteState } from '../core/types.js';
import type { Store } from '../store/types.js';

export interface AcceptedRestore {
  restoredGeneration: number;
  highestSeen: number;
  generation: number;
  routes: RouteState[];
}

export async function acceptRestore(
  store: Store,
  req: { actor: string; reason: string },
): Promise<AcceptedRestore> {
  const identity = await store.identity();
  const integrity = await store.integrity();
  const mark = await store.lostMark();
  const restoredGeneration = await store.routes.tableVersion();
  if (!identity)
    throw new StranglerError(
      'STRANGLER_E_STORE_LOST',
      `${store.label}: nothing to accept: the store holds no strangler state (emptied, not restored); restore it from a backup first, or re-seed it with \`strangler seed\``,
      { details: { store: store.label, state: 'uninitialised' } },
    );
  if (mark && mark.lostId !== null && mark.lostId !== identity.id)
    throw new StranglerError(
      'STRANGLER_E_STORE_LOST',
      `${store.label}: the lost mark names store ${mark.lostId}, but this store is ${identity.id}: it is another store, not an older copy of it; --accept-restore takes back an older generation of the same store. Restore ${mark.lostId}, or start over with \`strangler seed\` (every proxy stopped)`,
      { details: { store: store.label, lostMark: mark, storeId: identity.id } },
    );
  // The highest generation anyone saw: the mark's (Redis, and any proxy
  // that noticed), or this process's own floor (SQLite's <db>.generation).
  const seen = [
    mark?.lastVersion ?? undefined,
    integrity.state === 'lost' ? integrity.wentBack?.from : undefined,
  ].filter((v): v is number => v !== undefined);
  const highestSeen = Math.max(restoredGeneration, ...seen);
  if (!seen.length || highestSeen <= restoredGeneration)
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      `${store.label}: nothing to accept: no proxy saw this store at a generation above its ${restoredGeneration}${mark ? '' : ' (no lost mark)'}; --accept-restore is for a store that went back`,
      { details: { store: store.label, generation: restoredGeneration } },
    );
  const generation = await store.routes.acceptRestore({
    highestSeen,
    actor: req.actor,
    reason: req.reason,
  });
  // After the raise: a proxy that checks in between sees the raised generation and leaves no new mark.
  if (mark) await store.clearLostMark();
  return { restoredGeneration, highestSeen, generation, routes: await store.routes.list() };
}
