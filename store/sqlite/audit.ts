import type { AuditEntry, AuditInput } from '../../core/types.js';
import type { AuditLog, AuditRetention } from '../types.js';
import type { Db } from './db.js';

export function migrateAudit(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    route TEXT,
    action TEXT NOT NULL,
    before TEXT,
    after TEXT,
    reason TEXT NOT NULL DEFAULT '',
    details TEXT
  );
  CREATE INDEX IF NOT EXISTS audit_route ON audit(route, seq);
  -- The newest row of one route and action (breaker state, a rollout's start)
  -- is one index probe however long the log grows.
  CREATE INDEX IF NOT EXISTS audit_route_action ON audit(route, action, seq);`);
}

interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  route: string | null;
  action: string;
  before: string | null;
  after: string | null;
  reason: string;
  details: string | null;
}

function fromRow(r: AuditRow): AuditEntry {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    route: r.route,
    action: r.action,
    before: r.before ? JSON.parse(r.before) : null,
    after: r.after ? JSON.parse(r.after) : null,
    reason: r.reason,
    ...(r.details ? { details: JSON.parse(r.details) } : {}),
  };
}

/** Trim once every this many appends: a trim costs one or two indexed deletes, not one per row. */
const TRIM_EVERY = 256;
/** Rows deleted per trim at most, so one append never stalls on a huge backlog. */
const TRIM_BATCH = 5000;

/**
 * Append-only: rows are never changed, and deleted only by retention (the
 * oldest first, beyond `maxRows` or older than `maxAgeMs`).
 */
export class SqliteAuditLog implements AuditLog {
  private readonly insert;
  constructor(
    private readonly db: Db,
    private readonly retention: AuditRetention,
  ) {
    this.insert = db.prepare(
      'INSERT INTO audit (at, actor, route, action, before, after, reason, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
  }

  /** Runs inside the appending transaction (every write here is one). */
  private trim(seq: number): void {
    if (seq % TRIM_EVERY !== 0) return;
    this.db
      .prepare('DELETE FROM audit WHERE seq IN (SELECT seq FROM audit WHERE seq <= ? ORDER BY seq LIMIT ?)')
      .run(seq - this.retention.maxRows, TRIM_BATCH);
    const cutoff = new Date(Date.now() - this.retention.maxAgeMs).toISOString();
    this.db
      .prepare('DELETE FROM audit WHERE seq IN (SELECT seq FROM audit ORDER BY seq LIMIT ?) AND at < ?')
      .run(TRIM_BATCH, cutoff);
  }

  /** Synchronous append, for use inside another sub-store's transaction. */
  appendSync(e: AuditInput): AuditEntry {
    const at = e.at ?? new Date().toISOString();
    const info = this.insert.run(
      at,
      e.actor,
      e.route,
      e.action,
      e.before ? JSON.stringify(e.before) : null,
      e.after ? JSON.stringify(e.after) : null,
      e.reason,
      e.details ? JSON.stringify(e.details) : null,
    );
    const seq = Number(info.lastInsertRowid);
    this.trim(seq);
    return { ...e, at, seq };
  }

  async append(e: AuditInput): Promise<AuditEntry> {
    // A transaction only when trimming makes it two statements; IMMEDIATE as every write.
    return this.db.transaction(() => this.appendSync(e)).immediate();
  }

  async list(q: { route?: string; limit?: number; action?: string } = {}): Promise<AuditEntry[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.route) {
      where.push('route = ?');
      args.push(q.route);
    }
    if (q.action) {
      where.push('action = ?');
      args.push(q.action);
    }
    const sql = `SELECT * FROM (SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY seq DESC LIMIT ?) ORDER BY seq ASC`;
    const rows = this.db.prepare(sql).all(...args, q.limit ?? 1000) as AuditRow[];
    return rows.map(fromRow);
  }
}
