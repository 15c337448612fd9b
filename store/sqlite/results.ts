import type { ResultKind, ResultStore } from '../types.js';
import type { Db } from './db.js';

export function migrateResults(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    at TEXT NOT NULL,
    value TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS results_kind ON results(kind, key, id);`);
}

type Kind = ResultKind;
interface Row {
  key: string;
  at: string;
  value: string;
}
const fromRow = (r: Row) => ({ key: r.key, at: r.at, value: JSON.parse(r.value) as unknown });

/** Load-test runs and plans, kept whole as JSON so later reports can show them. */
export class SqliteResultStore implements ResultStore {
  constructor(private readonly db: Db) {}

  async put(kind: Kind, key: string, value: unknown): Promise<void> {
    this.db
      .prepare('INSERT INTO results (kind, key, at, value) VALUES (?, ?, ?, ?)')
      .run(kind, key, new Date().toISOString(), JSON.stringify(value));
  }

  async latest(kind: Kind, key?: string) {
    const row = (
      key === undefined
        ? this.db
            .prepare('SELECT key, at, value FROM results WHERE kind = ? ORDER BY id DESC LIMIT 1')
            .get(kind)
        : this.db
            .prepare('SELECT key, at, value FROM results WHERE kind = ? AND key = ? ORDER BY id DESC LIMIT 1')
            .get(kind, key)
    ) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  async list(kind: Kind, limit = 100) {
    const rows = this.db
      .prepare('SELECT key, at, value FROM results WHERE kind = ? ORDER BY id DESC LIMIT ?')
      .all(kind, limit) as Row[];
    return rows.map(fromRow);
  }
}
