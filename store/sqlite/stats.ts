import type { Target } from '../../core/types.js';
import type { StatsStore, StatsWindow } from '../types.js';
import { type Db, writeTx } from './db.js';

export function migrateStats(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS stats_windows (
    route TEXT NOT NULL,
    target TEXT NOT NULL,
    instance TEXT NOT NULL,
    start INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    failovers INTEGER NOT NULL,
    buckets TEXT NOT NULL,
    PRIMARY KEY (route, target, instance, start)
  );
  CREATE INDEX IF NOT EXISTS stats_start ON stats_windows(start);`);
}

interface Row {
  route: string;
  target: Target;
  instance: string;
  start: number;
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
      'SELECT * FROM stats_windows WHERE route = ? AND target = ? AND instance = ? AND start = ?',
    );
    const put = this.db.prepare(`INSERT OR REPLACE INTO stats_windows
      (route, target, instance, start, duration_ms, requests, errors, failovers, buckets)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    // IMMEDIATE: this reads then writes, see store/sqlite/db.ts.
    writeTx(this.db, () => {
      for (const w of windows) {
        const prev = get.get(w.route, w.target, w.instance, w.start) as Row | undefined;
        put.run(
          w.route,
          w.target,
          w.instance,
          w.start,
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
      .prepare(`SELECT * FROM stats_windows WHERE ${where.join(' AND ')} ORDER BY start, route, target`)
      .all(...args) as Row[];
    return rows.map((r) => ({
      route: r.route,
      target: r.target,
      instance: r.instance,
      start: r.start,
      durationMs: r.duration_ms,
      requests: r.requests,
      errors: r.errors,
      failovers: r.failovers,
      buckets: JSON.parse(r.buckets),
    }));
  }
}
