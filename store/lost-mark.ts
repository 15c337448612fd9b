/**
 * The lost mark: what a running proxy leaves when it finds its store lost
 * (Redis restarted empty, the SQLite file removed or replaced), so that a
 * later `serve` — a new instance, a redeployed pod — refuses to name and seed
 * the empty store from the config's modes. Without it that instance would
 * serve the config's modes while the running ones keep their last good
 * table: one route's writes split between two databases with no audited flip.
 *
 * Redis: key `<prefix>lost` (an empty Redis accepts it); SQLite: a JSON file
 * next to the database (`state.db.lost`), which survives the file's removal.
 * Both are written only if absent, so the first proxy to notice wins. Only
 * `strangler seed` clears a mark without the lost state being back (audited);
 * a `serve` that finds the very identity the mark names (the data was
 * restored) clears it and starts.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { StranglerError } from '../core/errors.js';
import { recoveryHint } from './recovery.js';
import type { LostMark } from './types.js';

/**
 * Whether the store is back to what the mark's proxy saw: the same identity,
 * at a generation no lower than the one it last served (an older snapshot
 * of the same identity is not back: store/generation.ts). A mark from a proxy
 * that never saw an identity (`lostId` null) is never satisfied this way.
 */
export function markSatisfied(mark: LostMark, id: string | undefined, generation: number): boolean {
  return (
    mark.lostId !== null &&
    id === mark.lostId &&
    (mark.lastVersion === null || generation >= mark.lastVersion)
  );
}

/** A writer (or a read that would show it) on a store a proxy marked lost: exit 5, the one line, the way out. */
export function markedLostError(label: string, mark: LostMark): StranglerError {
  const what = mark.wentBack
    ? `it went back from generation ${mark.wentBack.from} to ${mark.wentBack.to} (restored from an older backup?)`
    : `it lost its state (${mark.reason})`;
  return new StranglerError(
    'STRANGLER_E_STORE_LOST',
    `${label}: the store is lost: ${what}, as noticed by ${mark.noticedBy} at ${mark.noticedAt}; ` +
      `nothing was changed, and proxies keep serving their last good route table. To recover: ${recoveryHint(mark.wentBack !== undefined)}`,
    { details: { store: label, state: 'lost', lostMark: mark } },
  );
}

/** The one wording of "a proxy saw this store lost; I will not seed it". */
export function lostMarkError(label: string, mark: LostMark): StranglerError {
  return new StranglerError(
    'STRANGLER_E_STORE_LOST',
    `${label}: refusing to seed this store: it lost its state while proxies were serving from it ` +
      `(identity ${mark.lostId ?? 'unknown'}, route table version ${mark.lastVersion ?? 'unknown'}; ` +
      `noticed by ${mark.noticedBy} at ${mark.noticedAt}: ${mark.reason}). Running proxies keep serving their last good ` +
      `route table; seeding the config's modes here would split traffic between them and this instance. To recover: ${recoveryHint(mark.wentBack !== undefined)}`,
    { details: { store: label, state: 'lost', lostMark: mark } },
  );
}

/** Parse a stored mark; a corrupt one still blocks seeding (it says a store was lost). */
export function parseLostMark(text: string): LostMark {
  try {
    const m = JSON.parse(text) as Partial<LostMark>;
    return {
      lostId: typeof m.lostId === 'string' ? m.lostId : null,
      lastVersion: typeof m.lastVersion === 'number' ? m.lastVersion : null,
      noticedBy: typeof m.noticedBy === 'string' ? m.noticedBy : 'unknown',
      noticedAt: typeof m.noticedAt === 'string' ? m.noticedAt : 'unknown',
      reason: typeof m.reason === 'string' ? m.reason : 'unreadable lost mark',
      ...(m.wentBack && typeof m.wentBack.from === 'number' && typeof m.wentBack.to === 'number'
        ? { wentBack: { from: m.wentBack.from, to: m.wentBack.to } }
        : {}),
    };
  } catch {
    return {
      lostId: null,
      lastVersion: null,
      noticedBy: 'unknown',
      noticedAt: 'unknown',
      reason: `unreadable lost mark: ${text.slice(0, 200)}`,
    };
  }
}

/** SQLite: where the mark for a database file lives. */
export function sqliteMarkPath(resolvedFile: string): string {
  return `${resolvedFile}.lost`;
}

export function readSqliteMark(resolvedFile: string): LostMark | undefined {
  try {
    return parseLostMark(readFileSync(sqliteMarkPath(resolvedFile), 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENOTDIR: the database's directory is not a directory, so neither is there a mark.
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new StranglerError(
      'STRANGLER_E_STORE',
      `cannot read the lost mark ${sqliteMarkPath(resolvedFile)}: ${(err as Error).message}`,
      {
        cause: err,
        details: { path: sqliteMarkPath(resolvedFile), ...(code ? { cause: code } : {}) },
      },
    );
  }
}

/** Write the mark unless one exists (O_EXCL: the first noticer wins); returns the mark in place. */
export function writeSqliteMark(resolvedFile: string, mark: LostMark): LostMark {
  try {
    writeFileSync(sqliteMarkPath(resolvedFile), `${JSON.stringify(mark, null, 2)}\n`, { flag: 'wx' });
    return mark;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readSqliteMark(resolvedFile) ?? mark;
    throw err;
  }
}

export function clearSqliteMark(resolvedFile: string): void {
  rmSync(sqliteMarkPath(resolvedFile), { force: true });
}
