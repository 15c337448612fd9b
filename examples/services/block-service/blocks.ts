/**
 * The block feature's data, read and written in the monolith's own SQLite file
 * (the shared-database phase of an extraction): the same tables, the same
 * timestamp format, so both sides answer alike until the data moves.
 */
import Database from 'better-sqlite3';

export interface BlockRecord {
  user: number;
  target: number;
  created_at: string;
}

export interface BlockStore {
  userExists(id: number): boolean;
  listBlocked(user: number): number[];
  /** Users who blocked `user`. */
  blockedBy(user: number): number[];
  isBlocked(user: number, other: number): boolean;
  /** Blocking twice keeps the first record; `created` says which happened. */
  block(user: number, target: number): { record: BlockRecord; created: boolean };
  unblock(user: number, other: number): boolean;
  close(): void;
}

/** UTC with microseconds, as the monolith writes it: 2026-11-25T22:04:25.123456Z. */
export function nowIso(): string {
  const micros = Math.round((performance.timeOrigin + performance.now()) * 1000);
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  return `${iso.slice(0, 23)}${String(micros % 1000).padStart(3, '0')}Z`;
}

export function openBlockStore(file: string): BlockStore {
  let db: Database.Database;
  try {
    // fileMustExist: an empty new file would hide a wrong --db path behind 404s.
    db = new Database(file, { fileMustExist: true });
  } catch (err) {
    throw new Error(
      `cannot open --db ${file}: ${(err as Error).message} (create it with: cd examples && python3 -m monolith.server --init-only --db ${file})`,
      { cause: err },
    );
  }
  // The monolith writes the same file: wait for its locks instead of failing.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  const hasTables = db
    .prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'blocks')")
    .get() as { n: number };
  if (hasTables.n !== 2) {
    db.close();
    throw new Error(`--db ${file} has no users/blocks tables: it is not the monolith's database`);
  }

  const userExists = db.prepare('SELECT 1 FROM users WHERE id = ?').pluck();
  const listBlocked = db
    .prepare('SELECT blocked_id FROM blocks WHERE user_id = ? ORDER BY blocked_id')
    .pluck();
  const blockedBy = db.prepare('SELECT user_id FROM blocks WHERE blocked_id = ? ORDER BY user_id').pluck();
  const isBlocked = db.prepare('SELECT 1 FROM blocks WHERE user_id = ? AND blocked_id = ?').pluck();
  const insert = db.prepare(
    'INSERT OR IGNORE INTO blocks (user_id, blocked_id, created_at) VALUES (?, ?, ?)',
  );
  const getOne = db.prepare(
    'SELECT user_id AS user, blocked_id AS target, created_at FROM blocks WHERE user_id = ? AND blocked_id = ?',
  );
  const remove = db.prepare('DELETE FROM blocks WHERE user_id = ? AND blocked_id = ?');
  // IMMEDIATE takes the write lock up front, like the monolith's BEGIN IMMEDIATE.
  const blockTx = db.transaction((user: number, target: number) => {
    const created = insert.run(user, target, nowIso()).changes === 1;
    return { record: getOne.get(user, target) as BlockRecord, created };
  });

  return {
    userExists: (id) => userExists.get(id) !== undefined,
    listBlocked: (user) => listBlocked.all(user) as number[],
    blockedBy: (user) => blockedBy.all(user) as number[],
    isBlocked: (user, other) => isBlocked.get(user, other) !== undefined,
    block: (user, target) => blockTx.immediate(user, target),
    unblock: (user, other) => remove.run(user, other).changes === 1,
    close: () => db.close(),
  };
}
