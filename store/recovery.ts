/**
 * The one wording of "how to get out of this" for a store that lost its
 * state or went back, used by the CLI, the admin API, `/healthz` and the
 * proxy log (a leaf: store/integrity.ts and store/lost-mark.ts both need it).
 */

/** The store lost its state (emptied, removed, replaced, re-seeded). */
export const RESTORE_HINT =
  'restore the state (the SQLite file from a backup, or Redis from its RDB/AOF) and restart the proxies; ' +
  "or, to start over from the config's modes, stop every proxy and run `strangler seed` (audited)";

/** The store went back to an older generation (store/generation.ts). */
export const ACCEPT_RESTORE_HINT =
  'check what the restore brought back, then run `strangler seed --accept-restore --reason "…"` ' +
  '(audited: records both generations and raises the generation, so the proxies serve the restored state); ' +
  'or restore a newer backup';

export function recoveryHint(wentBack: boolean): string {
  return wentBack ? ACCEPT_RESTORE_HINT : RESTORE_HINT;
}
