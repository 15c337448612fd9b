import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

/**
 * Open a SQLite file for a store. WAL lets the CLI flip while a proxy reads;
 * busy_timeout makes a writer wait for another process's transaction instead
 * of failing at once with SQLITE_BUSY.
 */
export function openDb(file: string): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return db;
}

/** Each sub-store owns its tables and creates them idempotently. */
export type Migration = (db: Db) => void;
