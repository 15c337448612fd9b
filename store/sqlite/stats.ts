import type { Target } from '../../core/types.js';
import type { StatsStore, StatsWindow } from '../types.js';
import { type Db, writeTx } from './db.js';

/**
 * Stored in `version` for windows flushed before proxies recorded the route
 * version (schema 3 and older): read back as no version, judged by time alone.
 * A real route version is never negative.
 */
const NO_VERSION = -1;

const STATS_COLUMNS = `route TEXT NOT NULL,
    target TEXT NOT NULL,
    instance TEXT NOT NULL,
    start INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT ${NO_VERSION},
    duration_ms INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    failovers INTEGER NOT NULL,
    buckets TEXT NOT NULL,
    PRIMARY KEY (route, target, instance, start, version)`;

export function migrateStats(db: Db): void {
  const cols = db.prepare('PRAGMA table_info(stats_windows)').all() as { name: string }[];
  if (cols.length > 0 && !cols.some((c) => c.name === 'version')) {
    // The version joins the primary key, which ALTER TABLE cannot change:
    // rebuild the table, keeping every old window (as version-less). Runs
    // inside migrate()'s transaction, so a crash leaves the old table whole.
    db.exec(`CREATE TABLE stats_windows_v (${STATS_COLUMNS});
    INSERT INTO stats_windows_v
      (route, target, instance, start, duration_ms, requests, errors, failovers, buckets)
      SELECT route, target, instance, start, duration_ms, requests, errors, failovers, buckets FROM stats_windows;
    DROP TABLE stats_windows;
    ALTER TABLE stats_windows_v RENAME TO stats_windows;`);
  }
  db.exec(`CREATE TABLE IF NOT EXISTS stats_windows (${STATS_COLUMNS});
  CREATE INDEX IF NOT EXISTS stats_start ON stats_windows(start);`);
}

interface Row {
  route: string;
  target: Target;
  instance: string;
  start: number;
  version: number;
  duration_ms: number;
  requests: number;
  errors: number;
  failovers: number;
  buckets: string;
}

const addBuckets = (a: number[], b: number[]) => {
  const out = a.slice();
  b.forEach((n, i) => {
    out[i] = (out[i] ?? 0) + n;
  });
  return out;
};

/** Stats windows flushed by each proxy instance; a second flush of the same window adds to it. */
export class SqliteStatsStore implements StatsStore {
  constructor(private readonly db: Db) {}

  async add(windows: StatsWindow[]): Promise<void> {
    const get = this.db.prepare(
      'SELECT * FROM stats_windows WHERE route = ? AND target = ? AND instance = ? AND start = ? AND version = ?',
    );
    const put = this.db.prepare(`INSERT OR REPLACE INTO stats_windows
      (route, target, instance, start, version, duration_ms, requests, errors, failovers, buckets)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    // IMMEDIATE: this reads then writes, see store/sqlite/db.ts.
    writeTx(this.db, () => {
      for (const w of windows) {
        const version = w.version ?? NO_VERSION;
        const prev = get.get(w.route, w.target, w.instance, w.start, version) as Row | undefined;
        put.run(
          w.route,
          w.target,
          w.instance,
          w.start,
          version,
          w.durationMs,
          w.requests + (prev?.requests ?? 0),
          w.errors + (prev?.errors ?? 0),
          w.failovers + (prev?.failovers ?? 0),
          JSON.stringify(prev ? addBuckets(JSON.parse(prev.buckets), w.buckets) : w.buckets),
        );
      }
    });
  }

  async query(q: { route?: string; since: number; target?: Target }): Promise<StatsWindow[]> {
    const where = ['start >= ?'];
    const args: unknown[] = [q.since];
    if (q.route) {
      where.push('route = ?');
      args.push(q.route);
    }
    if (q.target) {
      where.push('target = ?');
      args.push(q.target);
    }
    const rows = this.db
      .prepare(
        `SELECT * FROM stats_windows WHERE ${where.join(' AND ')} ORDER BY start, route, target, instance, version`,
      )
      .all(...args) as Row[];
    return rows.map((r) => ({
      route: r.route,
      target: r.target,
      instance: r.instance,
      start: r.start,
      ...(r.version === NO_VERSION ? {} : { version: r.version }),
      durationMs: r.duration_ms,
      requests: r.requests,
      errors: r.errors,
      failovers: r.failovers,
      buckets: JSON.parse(r.buckets),
    }));
  }
}
