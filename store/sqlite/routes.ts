import { StranglerError } from '../../core/errors.js';
import type { Mode, RouteChange, RouteSeed, RouteState } from '../../core/types.js';
import type { RouteStore } from '../types.js';
import type { SqliteAuditLog } from './audit.js';
import { type Db, writeTx } from './db.js';

/** What the store object checks around route writes (store/sqlite/index.ts). */
export interface RouteIntegrity {
  /** Throws STRANGLER_E_STORE_LOST unless this handle still writes the state it opened. */
  checkIntact(): void;
  /** The first seed names the store; throws STRANGLER_E_STORE_LOST if its state was lost. */
  ensureIdentity(): void;
  /** Like checkIntact but ignoring the generation: the one check `acceptRestore` needs. */
  checkIdentity(): void;
  /** After a committed change: the generation this process just wrote (raises its floor). */
  changed(generation: number): void;
}

export function migrateRoutes(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS routes (
    id TEXT PRIMARY KEY,
    mode TEXT NOT NULL,
    weight INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
  );
  -- One row counting every route change, so a proxy polls a single integer.
  CREATE TABLE IF NOT EXISTS table_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
  INSERT OR IGNORE INTO table_version (id, version) VALUES (1, 0);`);
}

interface RouteRow {
  id: string;
  mode: Mode;
  weight: number;
  version: number;
  updated_at: string;
  actor: string;
  reason: string;
}

const fromRow = (r: RouteRow): RouteState => ({
  id: r.id,
  mode: r.mode,
  weight: r.weight,
  version: r.version,
  updatedAt: r.updated_at,
  actor: r.actor,
  reason: r.reason,
});

export class SqliteRouteStore implements RouteStore {
  constructor(
    private readonly db: Db,
    private readonly audit: SqliteAuditLog,
    private readonly integrity: RouteIntegrity,
  ) {}

  private getSync(id: string): RouteState | undefined {
    const row = this.db.prepare('SELECT * FROM routes WHERE id = ?').get(id) as RouteRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  private bumpTable(): void {
    this.db.prepare('UPDATE table_version SET version = version + 1 WHERE id = 1').run();
  }

  async seed(routes: RouteSeed[], actor: string): Promise<RouteState[]> {
    const added = writeTx(this.db, () => {
      this.integrity.ensureIdentity();
      const now = new Date().toISOString();
      let added = 0;
      for (const r of routes) {
        if (this.getSync(r.id)) continue;
        this.db
          .prepare(
            'INSERT INTO routes (id, mode, weight, version, updated_at, actor, reason) VALUES (?, ?, ?, 1, ?, ?, ?)',
          )
          .run(r.id, r.mode, r.weight, now, actor, 'seeded from config');
        const after = this.getSync(r.id)!;
        this.audit.appendSync({
          at: now,
          actor,
          route: r.id,
          action: 'seed',
          before: null,
          after,
          reason: 'seeded from config',
        });
        added++;
      }
      if (added) this.bumpTable();
      return added;
    });
    if (added) this.integrity.changed(this.versionSync());
    return this.list();
  }

  async list(): Promise<RouteState[]> {
    return (this.db.prepare('SELECT * FROM routes ORDER BY id').all() as RouteRow[]).map(fromRow);
  }

  async get(id: string): Promise<RouteState | undefined> {
    return this.getSync(id);
  }

  async flip(change: RouteChange): Promise<RouteState> {
    // IMMEDIATE takes the write lock first, so the version read and the update
    // cannot interleave with another process's flip.
    const after = writeTx(this.db, (): RouteState => {
      this.integrity.checkIntact();
      const before = this.getSync(change.route);
      if (!before)
        throw new StranglerError('STRANGLER_E_UNKNOWN_ROUTE', `no route "${change.route}" in the store`, {
          details: { route: change.route },
        });
      if (change.expectVersion !== undefined && change.expectVersion !== before.version)
        throw new StranglerError(
          'STRANGLER_E_STALE_VERSION',
          `route "${change.route}" is at version ${before.version}, not ${change.expectVersion}; nothing changed`,
          { details: { route: change.route, expected: change.expectVersion, actual: before.version } },
        );
      const now = new Date().toISOString();
      this.db
        .prepare(
          'UPDATE routes SET mode = ?, weight = ?, version = version + 1, updated_at = ?, actor = ?, reason = ? WHERE id = ?',
        )
        .run(change.mode, change.weight, now, change.actor, change.reason, change.route);
      this.bumpTable();
      const after = this.getSync(change.route)!;
      this.audit.appendSync({
        at: now,
        actor: change.actor,
        route: change.route,
        action: change.action ?? 'flip',
        before,
        after,
        reason: change.reason,
        details: change.details,
      });
      return after;
    });
    this.integrity.changed(this.versionSync());
    return after;
  }

  async acceptRestore(req: { highestSeen: number; actor: string; reason: string }): Promise<number> {
    const generation = writeTx(this.db, () => {
      this.integrity.checkIdentity();
      const restored = this.versionSync();
      const next = Math.max(restored, req.highestSeen) + 1;
      this.db.prepare('UPDATE table_version SET version = ? WHERE id = 1').run(next);
      this.audit.appendSync({
        at: new Date().toISOString(),
        actor: req.actor,
        route: null,
        action: 'store.restore-accepted',
        before: null,
        after: null,
        reason: req.reason,
        details: { restoredGeneration: restored, highestSeen: req.highestSeen, generation: next },
      });
      return next;
    });
    this.integrity.changed(generation);
    return generation;
  }

  /** The generation (store/generation.ts): one integer every route change raises. */
  versionSync(): number {
    return (this.db.prepare('SELECT version FROM table_version WHERE id = 1').get() as { version: number })
      .version;
  }

  async tableVersion(): Promise<number> {
    return this.versionSync();
  }
}
