import { randomUUID } from 'node:crypto';
import { type Stats, statSync } from 'node:fs';
import path from 'node:path';
import { clearSqliteMark, readSqliteMark, writeSqliteMark } from '../lost-mark.js';
import { guardSubStore, storeLostError, WRITE_METHODS, writeErrorLog } from '../integrity.js';
import { GenerationFloor, raiseSqliteFloor, readSqliteFloor, wentBackReason } from '../generation.js';
import { type VersionWatch, watchTableVersion } from '../version-watch.js';
import {
  type AuditRetention,
  DEFAULT_AUDIT_RETENTION,
  type LostNotice,
  type Store,
  type StoreIdentity,
  type StoreIntegrity,
} from '../types.js';
import { SqliteAuditLog, migrateAudit } from './audit.js';
import { type Db, openDb, writeTx } from './db.js';
import { SqliteLeaseStore, migrateLease } from './lease.js';
import { SqliteRecordStore, migrateRecords } from './records.js';
import { SqliteRecordingStore, migrateRecordings } from './recordings.js';
import { SqliteResultStore, migrateResults } from './results.js';
import { SqliteRouteStore, migrateRoutes } from './routes.js';
import { SqliteShadowStore, migrateShadow } from './shadow.js';
import { SqliteStatsStore, migrateStats } from './stats.js';

const MIGRATIONS = [
  migrateMeta,
  migrateAudit,
  migrateRoutes,
  migrateShadow,
  migrateStats,
  migrateResults,
  migrateLease,
  migrateRecords,
  migrateRecordings,
];

/**
 * Bumped whenever a migration changes; kept in `PRAGMA user_version`. Opening
 * a file already at this version writes nothing, so a CLI command opened
 * beside busy proxies never queues behind their writers (issue 13: running
 * every migration at every open failed one open in five with SQLITE_BUSY).
 */
export const SCHEMA_VERSION = 4;

function migrateMeta(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);');
}

function migrate(db: Db): void {
  if ((db.pragma('user_version', { simple: true }) as number) >= SCHEMA_VERSION) return;
  writeTx(db, () => {
    // Another process may have migrated while we waited for the lock.
    if ((db.pragma('user_version', { simple: true }) as number) >= SCHEMA_VERSION) return;
    for (const m of MIGRATIONS) m(db);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
}

export interface SqliteStoreOptions {
  /** Create the file (and its directory) if missing: only `serve` and `strangler seed` do. Default true. */
  create?: boolean;
  audit?: AuditRetention;
}

/** The embedded default store: one SQLite file (WAL) shared by the proxy and the CLI on one machine. */
export function openSqliteStore(file: string, opts: SqliteStoreOptions = {}): Store {
  const label = `sqlite:${file}`;
  const db = openDb(file, { create: opts.create ?? true });
  try {
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  const memory = file === ':memory:';
  const resolved = memory ? file : path.resolve(file);
  // The file this handle writes. A handle keeps writing a removed or replaced
  // file's old inode, so integrity() compares the path's inode with this one.
  const opened: Stats | undefined = memory ? undefined : statSync(resolved);
  const readId = (): string | undefined =>
    (db.prepare("SELECT value FROM meta WHERE key = 'store_id'").get() as { value: string } | undefined)
      ?.value;
  let seenId = readId();
  // The highest generation this process has seen; starts at the floor left
  // next to the file by the last process that changed it (store/generation.ts).
  const persisted = memory ? undefined : readSqliteFloor(resolved);
  const floor = new GenerationFloor(
    persisted && persisted.storeId === seenId ? persisted.generation : undefined,
  );
  let routes: SqliteRouteStore;

  /** Same file and identity as opened (the generation aside). */
  const identityIntegrity = (): StoreIntegrity => {
    if (opened) {
      let now: Stats;
      try {
        now = statSync(resolved);
      } catch {
        return { state: 'lost', reason: `${resolved} was removed while in use` };
      }
      if (now.ino !== opened.ino || now.dev !== opened.dev)
        return { state: 'lost', reason: `${resolved} was replaced by another file while in use` };
    }
    const id = readId();
    if (seenId === undefined && id === undefined)
      return { state: 'uninitialised', reason: 'no strangler state in this file yet' };
    if (id === undefined) return { state: 'lost', reason: `its identity ${seenId} is gone` };
    if (seenId !== undefined && id !== seenId)
      return { state: 'lost', reason: `it holds ${id}, not ${seenId} which this process opened` };
    seenId = id;
    return { state: 'ok', id };
  };
  const integrity = (): StoreIntegrity => {
    const i = identityIntegrity();
    if (i.state !== 'ok') return i;
    const generation = routes.versionSync();
    const back = floor.wentBack(generation);
    if (back) return { state: 'lost', reason: wentBackReason(back.from, back.to), wentBack: back };
    floor.observe(generation);
    return i;
  };
  const throwUnlessOk = (i: StoreIntegrity) => {
    if (i.state !== 'ok') throw storeLostError(label, i);
  };
  const checkIntact = () => throwUnlessOk(integrity());
  const checkIdentity = () => throwUnlessOk(identityIntegrity());
  const changed = (generation: number) => {
    floor.observe(generation);
    if (!memory && seenId) raiseSqliteFloor(resolved, { storeId: seenId, generation });
  };
  /** Called inside the seed transaction: the first seed names the store. */
  const ensureIdentity = (): void => {
    const i = integrity();
    if (i.state === 'lost') throw storeLostError(label, i);
    if (i.state === 'uninitialised') {
      const id = randomUUID();
      db.prepare("INSERT INTO meta (key, value) VALUES ('store_id', ?), ('created_at', ?)").run(
        id,
        new Date().toISOString(),
      );
      seenId = id;
    }
  };

  const writes = writeErrorLog();
  const guard = <T extends object>(part: string, o: T) =>
    guardSubStore(label, part, o, WRITE_METHODS, writes);
  const audit = new SqliteAuditLog(db, opts.audit ?? DEFAULT_AUDIT_RETENTION);
  routes = new SqliteRouteStore(db, audit, { checkIntact, ensureIdentity, checkIdentity, changed });
  const watchers = new Set<VersionWatch>();
  return {
    kind: 'sqlite',
    label,
    routes: guard('routes', routes),
    audit: guard('audit', audit),
    shadow: guard('shadow', new SqliteShadowStore(db)),
    stats: guard('stats', new SqliteStatsStore(db)),
    results: guard('results', new SqliteResultStore(db)),
    lease: guard('lease', new SqliteLeaseStore(db)),
    records: guard('records', new SqliteRecordStore(db)),
    recordings: guard('recordings', new SqliteRecordingStore(db)),
    async identity(): Promise<StoreIdentity | undefined> {
      const rows = db
        .prepare("SELECT key, value FROM meta WHERE key IN ('store_id', 'created_at')")
        .all() as {
        key: string;
        value: string;
      }[];
      const m = Object.fromEntries(rows.map((r) => [r.key, r.value]));
      return m.store_id ? { id: m.store_id, createdAt: m.created_at ?? '' } : undefined;
    },
    async integrity() {
      return integrity();
    },
    // The mark is a sibling file: it outlives the database file's removal.
    async lostMark() {
      return memory ? undefined : readSqliteMark(resolved);
    },
    async markLost(notice: LostNotice) {
      const mark = { lostId: seenId ?? null, ...notice, noticedAt: new Date().toISOString() };
      // A went-back mark is not written once the generation is back at the
      // one seen (accept-restore raised it while this proxy was noticing).
      if (memory || (notice.wentBack && routes.versionSync() >= notice.wentBack.from)) return mark;
      return writeSqliteMark(resolved, mark);
    },
    async clearLostMark() {
      if (!memory) clearSqliteMark(resolved);
    },
    lastWriteError: () => writes.last(),
    // Another process (the CLI) writes the same file, and SQLite has no
    // cross-process notification, so watching is polling one integer.
    watch(onChange, intervalMs = 250) {
      const w = watchTableVersion(() => routes.tableVersion(), onChange, intervalMs);
      watchers.add(w);
      return () => {
        w.stop();
        watchers.delete(w);
      };
    },
    async close() {
      for (const w of watchers) w.stop();
      watchers.clear();
      if (db.open) db.close();
    },
  };
}
