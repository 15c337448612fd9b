import type { RecordStore } from '../types.js';
import { type Db, writeTx } from './db.js';

export function migrateRecords(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    rev INTEGER NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (kind, key)
  );`);
}

/** Records with a revision; put is a compare-and-set in one IMMEDIATE transaction. */
export class SqliteRecordStore implements RecordStore {
  constructor(private readonly db: Db) {}

  async get<T>(kind: string, key: string): Promise<{ value: T; rev: number } | undefined> {
    const row = this.db.prepare('SELECT rev, value FROM records WHERE kind = ? AND key = ?').get(kind, key) as
      | { rev: number; value: string }
      | undefined;
    return row ? { value: JSON.parse(row.value) as T, rev: row.rev } : undefined;
  }

  async list<T>(kind: string): Promise<Array<{ key: string; value: T; rev: number }>> {
    const rows = this.db
      .prepare('SELECT key, rev, value FROM records WHERE kind = ? ORDER BY key')
      .all(kind) as {
      key: string;
      rev: number;
      value: string;
    }[];
    return rows.map((r) => ({ key: r.key, rev: r.rev, value: JSON.parse(r.value) as T }));
  }

  async put(kind: string, key: string, value: unknown, expectRev: number): Promise<boolean> {
    return writeTx(this.db, () => {
      const cur = this.db.prepare('SELECT rev FROM records WHERE kind = ? AND key = ?').get(kind, key) as
        | { rev: number }
        | undefined;
      if ((cur?.rev ?? 0) !== expectRev) return false;
      this.db
        .prepare('INSERT OR REPLACE INTO records (kind, key, rev, value) VALUES (?, ?, ?, ?)')
        .run(kind, key, expectRev + 1, JSON.stringify(value));
      return true;
    });
  }
}
