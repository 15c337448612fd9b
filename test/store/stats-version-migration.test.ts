/**
 * Issue 29: stats windows now carry the route version they were recorded
 * under, and the version is part of a window's key. A SQLite file written by
 * an older strangler (schema 3: no version column, key without it) must open
 * with every window kept, read back version-less (judged by time, as before),
 * and take versioned windows beside them.
 */
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, openSqliteStore } from '../../store/sqlite/index.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('strangler-stats-migration-');
afterAll(() => tmp.cleanup());

/** The stats table as schema 3 wrote it, with one window in it. */
function writeSchema3Stats(file: string, start: number): void {
  const db = new Database(file);
  db.exec(`DROP TABLE stats_windows;
  CREATE TABLE stats_windows (
    route TEXT NOT NULL,
    target TEXT NOT NULL,
    instance TEXT NOT NULL,
    start INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    failovers INTEGER NOT NULL,
    buckets TEXT NOT NULL,
    PRIMARY KEY (route, target, instance, start)
  );
  CREATE INDEX stats_start ON stats_windows(start);`);
  db.prepare('INSERT INTO stats_windows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
    'block',
    'service',
    'p1',
    start,
    1000,
    25,
    5,
    0,
    '[25]',
  );
  db.pragma('user_version = 3');
  db.close();
}

describe('a schema 3 SQLite store (stats windows without a route version)', () => {
  it('opens with its windows kept as version-less, and stores versioned windows beside them', async () => {
    const file = `${tmp.dir}/state.db`;
    const start = 1_700_000_000_000;
    const first = openSqliteStore(file);
    await first.routes.seed([{ id: 'block', mode: 'canary', weight: 5 }], 'config');
    await first.close();
    writeSchema3Stats(file, start);

    const store = openSqliteStore(file, { create: false });
    try {
      const [old] = await store.stats.query({ route: 'block', since: 0 });
      expect(old).toEqual({
        route: 'block',
        target: 'service',
        instance: 'p1',
        start,
        durationMs: 1000,
        requests: 25,
        errors: 5,
        failovers: 0,
        buckets: [25],
      });
      // Same route, target, instance and start, recorded under version 2: its own window.
      await store.stats.add([{ ...old, version: 2, requests: 3, errors: 0, buckets: [3] }]);
      // A version-less flush (a proxy not yet upgraded) still merges into the old window.
      await store.stats.add([{ ...old, requests: 1, errors: 1, buckets: [1] }]);
      expect(await store.stats.query({ route: 'block', since: 0 })).toEqual([
        { ...old, requests: 26, errors: 6, buckets: [26] },
        { ...old, version: 2, requests: 3, errors: 0, buckets: [3] },
      ]);
      expect(await store.routes.get('block')).toMatchObject({ mode: 'canary', version: 1 });
    } finally {
      await store.close();
    }
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });
});
