/**
 * The generation: the store-wide change counter (`routes.tableVersion()`,
 * SQLite's `table_version` row, Redis's `table-version` key). Every write that
 * changes route state raises it in the same transaction: a flip (the CLI's,
 * the admin API's, a rollout step, a guard rollback — all `routes.flip`), a
 * seed, and `strangler seed --accept-restore` (`routes.acceptRestore`).
 *
 * It never goes back. A restore does not keep that promise by itself: Redis
 * restarted from an older RDB/AOF, a replica promoted behind, an older SQLite
 * file copied over the live one bring back the same identity at a lower
 * generation, older modes and an older audit log (whose version numbers will
 * then be reused). So every store object keeps the highest generation it has
 * read (a GenerationFloor) and calls a store whose generation is below it
 * lost (StoreIntegrity `wentBack`): the proxy keeps its last good table,
 * writers are refused, `/healthz` says "the store went back from generation N
 * to M", and the first proxy to notice leaves the lost mark (with N as
 * `lastVersion`) so every later process — a CLI, a new `serve` — is refused
 * too (store/lost-mark.ts). The way back is one audited command,
 * `strangler seed --accept-restore --reason …`, which raises the generation
 * above N so proxies accept the restored state.
 *
 * Where the floor lives: in each process's memory, raised by every read of
 * the generation during an integrity check and by this process's own writes;
 * on the store, in the lost mark once a proxy noticed; and for SQLite also in
 * `<db>.generation` next to the file (written after each change by the
 * process that made it), so an older file copied back while no proxy runs is
 * still caught when the next process opens it. Redis has no such local file:
 * a fleet restarted together with an older snapshot and no running proxy to
 * notice starts from the snapshot (docs/config.md, "generation").
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/** The one wording of a store seen going back. */
export function wentBackReason(highest: number, now: number): string {
  return `the store went back from generation ${highest} to ${now} (restored from an older backup?)`;
}

/** The highest generation one process has seen for one store identity. */
export class GenerationFloor {
  private highest: number | undefined;

  constructor(initial?: number) {
    if (initial !== undefined) this.observe(initial);
  }

  get(): number | undefined {
    return this.highest;
  }

  /** A generation read or written by this process: the floor only rises. */
  observe(v: number): void {
    if (Number.isFinite(v)) this.highest = Math.max(this.highest ?? v, v);
  }

  /** `{ from, to }` when `now` is below the floor: the store went back. */
  wentBack(now: number): { from: number; to: number } | undefined {
    return this.highest !== undefined && now < this.highest ? { from: this.highest, to: now } : undefined;
  }
}

/** SQLite: the floor kept next to the database file, for processes started after a copy-back. */
export interface PersistedFloor {
  storeId: string;
  generation: number;
}

export function sqliteFloorPath(resolvedFile: string): string {
  return `${resolvedFile}.generation`;
}

/** The floor file's content, or undefined if absent or unreadable (it only ever adds a check). */
export function readSqliteFloor(resolvedFile: string): PersistedFloor | undefined {
  try {
    const f = JSON.parse(readFileSync(sqliteFloorPath(resolvedFile), 'utf8')) as Partial<PersistedFloor>;
    return typeof f.storeId === 'string' && typeof f.generation === 'number'
      ? { storeId: f.storeId, generation: f.generation }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Raise the floor file to `generation` (never lower it for the same identity).
 * Written to a temporary file and renamed, so a reader never sees half a file.
 * Best effort: a read-only directory must not fail a flip that committed.
 */
export function raiseSqliteFloor(resolvedFile: string, floor: PersistedFloor): void {
  try {
    const cur = readSqliteFloor(resolvedFile);
    if (cur && cur.storeId === floor.storeId && cur.generation >= floor.generation) return;
    const tmp = `${sqliteFloorPath(resolvedFile)}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(floor)}\n`);
    renameSync(tmp, sqliteFloorPath(resolvedFile));
  } catch {
    // the in-memory floor and the lost mark still hold
  }
}
