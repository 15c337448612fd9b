import type { Store } from '../types.js';
import { SqliteAuditLog, migrateAudit } from './audit.js';
import { openDb } from './db.js';
import { SqliteLeaseStore, migrateLease } from './lease.js';
import { SqliteResultStore, migrateResults } from './results.js';
import { SqliteRouteStore, migrateRoutes } from './routes.js';
import { SqliteShadowStore, migrateShadow } from './shadow.js';
import { SqliteStatsStore, migrateStats } from './stats.js';

const MIGRATIONS = [migrateAudit, migrateRoutes, migrateShadow, migrateStats, migrateResults, migrateLease];

/** The embedded default store: one SQLite file (WAL) shared by the proxy and the CLI on one machine. */
export function openSqliteStore(file: string): Store {
  const db = openDb(file);
  db.transaction(() => {
    for (const m of MIGRATIONS) m(db);
  })();
  const audit = new SqliteAuditLog(db);
  const routes = new SqliteRouteStore(db, audit);
  const watchers = new Set<NodeJS.Timeout>();
  return {
    kind: 'sqlite',
    routes,
    audit,
    shadow: new SqliteShadowStore(db),
    stats: new SqliteStatsStore(db),
    results: new SqliteResultStore(db),
    lease: new SqliteLeaseStore(db),
    // Another process (the CLI) writes the same file, and SQLite has no
    // cross-process notification, so watching is polling one integer.
    watch(onChange, intervalMs = 250) {
      let last: number | undefined;
      const tick = async () => {
        try {
          const v = await routes.tableVersion();
          if (last !== undefined && v !== last) onChange();
          last = v;
        } catch {
          // a closed or busy db: keep the last good table, try again next tick
        }
      };
      void tick();
      const timer = setInterval(tick, intervalMs);
      timer.unref();
      watchers.add(timer);
      return () => {
        clearInterval(timer);
        watchers.delete(timer);
      };
    },
    async close() {
      for (const t of watchers) clearInterval(t);
      watchers.clear();
      if (db.open) db.close();
    },
  };
}
