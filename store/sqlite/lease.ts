import type { LeaseStore } from '../types.js';
import type { Db } from './db.js';

export function migrateLease(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    -- epoch ms; every process sharing the file shares the machine's clock
    expires_at INTEGER NOT NULL
  );`);
}

/** Leases in one row per name; IMMEDIATE transactions make acquire a compare-and-set across processes. */
export class SqliteLeaseStore implements LeaseStore {
  constructor(private readonly db: Db) {}

  async acquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const tx = this.db.transaction((): boolean => {
      const now = Date.now();
      const row = this.db.prepare('SELECT holder, expires_at FROM leases WHERE name = ?').get(name) as
        | { holder: string; expires_at: number }
        | undefined;
      if (row && row.holder !== holder && row.expires_at > now) return false;
      this.db
        .prepare('INSERT OR REPLACE INTO leases (name, holder, expires_at) VALUES (?, ?, ?)')
        .run(name, holder, now + ttlMs);
      return true;
    });
    return tx.immediate();
  }

  async renew(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const info = this.db
      .prepare('UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND expires_at > ?')
      .run(now + ttlMs, name, holder, now);
    return info.changes === 1;
  }

  async release(name: string, holder: string): Promise<void> {
    this.db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?').run(name, holder);
  }

  async holder(name: string): Promise<{ holder: string; expiresInMs: number } | undefined> {
    const row = this.db.prepare('SELECT holder, expires_at FROM leases WHERE name = ?').get(name) as
      | { holder: string; expires_at: number }
      | undefined;
    const left = row ? row.expires_at - Date.now() : 0;
    return row && left > 0 ? { holder: row.holder, expiresInMs: left } : undefined;
  }
}
