import type { AuditEntry, AuditInput } from '../../core/types.js';
import type { AuditLog } from '../types.js';
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
  CREATE INDEX IF NOT EXISTS audit_route ON audit(route, seq);`);
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

/** Append-only: there is no update or delete statement for this table. */
export class SqliteAuditLog implements AuditLog {
  private readonly insert;
  constructor(private readonly db: Db) {
    this.insert = db.prepare(
      'INSERT INTO audit (at, actor, route, action, before, after, reason, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
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
    return { ...e, at, seq: Number(info.lastInsertRowid) };
  }

  async append(e: AuditInput): Promise<AuditEntry> {
    return this.appendSync(e);
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
