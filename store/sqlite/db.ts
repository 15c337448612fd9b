import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

/**
 * Open a SQLite file for a store. WAL lets the CLI flip while a proxy reads;
 * busy_timeout makes a writer wait for another process's write transaction
 * instead of failing at once with SQLITE_BUSY. It only helps a transaction
 * that asks for the write lock before it reads: a DEFERRED transaction that
 * reads and then writes gets SQLITE_BUSY at once in WAL mode whenever another
 * writer committed since its read began (its snapshot is stale, and waiting
 * cannot fix that). So every write transaction here is IMMEDIATE
 * (`writeTx`), and single statements (which take the lock before reading)
 * need nothing more.
 *
 * busy_timeout is set first: even `journal_mode` may have to wait for a lock.
 */
export function openDb(file: string, opts: { create: boolean }): Db {
  if (file !== ':memory:' && opts.create) makeParents(path.dirname(path.resolve(file)));
  const db = new Database(file, { fileMustExist: !opts.create && file !== ':memory:' });
  try {
    db.pragma('busy_timeout = 5000');
    // Asking only: switching an existing WAL file to WAL again would still take a lock.
    if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * Create the missing directories one level at a time. Node's
 * `mkdirSync(p, { recursive: true })` spins forever on some special paths
 * (`/proc/x`: the kernel answers ENOENT for a parent it just said exists),
 * which made `serve` hang at full CPU; one level at a time fails at once.
 */
function makeParents(dir: string): void {
  const missing: string[] = [];
  let d = dir;
  while (!existsSync(d)) {
    missing.unshift(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing) mkdirSync(m);
}

/** Run `fn` in an IMMEDIATE transaction: it takes the write lock first (waiting up to busy_timeout), see openDb. */
export function writeTx<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}
