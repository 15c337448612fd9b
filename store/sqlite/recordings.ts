import type { RecordedEntry, RecordingLimits, RecordingStore } from '../types.js';
import { type Db, writeTx } from './db.js';

export function migrateRecordings(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS recordings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    route TEXT NOT NULL,
    at INTEGER NOT NULL,
    -- UTF-8 bytes of value, summed for the maxBytes bound.
    bytes INTEGER NOT NULL,
    value TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS recordings_route ON recordings(route, id);`);
}

/** One row per case; the bounds are applied in the transaction that adds. */
export class SqliteRecordingStore implements RecordingStore {
  constructor(private readonly db: Db) {}

  async add(route: string, cases: RecordedEntry[], limits: RecordingLimits): Promise<void> {
    writeTx(this.db, () => {
      const ins = this.db.prepare('INSERT INTO recordings (route, at, bytes, value) VALUES (?, ?, ?, ?)');
      for (const c of cases) {
        const text = JSON.stringify(c.value);
        ins.run(route, c.at, Buffer.byteLength(text), text);
      }
      this.db
        .prepare('DELETE FROM recordings WHERE route = ? AND at < ?')
        .run(route, limits.now - limits.maxAgeMs);
      // Newest first: everything past the newest maxCases, or past maxBytes in total, goes.
      this.db
        .prepare(
          `DELETE FROM recordings WHERE id IN (
            SELECT id FROM (
              SELECT id, ROW_NUMBER() OVER w AS n, SUM(bytes) OVER w AS total
              FROM recordings WHERE route = ?
              WINDOW w AS (ORDER BY id DESC ROWS UNBOUNDED PRECEDING)
            ) WHERE n > ? OR total > ?
          )`,
        )
        .run(route, limits.maxCases, limits.maxBytes);
    });
  }

  async list(route: string): Promise<RecordedEntry[]> {
    const rows = this.db
      .prepare('SELECT at, value FROM recordings WHERE route = ? ORDER BY id')
      .all(route) as { at: number; value: string }[];
    return rows.map((r) => ({ at: r.at, value: JSON.parse(r.value) }));
  }

  async size(route: string): Promise<{ cases: number; bytes: number }> {
    const r = this.db
      .prepare('SELECT COUNT(*) AS cases, COALESCE(SUM(bytes), 0) AS bytes FROM recordings WHERE route = ?')
      .get(route) as { cases: number; bytes: number };
    return { cases: r.cases, bytes: r.bytes };
  }

  async reset(route: string): Promise<void> {
    this.db.prepare('DELETE FROM recordings WHERE route = ?').run(route);
  }
}
