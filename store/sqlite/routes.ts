import { StranglerError } from '../../core/errors.js';
import type {
  RouteDefinition,
  StoredDefinitions,
  UpstreamDefinitions,
} from '../../core/route-definitions.js';
import type { Mode, RouteChange, RouteSeed, RouteState } from '../../core/types.js';
import { staleDefinition } from '../definition-write.js';
import type { DefinitionWrite, RouteStore } from '../types.js';
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
  // Route definitions (issue 29): a column beside the state, so a definition
  // and its route's version change in one row. A store from before holds
  // NULL until the first seed fills it from the config (audited).
  const cols = db.prepare('PRAGMA table_info(routes)').all() as { name: string }[];
  if (!cols.some((c) => c.name === 'definition')) db.exec('ALTER TABLE routes ADD COLUMN definition TEXT');
}

/** The upstreams document lives in the meta table, under this key. */
const UPSTREAMS_KEY = 'upstreams';

interface RouteRow {
  id: string;
  mode: Mode;
  weight: number;
  version: number;
  updated_at: string;
  actor: string;
  reason: string;
  definition: string | null;
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

  private upstreamsSync(): UpstreamDefinitions | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(UPSTREAMS_KEY) as
      | { value: string }
      | undefined;
    return row ? (JSON.parse(row.value) as UpstreamDefinitions) : undefined;
  }

  private setUpstreams(u: UpstreamDefinitions): void {
    this.db
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      )
      .run(UPSTREAMS_KEY, JSON.stringify(u));
  }

  async seed(routes: RouteSeed[], actor: string, upstreams?: UpstreamDefinitions): Promise<RouteState[]> {
    const added = writeTx(this.db, () => {
      this.integrity.ensureIdentity();
      const now = new Date().toISOString();
      let added = 0;
      for (const r of routes) {
        const had = this.getSync(r.id);
        const definition = r.definition ? JSON.stringify(r.definition) : null;
        if (had) {
          // A store from before definitions lived there: its states stay,
          // the config fills in the definition it lacks (audited).
          const row = this.db.prepare('SELECT definition FROM routes WHERE id = ?').get(r.id) as {
            definition: string | null;
          };
          if (row.definition !== null || definition === null) continue;
          this.db.prepare('UPDATE routes SET definition = ? WHERE id = ?').run(definition, r.id);
          this.audit.appendSync({
            at: now,
            actor,
            route: r.id,
            action: 'definition.seed',
            before: had,
            after: had,
            reason: 'definition seeded from config into a store that held only its mode',
            details: { definition: r.definition },
          });
          added++;
          continue;
        }
        this.db
          .prepare(
            'INSERT INTO routes (id, mode, weight, version, updated_at, actor, reason, definition) VALUES (?, ?, ?, 1, ?, ?, ?, ?)',
          )
          .run(r.id, r.mode, r.weight, now, actor, 'seeded from config', definition);
        const after = this.getSync(r.id)!;
        this.audit.appendSync({
          at: now,
          actor,
          route: r.id,
          action: 'seed',
          before: null,
          after,
          reason: 'seeded from config',
          ...(r.definition ? { details: { definition: r.definition } } : {}),
        });
        added++;
      }
      if (upstreams && !this.upstreamsSync()) {
        this.setUpstreams(upstreams);
        this.audit.appendSync({
          at: now,
          actor,
          route: null,
          action: 'upstreams.seed',
          before: null,
          after: null,
          reason: 'upstreams seeded from config',
          details: { upstreams },
        });
        added++;
      }
      if (added) this.bumpTable();
      return added;
    });
    if (added) this.integrity.changed(this.versionSync());
    return this.list();
  }

  async definitions(): Promise<StoredDefinitions> {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare('SELECT id, definition FROM routes WHERE definition IS NOT NULL ORDER BY id')
        .all() as { id: string; definition: string }[];
      return {
        routes: Object.fromEntries(rows.map((r) => [r.id, JSON.parse(r.definition) as RouteDefinition])),
        upstreams: this.upstreamsSync(),
      };
    })();
  }

  async applyDefinitions(write: DefinitionWrite): Promise<number> {
    const generation = writeTx(this.db, (): number => {
      this.integrity.checkIntact();
      const now = new Date().toISOString();
      // Every check first: a plan made from an older read changes nothing.
      for (const r of write.routes) {
        const cur = this.getSync(r.id);
        if (r.op === 'add' ? cur !== undefined : cur?.version !== r.expectVersion)
          throw staleDefinition(r.id, r.expectVersion, cur?.version);
      }
      if (
        write.upstreams &&
        JSON.stringify(this.upstreamsSync() ?? null) !== JSON.stringify(write.upstreams.expect)
      )
        throw staleDefinition('upstreams', undefined, undefined);
      for (const r of write.routes) {
        const before = this.getSync(r.id) ?? null;
        if (r.op === 'remove') this.db.prepare('DELETE FROM routes WHERE id = ?').run(r.id);
        else if (r.op === 'add')
          this.db
            .prepare(
              'INSERT INTO routes (id, mode, weight, version, updated_at, actor, reason, definition) VALUES (?, ?, ?, 1, ?, ?, ?, ?)',
            )
            .run(r.id, r.mode, r.weight, now, write.actor, write.reason, JSON.stringify(r.definition));
        else
          this.db
            .prepare(
              'UPDATE routes SET definition = ?, version = version + 1, updated_at = ?, actor = ?, reason = ? WHERE id = ?',
            )
            .run(JSON.stringify(r.definition), now, write.actor, write.reason, r.id);
        this.audit.appendSync({
          at: now,
          actor: write.actor,
          route: r.id,
          action: 'apply',
          before,
          after: this.getSync(r.id) ?? null,
          reason: write.reason,
          details: r.details,
        });
      }
      if (write.upstreams) {
        this.setUpstreams(write.upstreams.next);
        this.audit.appendSync({
          at: now,
          actor: write.actor,
          route: null,
          action: 'apply.upstreams',
          before: null,
          after: null,
          reason: write.reason,
          details: write.upstreams.details,
        });
      }
      this.bumpTable();
      return this.versionSync();
    });
    // Recorded after commit, as flip does: the generation this process has
    // seen, so a store that later goes back is noticed (store/generation.ts).
    this.integrity.changed(generation);
    return generation;
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
